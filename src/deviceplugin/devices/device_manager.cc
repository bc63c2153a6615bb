#include "deviceplugin/devices/device_manager.h"

#include <sys/stat.h>

#include <iostream>

#include "config/config_loader.h"
#include "deviceplugin/devices/node_devices.h"

namespace npushare::deviceplugin::devices {

bool SameDevices(const NodeDevices& a, const NodeDevices& b) {
  if (a.common_word != b.common_word || a.resource_name != b.resource_name ||
      a.memory_mb != b.memory_mb || a.aicore != b.aicore || a.vdevice_count != b.vdevice_count ||
      a.hami_vnpu_core != b.hami_vnpu_core || a.chips.size() != b.chips.size()) {
    return false;
  }
  for (size_t i = 0; i < a.chips.size(); ++i) {
    const Chip& x = a.chips[i];
    const Chip& y = b.chips[i];
    if (x.index != y.index || x.logic_id != y.logic_id || x.phys_id != y.phys_id ||
        x.card_id != y.card_id || x.device_id != y.device_id || x.uuid != y.uuid ||
        x.chip_name != y.chip_name || x.healthy != y.healthy) {
      return false;
    }
  }
  return true;
}

DeviceManager::DeviceManager(DeviceManagerOptions options, Dcmi& dcmi)
    : options_(std::move(options)), dcmi_(dcmi) {}

DeviceManager::~DeviceManager() {
  Stop();
}

void DeviceManager::AddListener(Listener listener) {
  listeners_.push_back(std::move(listener));
}

void DeviceManager::Log(const std::string& line) const {
  if (options_.log) {
    options_.log(line);
  } else {
    std::cerr << "devices: " << line << "\n";
  }
}

DeviceManager::FileStamp DeviceManager::Stamp(const std::string& path) {
  FileStamp s;
  struct stat st {};
  if (path.empty() || stat(path.c_str(), &st) != 0) {
    return s;
  }
  s.exists = true;
  s.dev = st.st_dev;
  s.ino = st.st_ino;
  s.size = st.st_size;
  s.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return s;
}

Result<std::shared_ptr<const config::NodeConfig>> DeviceManager::LoadNodeConfig() const {
  if (options_.node_config_path.empty()) {
    return std::shared_ptr<const config::NodeConfig>();
  }
  Result<config::NodeConfig> nc = config::LoadNodeConfigFile(options_.node_config_path, nullptr);
  if (nc.status().code() == StatusCode::kNotFound) {
    return std::shared_ptr<const config::NodeConfig>();  // optional file: no entries
  }
  NPUSHARE_RETURN_IF_ERROR(nc.status());
  return std::shared_ptr<const config::NodeConfig>(
      std::make_shared<config::NodeConfig>(std::move(*nc)));
}

Status DeviceManager::Initialize() {
  MutexLock poll(&poll_mu_);
  if (initialized_) {
    return OkStatus();
  }
  const FileStamp device_stamp = Stamp(options_.device_config_path);
  const FileStamp node_stamp = Stamp(options_.node_config_path);
  NPUSHARE_ASSIGN_OR_RETURN(config::DeviceConfig dc,
                            config::LoadDeviceConfigFile(options_.device_config_path, nullptr));
  NPUSHARE_ASSIGN_OR_RETURN(node_config_, LoadNodeConfig());
  NPUSHARE_RETURN_IF_ERROR(dcmi_.Init());
  NPUSHARE_ASSIGN_OR_RETURN(chips_, DiscoverChips(dcmi_));
  NPUSHARE_ASSIGN_OR_RETURN(NodeDevices nd,
                            BuildNodeDevices(chips_, dc, node_config_.get(), options_.node_name));
  size_t left_out = 0;
  for (const DiscoveredChip& c : chips_) {
    left_out += c.chip_name != chips_.front().chip_name ? 1 : 0;
  }
  if (left_out > 0) {
    Log(std::to_string(left_out) + " chip(s) of another model than " + nd.common_word +
        " are not served (one model per node)");
  }
  Log("discovered " + std::to_string(chips_.size()) + " chip(s); serving " +
      std::to_string(nd.chips.size()) + " as " + nd.resource_name + ", " +
      std::to_string(nd.vdevice_count) + " slot(s) each" +
      (nd.hami_vnpu_core ? ", soft slicing (hami-vnpu-core)" : ""));
  device_stamp_ = device_stamp;
  node_stamp_ = node_stamp;
  {
    MutexLock lock(&mu_);
    device_config_ = std::make_shared<config::DeviceConfig>(std::move(dc));
    current_ = std::make_shared<NodeDevices>(std::move(nd));
  }
  initialized_ = true;
  return OkStatus();
}

Status DeviceManager::Start() {
  NPUSHARE_RETURN_IF_ERROR(Initialize());
  MutexLock lock(&mu_);
  if (thread_.joinable() || stopping_) {
    return OkStatus();
  }
  thread_ = std::thread([this] { Run(); });
  return OkStatus();
}

void DeviceManager::Stop() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.NotifyAll();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) {
    thread_.join();
  }
}

