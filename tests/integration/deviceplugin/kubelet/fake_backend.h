// Test helper: FakeAllocateBackend, an AllocateBackend that answers from a script and records
// every call, for driving PluginServer / PluginFleet over the real wire.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "deviceplugin/plugin_device.h"

namespace npushare::deviceplugin::testing {

class FakeAllocateBackend : public AllocateBackend {
 public:
  struct AllocateCall {
    std::string resource;
    std::vector<std::string> ids;
  };
  struct PreferredCall {
    std::string resource;
    std::vector<std::string> available;
    std::vector<std::string> must_include;
    int32_t size = 0;
  };

  // SetAllocation / SetError: what AllocateContainer answers (the error wins when set).
  void SetAllocation(ContainerAllocation a) {
    std::lock_guard g(mu_);
    allocation_ = std::move(a);
  }
  void SetError(std::optional<Status> s) {
    std::lock_guard g(mu_);
    error_ = std::move(s);
  }
  // SetPreference: what PreferredAllocation answers.
  void SetPreference(std::vector<std::string> ids) {
    std::lock_guard g(mu_);
    preference_ = std::move(ids);
  }

  Result<ContainerAllocation> AllocateContainer(const std::string& resource,
                                                const std::vector<std::string>& ids) override {
    std::lock_guard g(mu_);
    allocate_calls_.push_back({resource, ids});
    if (error_.has_value()) {
      return *error_;
    }
    return allocation_;
  }
  std::vector<std::string> PreferredAllocation(const std::string& resource,
                                               const std::vector<std::string>& available,
                                               const std::vector<std::string>& must_include,
                                               int32_t size) override {
    std::lock_guard g(mu_);
    preferred_calls_.push_back({resource, available, must_include, size});
    return preference_;
  }

  std::vector<AllocateCall> allocate_calls() const {
    std::lock_guard g(mu_);
    return allocate_calls_;
  }
  std::vector<PreferredCall> preferred_calls() const {
    std::lock_guard g(mu_);
    return preferred_calls_;
  }

 private:
  mutable std::mutex mu_;
  ContainerAllocation allocation_;
  std::optional<Status> error_;
  std::vector<std::string> preference_;
  std::vector<AllocateCall> allocate_calls_;
  std::vector<PreferredCall> preferred_calls_;
};

// Devices: n devices "<prefix>-<k>", all healthy.
inline std::vector<PluginDevice> Devices(const std::string& prefix, int n) {
  std::vector<PluginDevice> out;
  for (int k = 0; k < n; ++k) {
    out.push_back(PluginDevice{prefix + "-" + std::to_string(k), true});
  }
  return out;
}

}  // namespace npushare::deviceplugin::testing
