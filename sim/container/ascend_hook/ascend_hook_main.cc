// npushare-ascend-hook: the `ascend` RuntimeClass for the kubelet stand-in's containers,
// against npu-sim (or a real driver's libdcmi.so). See ascend_contract.h and docs/npu-sim.md
// "Ascend runtime".
//
//   npushare-ascend-hook create --bundle DIR [--driver-dir DIR]...   (run by the runtime)
//   npushare-ascend-hook createRuntime     (OCI hook; the container state JSON on stdin)
//   npushare-ascend-hook poststop          (OCI hook; the container state JSON on stdin)
//
// libdcmi.so is found through LD_LIBRARY_PATH (the runtime passes its driver_env), or
// NPUSHARE_DCMI_LIBRARY when set. Exit 0 on success; 1 with a message on stderr otherwise;
// 2 for a usage error.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "common/atomic_file.h"
#include "common/file_reader.h"
#include "sim/container/ascend_hook/ascend_contract.h"
#include "sim/container/ascend_hook/dcmi_vnpu_driver.h"

namespace npushare::container_sim {
namespace {

constexpr char kRecord[] = "ascend-vnpu.json";
constexpr size_t kMaxConfig = 16 << 20;
constexpr size_t kMaxState = 64 << 10;

Result<std::unique_ptr<DcmiVnpuDriver>> OpenDriver() {
  const char* lib = getenv("NPUSHARE_DCMI_LIBRARY");
  return DcmiVnpuDriver::Open(lib != nullptr && *lib != '\0' ? lib : "libdcmi.so");
}

Result<nlohmann::json> ReadJson(const std::string& path, size_t limit) {
  NPUSHARE_ASSIGN_OR_RETURN(std::string text, ReadFileLimited(path, limit));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgumentError(path + " is not a JSON object");
  }
  return j;
}

Result<std::string> ReadStdin() {
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = read(0, buf, sizeof(buf))) > 0) {
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxState) {
      return InvalidArgumentError("OCI state on stdin is larger than 64 KiB");
    }
  }
  return text;
}

// StateDir: npu-sim's state directory as the simulator's libraries resolve it.
std::string StateDir() {
  const char* s = getenv("NPU_SIM_STATE");
  if (s != nullptr && *s != '\0') {
    return s;
  }
  const char* xdg = getenv("XDG_RUNTIME_DIR");
  std::string dir = xdg != nullptr && *xdg != '\0' ? std::string(xdg) + "/npu-sim"
                                                   : "/tmp/npu-sim-" + std::to_string(getuid());
  return access(dir.c_str(), F_OK) == 0 ? dir : "";
}

bool CleanAbsolute(const std::string& p) {
  return !p.empty() && p[0] == '/' && p.find("/../") == std::string::npos &&
         p.find("/./") == std::string::npos && p.size() < 4096 &&
         !(p.size() >= 3 && p.compare(p.size() - 3, 3, "/..") == 0);
}

Status Create(const std::vector<std::string>& args) {
  CreateInputs in;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& flag = args[i];
    if ((flag != "--bundle" && flag != "--driver-dir") || i + 1 == args.size()) {
      return InvalidArgumentError("create: unexpected argument '" + flag.substr(0, 64) + "'");
    }
    const std::string& value = args[++i];
    if (!CleanAbsolute(value)) {
      return InvalidArgumentError(flag + " '" + value.substr(0, 128) +
                                  "' is not a clean absolute path");
    }
    if (flag == "--bundle") {
      in.bundle_dir = value;
    } else {
      in.driver_dirs.push_back(value);
    }
  }
  if (in.bundle_dir.empty()) {
    return InvalidArgumentError("create: --bundle is required");
  }
  in.state_dir = StateDir();
  std::string config_path = in.bundle_dir + "/config.json";
  NPUSHARE_ASSIGN_OR_RETURN(nlohmann::json config, ReadJson(config_path, kMaxConfig));
  NPUSHARE_ASSIGN_OR_RETURN(auto driver, OpenDriver());
  std::string record_path = in.bundle_dir + "/" + kRecord;
  try {
    NPUSHARE_RETURN_IF_ERROR(ApplyCreate(in, *driver, &config, [&](const nlohmann::json& rec) {
      return WriteFileAtomically(record_path, rec.dump(), 0600);
    }));
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgumentError(config_path + ": " + e.what());
  }
  return WriteFileAtomically(config_path, config.dump(2), 0600);
}

Status CreateRuntime() {
  NPUSHARE_ASSIGN_OR_RETURN(std::string state, ReadStdin());
  NPUSHARE_ASSIGN_OR_RETURN(std::string bundle, BundleFromState(state));
  NPUSHARE_ASSIGN_OR_RETURN(nlohmann::json config, ReadJson(bundle + "/config.json", kMaxConfig));
  std::optional<nlohmann::json> record;
  if (access((bundle + "/" + kRecord).c_str(), F_OK) == 0) {
    NPUSHARE_ASSIGN_OR_RETURN(record, ReadJson(bundle + "/" + kRecord, 4096));
  }
  NPUSHARE_ASSIGN_OR_RETURN(auto driver, OpenDriver());
  try {
    return CheckCreateRuntime(config, record, *driver);
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgumentError(std::string("bad config or vNPU record: ") + e.what());
  }
}

Status Poststop() {
  NPUSHARE_ASSIGN_OR_RETURN(std::string state, ReadStdin());
  NPUSHARE_ASSIGN_OR_RETURN(std::string bundle, BundleFromState(state));
  std::string record_path = bundle + "/" + kRecord;
  if (access(record_path.c_str(), F_OK) != 0) {
    return OkStatus();  // no vNPU (or already destroyed)
  }
  NPUSHARE_ASSIGN_OR_RETURN(nlohmann::json record, ReadJson(record_path, 4096));
  NPUSHARE_ASSIGN_OR_RETURN(auto driver, OpenDriver());
  try {
    NPUSHARE_RETURN_IF_ERROR(DestroyRecorded(record, *driver, std::chrono::seconds(5)));
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgumentError(record_path + ": " + e.what());
  }
  if (unlink(record_path.c_str()) != 0 && errno != ENOENT) {  // ENOENT: a concurrent poststop
    return FileSystemError(errno, "remove " + record_path);
  }
  return OkStatus();
}

int Main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: npushare-ascend-hook create --bundle DIR [--driver-dir DIR]... | "
                 "createRuntime | poststop\n";
    return 2;
  }
  std::string cmd = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  Status s;
  if (cmd == "create") {
    s = Create(args);
  } else if ((cmd == "createRuntime" || cmd == "poststop") && args.empty()) {
    s = cmd == "createRuntime" ? CreateRuntime() : Poststop();
  } else {
    std::cerr << "npushare-ascend-hook: unknown command or extra arguments: " << cmd << "\n";
    return 2;
  }
  if (!s.ok()) {
    std::cerr << "npushare-ascend-hook " << cmd << ": " << s.ToString() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace npushare::container_sim

int main(int argc, char** argv) {
  return npushare::container_sim::Main(argc, argv);
}
