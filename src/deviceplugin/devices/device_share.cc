#include "deviceplugin/devices/device_share.h"

#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

namespace npushare::deviceplugin::devices {
namespace {

constexpr const char* kFixedCandidates[] = {
    "/usr/local/Ascend/driver/tools/npu-smi",
    "/usr/local/sbin/npu-smi",
    "/usr/local/bin/npu-smi",
};

// LastLine: the last non-empty line of npu-smi's output (its Status/Message), for the log.
std::string LastLine(const std::string& text) {
  std::istringstream in(text);
  std::string line, last;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") != std::string::npos) {
      last = line;
    }
  }
  return last.substr(0, 200);
}

}  // namespace

Result<std::string> FindNpuSmi() {
  for (const char* c : kFixedCandidates) {
    if (access(c, X_OK) == 0) {
      return std::string(c);
    }
  }
  const char* path = std::getenv("PATH");
  if (path != nullptr) {
    std::istringstream dirs(path);
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
      if (dir.empty()) {
        continue;
      }
      const std::string candidate = dir + "/npu-smi";
      if (access(candidate.c_str(), X_OK) == 0) {
        return candidate;
      }
    }
  }
  return NotFoundError("npu-smi not found (looked in the Ascend driver paths and $PATH)");
}

DeviceShareEnabler::DeviceShareEnabler(DeviceShareOptions options,
                                       const DeviceSnapshotSource& devices, CommandRunner& runner,
                                       kube::KubeClient* events)
    : options_(std::move(options)), devices_(devices), runner_(runner), events_(events) {}

DeviceShareEnabler::~DeviceShareEnabler() {
  Stop();
}

void DeviceShareEnabler::Log(const std::string& line) const {
  if (options_.log) {
    options_.log(line);
  } else {
    std::cerr << "device-share: " << line << "\n";
  }
}

void DeviceShareEnabler::PostEvent(const std::string& message) {
  if (events_ == nullptr) {
    return;
  }
  const nlohmann::json node = {
      {"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", options_.node_name}}}};
  Result<nlohmann::json> r =
      events_->RecordEvent(node, "Warning", "DeviceShareFailed", message, "npushare-device-plugin");
  if (!r.ok()) {
    Log("could not post the Node event: " + r.status().ToString());
  }
}

Status DeviceShareEnabler::EnableOnce() {
  std::shared_ptr<const NodeDevices> nd = devices_.Current();
  if (nd == nullptr || !nd->hami_vnpu_core) {
    return OkStatus();
  }
  std::vector<const Chip*> todo;
  {
    MutexLock lock(&mu_);
    for (const Chip& c : nd->chips) {
      if (enabled_.count(c.uuid) == 0) {
        todo.push_back(&c);
      }
    }
  }
  if (todo.empty()) {
    return OkStatus();
  }
  Status first;
  std::string npu_smi = options_.npu_smi_path;
  if (npu_smi.empty()) {
    Result<std::string> found = FindNpuSmi();
    if (!found.ok()) {
      first = found.status();
    } else {
      npu_smi = *found;
    }
  }
  std::vector<std::string> failed;
  if (first.ok()) {
    for (const Chip* c : todo) {
      const std::vector<std::string> argv = {npu_smi, "set",
                                             "-t",    "device-share",
                                             "-i",    std::to_string(c->card_id),
                                             "-c",    std::to_string(c->device_id),
                                             "-d",    "1"};
      Result<CommandResult> r = runner_.Run(argv, "Y\n", options_.command_timeout);
      Status s;
      if (!r.ok()) {
        s = r.status();
      } else if (r->exit_code != 0) {
        s = InternalError("npu-smi exited " + std::to_string(r->exit_code) + ": " +
                          LastLine(r->output));
      }
      const std::string where = "card " + std::to_string(c->card_id) + " chip " +
                                std::to_string(c->device_id) + " (" + c->uuid + ")";
      if (s.ok()) {
        MutexLock lock(&mu_);
        enabled_.insert(c->uuid);
        continue;
      }
      failed.push_back(where + ": " + s.ToString());
      if (first.ok()) {
        first = s;
      }
    }
  } else {
    failed.push_back(first.ToString());
  }
  int attempts = 0;
  {
    MutexLock lock(&mu_);
    if (first.ok()) {
      consecutive_failures_ = 0;
      return first;
    }
    ++failures_;
    attempts = ++consecutive_failures_;
  }
  std::string message = "enabling device-share for soft slicing failed (attempt " +
                        std::to_string(attempts) + "; retrying with backoff): ";
  for (size_t i = 0; i < failed.size(); ++i) {
    message += (i > 0 ? "; " : "") + failed[i];
  }
  Log(message);
  PostEvent(message);
  return first;
}

std::chrono::milliseconds DeviceShareEnabler::Tick() {
  if (EnableOnce().ok()) {
    return options_.recheck_interval;
  }
  int n = 0;
  {
    MutexLock lock(&mu_);
    n = consecutive_failures_;
  }
  std::chrono::milliseconds d = options_.initial_backoff;
  for (int i = 1; i < n && d < options_.max_backoff; ++i) {
    d *= 2;
  }
  return std::min(d, options_.max_backoff);
}

void DeviceShareEnabler::Start() {
  MutexLock lock(&mu_);
  if (thread_.joinable() || stopping_) {
    return;
  }
  thread_ = std::thread([this] { Run(); });
}

void DeviceShareEnabler::Nudge() {
  {
    MutexLock lock(&mu_);
    nudged_ = true;
  }
  cv_.NotifyAll();
}

void DeviceShareEnabler::Stop() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.NotifyAll();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void DeviceShareEnabler::Run() {
  MutexLock lock(&mu_);
  while (!stopping_) {
    nudged_ = false;
    lock.Unlock();
    const std::chrono::milliseconds delay = Tick();
    lock.Lock();
    cv_.WaitFor(&mu_, delay, [this]() NPUSHARE_REQUIRES(mu_) { return stopping_ || nudged_; });
  }
}

std::set<std::string> DeviceShareEnabler::EnabledChips() const {
  MutexLock lock(&mu_);
  return enabled_;
}

uint64_t DeviceShareEnabler::Failures() const {
  MutexLock lock(&mu_);
  return failures_;
}

}  // namespace npushare::deviceplugin::devices
