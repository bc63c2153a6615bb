#include "scheduler/http/device_config_file.h"

#include <sys/stat.h>

#include "config/config_loader.h"

namespace npushare::scheduler::http {

std::string DeviceConfigFile::StampOf() const {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) {
    return "absent";
  }
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" +
         std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec);
}

Result<std::unique_ptr<DeviceConfigFile>> DeviceConfigFile::Load(std::string path) {
  std::unique_ptr<DeviceConfigFile> out(new DeviceConfigFile(std::move(path)));
  const std::string stamp = out->StampOf();
  NPUSHARE_ASSIGN_OR_RETURN(config::DeviceConfig cfg,
                            config::LoadDeviceConfigFile(out->path_, nullptr));
  out->config_ = std::make_shared<const config::DeviceConfig>(std::move(cfg));
  out->stamp_ = stamp;
  return out;
}

std::shared_ptr<const config::DeviceConfig> DeviceConfigFile::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return config_;
}

Result<bool> DeviceConfigFile::ReloadIfChanged() {
  const std::string stamp = StampOf();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stamp == stamp_) {
      return false;
    }
    stamp_ = stamp;  // a bad file is retried on its next change, not every poll
  }
  NPUSHARE_ASSIGN_OR_RETURN(config::DeviceConfig cfg, config::LoadDeviceConfigFile(path_, nullptr));
  std::lock_guard<std::mutex> lock(mu_);
  config_ = std::make_shared<const config::DeviceConfig>(std::move(cfg));
  return true;
}

}  // namespace npushare::scheduler::http
