// File: scheduler/http/device_config_file.h
//
// DeviceConfigFile: the device config the admission webhook reads, loaded from
// --device-config-file through the one config loader (config/config_loader.h) and re-read when
// the file changes (a ConfigMap volume update swaps a symlink, so (dev, inode, size, mtime) of
// the path are compared through stat()). A bad new file keeps the last good config; the error
// is returned for the caller to log.
//
// (SchedulerService loads the same file for Filter/Bind; when it exposes its config this class
// can be replaced by a DeviceConfigSource reading the service's.)
//
// Thread safety: safe for concurrent use.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "common/status.h"
#include "config/device_config.h"

namespace npushare::scheduler::http {

class DeviceConfigFile {
 public:
  // Load: the first config; the loader's error (kNotFound, kInvalidArgument) otherwise.
  static Result<std::unique_ptr<DeviceConfigFile>> Load(std::string path);

  // Current: the config in force; never null after Load.
  std::shared_ptr<const config::DeviceConfig> Current() const;

  // ReloadIfChanged: true when the file changed and the new config is in force, false when
  // unchanged, the loader's error when the new file is bad (the old config stays).
  Result<bool> ReloadIfChanged();

 private:
  explicit DeviceConfigFile(std::string path) : path_(std::move(path)) {}
  std::string StampOf() const;

  const std::string path_;
  mutable std::mutex mu_;
  std::shared_ptr<const config::DeviceConfig> config_;  // guarded by mu_
  std::string stamp_;                                   // guarded by mu_
};

}  // namespace npushare::scheduler::http