void DeviceManager::Run() {
  MutexLock lock(&mu_);
  while (!cv_.WaitFor(&mu_, options_.poll_interval,
                      [this]() NPUSHARE_REQUIRES(mu_) { return stopping_; })) {
    lock.Unlock();
    PollOnce();
    lock.Lock();
  }
}

bool DeviceManager::ReloadConfigs() {
  const FileStamp device_stamp = Stamp(options_.device_config_path);
  const FileStamp node_stamp = Stamp(options_.node_config_path);
  bool adopted = false;
  if (!(device_stamp == device_stamp_)) {
    device_stamp_ = device_stamp;  // judge each version of the file once
    Result<config::DeviceConfig> dc =
        config::LoadDeviceConfigFile(options_.device_config_path, nullptr);
    if (dc.ok()) {
      MutexLock lock(&mu_);
      device_config_ = std::make_shared<config::DeviceConfig>(std::move(*dc));
      adopted = true;
    } else {
      {
        MutexLock lock(&mu_);
        ++reload_failures_;
      }
      Log("keeping the last good device config: " + options_.device_config_path + ": " +
          dc.status().ToString());
    }
  }
  if (!(node_stamp == node_stamp_)) {
    node_stamp_ = node_stamp;
    Result<std::shared_ptr<const config::NodeConfig>> nc = LoadNodeConfig();
    if (nc.ok()) {
      node_config_ = std::move(*nc);
      adopted = true;
    } else {
      {
        MutexLock lock(&mu_);
        ++reload_failures_;
      }
      Log("keeping the last good node config: " + options_.node_config_path + ": " +
          nc.status().ToString());
    }
  }
  return adopted;
}

bool DeviceManager::Rebuild() {
  std::shared_ptr<const config::DeviceConfig> dc = CurrentDeviceConfig();
  Result<NodeDevices> nd = BuildNodeDevices(chips_, *dc, node_config_.get(), options_.node_name);
  if (!nd.ok()) {
    // A new config without this node's chip: keep serving what we have.
    Log("keeping the current devices: " + nd.status().ToString());
    return false;
  }
  std::shared_ptr<const NodeDevices> next = std::make_shared<NodeDevices>(std::move(*nd));
  {
    MutexLock lock(&mu_);
    if (current_ != nullptr && SameDevices(*current_, *next)) {
      return false;
    }
    current_ = next;
  }
  for (const Listener& l : listeners_) {
    l(next);
  }
  return true;
}

bool DeviceManager::PollOnce() {
  MutexLock poll(&poll_mu_);
  if (!initialized_) {
    return false;
  }
  const bool config_changed = ReloadConfigs();
  std::vector<DiscoveredChip> before = chips_;
  const bool health_changed = RefreshHealth(dcmi_, chips_);
  if (health_changed) {
    for (size_t i = 0; i < chips_.size(); ++i) {
      if (before[i].health_code != chips_[i].health_code) {
        Log("chip " + chips_[i].uuid + " (phys " + std::to_string(chips_[i].phys_id) + ") health " +
            std::to_string(before[i].health_code) + " -> " + std::to_string(chips_[i].health_code));
      }
    }
  }
  if (!config_changed && !health_changed) {
    return false;
  }
  return Rebuild();
}

std::shared_ptr<const NodeDevices> DeviceManager::Current() const {
  MutexLock lock(&mu_);
  return current_;
}

std::shared_ptr<const config::DeviceConfig> DeviceManager::CurrentDeviceConfig() const {
  MutexLock lock(&mu_);
  return device_config_;
}

uint64_t DeviceManager::ConfigReloadFailures() const {
  MutexLock lock(&mu_);
  return reload_failures_;
}

}  // namespace npushare::deviceplugin::devices
