#include "sim/container/ascend_hook/ascend_contract.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <chrono>
#include <set>
#include <sstream>
#include <thread>

#include "state/visibility.h"

namespace npushare::container_sim {
namespace {

constexpr const char* kTemplates[] = {
    "vir01",        "vir02",          "vir04",        "vir08",         "vir16",
    "vir02_1c",     "vir03_1c_8g",    "vir04_3c",     "vir04_4c_dvpp", "vir04_3c_ndvpp",
    "vir05_1c_8g",  "vir05_1c_16g",   "vir06_1c_16g", "vir10_3c_16g",  "vir10_3c_16g_nm",
    "vir10_3c_32g", "vir10_4c_16g_m", "vir12_3c_32g"};

constexpr const char* kManagementDevices[] = {"/dev/davinci_manager", "/dev/devmm_svm",
                                              "/dev/hisi_hdc", "/dev/dvpp_cmdlist"};

std::string JoinIds(const std::vector<uint32_t>& ids) {
  std::string out;
  for (uint32_t id : ids) {
    out += (out.empty() ? "" : ",") + std::to_string(id);
  }
  return out;
}

// AddDevice: host node `host` (if it exists and is a device) as `inside`, with a cgroup rule.
void AddDevice(nlohmann::json* config, const std::string& host, const std::string& inside) {
  struct stat st;
  if (stat(host.c_str(), &st) != 0 || (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))) {
    return;
  }
  std::string type = S_ISCHR(st.st_mode) ? "c" : "b";
  int64_t maj = major(st.st_rdev);
  int64_t min = minor(st.st_rdev);
  nlohmann::json& linux = (*config)["linux"];
  linux["devices"].push_back({{"path", inside},
                              {"type", type},
                              {"major", maj},
                              {"minor", min},
                              {"fileMode", st.st_mode & 0777},
                              {"uid", 0},
                              {"gid", 0}});
  linux["resources"]["devices"].push_back(
      {{"allow", true}, {"type", type}, {"major", maj}, {"minor", min}, {"access", "rwm"}});
}

void AddBind(nlohmann::json* config, const std::string& path, bool read_only) {
  (*config)["mounts"].push_back(
      {{"destination", path},
       {"type", "bind"},
       {"source", path},
       {"options", {"rbind", read_only ? "ro" : "rw", "nosuid", "nodev"}}});
}

std::vector<std::string> EnvOf(const nlohmann::json& config) {
  return config.at("process").value("env", std::vector<std::string>{});
}

}  // namespace

Result<AscendOptions> ParseRuntimeOptions(const std::string& text) {
  AscendOptions out;
  if (text.empty()) {
    return out;
  }
  std::stringstream ss(text);
  std::string token;
  std::set<std::string> seen;
  while (std::getline(ss, token, ',')) {
    if (!seen.insert(token).second) {
      return InvalidArgumentError("ASCEND_RUNTIME_OPTIONS '" + text + "': " + token +
                                  " given twice");
    }
    if (token == "NODRV") {
      out.nodrv = true;
    } else if (token == "VIRTUAL") {
      out.virtual_ids = true;
    } else {
      return InvalidArgumentError("ASCEND_RUNTIME_OPTIONS '" + text.substr(0, 64) +
                                  "': only NODRV, VIRTUAL or NODRV,VIRTUAL are accepted");
    }
  }
  if (text.back() == ',') {
    return InvalidArgumentError("ASCEND_RUNTIME_OPTIONS '" + text + "': trailing comma");
  }
  return out;
}

bool IsAllowedVnpuTemplate(const std::string& name) {
  for (const char* t : kTemplates) {
    if (name == t) {
      return true;
    }
  }
  return false;
}

std::optional<std::string> LastEnv(const std::vector<std::string>& env, const std::string& key) {
  std::optional<std::string> out;
  for (const auto& kv : env) {
    if (kv.size() > key.size() && kv.compare(0, key.size(), key) == 0 && kv[key.size()] == '=') {
      out = kv.substr(key.size() + 1);
    }
  }
  return out;
}

void SetEnv(std::vector<std::string>* env, const std::string& key, const std::string& value) {
  std::vector<std::string> out;
  for (auto& kv : *env) {
    if (!(kv.size() > key.size() && kv.compare(0, key.size(), key) == 0 && kv[key.size()] == '=')) {
      out.push_back(std::move(kv));
    }
  }
  out.push_back(key + "=" + value);
  *env = std::move(out);
}

Result<std::string> BundleFromState(const std::string& state_text) {
  if (state_text.size() > 64 * 1024) {
    return InvalidArgumentError("OCI state on stdin is larger than 64 KiB");
  }
  nlohmann::json state = nlohmann::json::parse(state_text, nullptr, false);
  if (state.is_discarded() || !state.is_object()) {
    return InvalidArgumentError("OCI state on stdin is not a JSON object");
  }
  auto it = state.find("bundle");
  if (it == state.end() || !it->is_string()) {
    return InvalidArgumentError("OCI state has no \"bundle\" string");
  }
  std::string bundle = it->get<std::string>();
  if (bundle.empty() || bundle[0] != '/' || bundle.find("/../") != std::string::npos ||
      bundle.size() > 4096 ||
      (bundle.size() >= 3 && bundle.compare(bundle.size() - 3, 3, "/..") == 0)) {
    return InvalidArgumentError("OCI state bundle '" + bundle.substr(0, 128) +
                                "' is not a clean absolute path");
  }
  return bundle;
}

Status ApplyCreate(const CreateInputs& in, VnpuDriver& driver, nlohmann::json* config,
                   const std::function<Status(const nlohmann::json&)>& record) {
  if (!config->is_object() || !config->contains("process") || !(*config)["process"].is_object()) {
    return InvalidArgumentError("config.json has no process object");
  }
  std::vector<std::string> env = EnvOf(*config);
  std::string visible = LastEnv(env, "ASCEND_VISIBLE_DEVICES").value_or("");
  NPUSHARE_ASSIGN_OR_RETURN(
      AscendOptions options,
      ParseRuntimeOptions(LastEnv(env, "ASCEND_RUNTIME_OPTIONS").value_or("")));
  Result<std::vector<uint32_t>> parsed = sim::ParseDeviceList(visible);
  if (!parsed.ok()) {
    return parsed.status().WithContext("ASCEND_VISIBLE_DEVICES '" + visible.substr(0, 64) + "'");
  }
  std::vector<uint32_t> ids = *parsed;
  std::string tmpl = LastEnv(env, "ASCEND_VNPU_SPECS").value_or("");
  if (!tmpl.empty()) {
    if (!IsAllowedVnpuTemplate(tmpl)) {
      return InvalidArgumentError("ASCEND_VNPU_SPECS '" + tmpl.substr(0, 64) +
                                  "' is not an accepted vNPU template");
    }
    if (ids.size() != 1) {
      return InvalidArgumentError(
          "ASCEND_VNPU_SPECS needs exactly one device in "
          "ASCEND_VISIBLE_DEVICES (got '" +
          visible.substr(0, 64) + "')");
    }
    if (options.virtual_ids) {
      return InvalidArgumentError(
          "ASCEND_VNPU_SPECS cannot be combined with ASCEND_RUNTIME_OPTIONS VIRTUAL");
    }
    NPUSHARE_ASSIGN_OR_RETURN(ChipLocation chip, driver.Locate(ids[0]));
    NPUSHARE_ASSIGN_OR_RETURN(uint32_t vid, driver.CreateVnpu(chip, tmpl));
    nlohmann::json rec = {{"card", chip.card},
                          {"device", chip.device},
                          {"vdev_id", vid},
                          {"phy_id", ids[0]},
                          {"template", tmpl}};
    Status recorded = record(rec);
    if (!recorded.ok()) {
      driver.DestroyVnpu(chip, vid).IgnoreError();
      return recorded;
    }
    ids = {vid};
    options.virtual_ids = true;
  } else if (!options.virtual_ids) {
    for (uint32_t id : ids) {
      NPUSHARE_RETURN_IF_ERROR(driver.Locate(id).status());
    }
  }
  // Unset means "no chips" to the real runtime (nothing is mounted) but "every chip" to
  // npu-sim, so the container always gets the variable, "void" when empty.
  SetEnv(&env, "ASCEND_VISIBLE_DEVICES", ids.empty() ? "void" : JoinIds(ids));
  std::string opts = options.nodrv && options.virtual_ids ? "NODRV,VIRTUAL"
                     : options.nodrv                      ? "NODRV"
                     : options.virtual_ids                ? "VIRTUAL"
                                                          : "";
  if (!opts.empty() || LastEnv(env, "ASCEND_RUNTIME_OPTIONS").has_value()) {
    SetEnv(&env, "ASCEND_RUNTIME_OPTIONS", opts);
  }
  if (LastEnv(env, "ASCEND_VNPU_SPECS").has_value()) {
    SetEnv(&env, "ASCEND_VNPU_SPECS", tmpl);
  }
  (*config)["process"]["env"] = env;

  for (uint32_t id : ids) {
    std::string host =
        (options.virtual_ids ? "/dev/vdavinci" : "/dev/davinci") + std::to_string(id);
    AddDevice(config, host, "/dev/davinci" + std::to_string(id));
  }
  if (!ids.empty()) {
    for (const char* dev : kManagementDevices) {
      AddDevice(config, dev, dev);
    }
  }
  if (!options.nodrv) {
    for (const auto& d : in.driver_dirs) {
      AddBind(config, d, true);
    }
  }
  if (!in.state_dir.empty()) {
    AddBind(config, in.state_dir, false);
  }
  return OkStatus();
}

Status CheckCreateRuntime(const nlohmann::json& config, const std::optional<nlohmann::json>& record,
                          VnpuDriver& driver) {
  if (!config.is_object() || !config.contains("process")) {
    return InvalidArgumentError("config.json has no process object");
  }
  std::vector<std::string> env = EnvOf(config);
  NPUSHARE_ASSIGN_OR_RETURN(
      AscendOptions options,
      ParseRuntimeOptions(LastEnv(env, "ASCEND_RUNTIME_OPTIONS").value_or("")));
  if (options.virtual_ids) {
    if (record.has_value()) {
      return driver.Locate(record->at("phy_id").get<uint32_t>()).status();
    }
    return OkStatus();  // a vNPU made outside this runtime: nothing to check it against
  }
  NPUSHARE_ASSIGN_OR_RETURN(
      std::vector<uint32_t> ids,
      sim::ParseDeviceList(LastEnv(env, "ASCEND_VISIBLE_DEVICES").value_or("")));
  for (uint32_t id : ids) {
    NPUSHARE_RETURN_IF_ERROR(driver.Locate(id).status());
  }
  return OkStatus();
}

Status DestroyRecorded(const nlohmann::json& record, VnpuDriver& driver,
                       std::chrono::milliseconds busy_timeout) {
  ChipLocation chip{record.at("card").get<int32_t>(), record.at("device").get<int32_t>()};
  uint32_t vid = record.at("vdev_id").get<uint32_t>();
  const auto deadline = std::chrono::steady_clock::now() + busy_timeout;
  while (true) {
    Status s = driver.DestroyVnpu(chip, vid);
    if (s.ok() || s.code() == StatusCode::kNotFound) {
      return OkStatus();
    }
    // A process of the container that just died may still be charged to the slice until the
    // driver notices (npu-sim sweeps dead processes within 100 ms).
    if (s.code() != StatusCode::kAlreadyExists || std::chrono::steady_clock::now() > deadline) {
      return s;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace npushare::container_sim
