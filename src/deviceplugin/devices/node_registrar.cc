#include "deviceplugin/devices/node_registrar.h"

#include <time.h>

#include <iostream>

#include "deviceplugin/devices/registration.h"
#include "kube/resource.h"

namespace npushare::deviceplugin::devices {

int64_t LocalCivilSeconds(std::chrono::system_clock::time_point t) {
  const time_t unix_seconds = std::chrono::system_clock::to_time_t(t);
  struct tm local {};
  if (localtime_r(&unix_seconds, &local) == nullptr) {
    return static_cast<int64_t>(unix_seconds);
  }
  return static_cast<int64_t>(unix_seconds) + local.tm_gmtoff;
}

NodeRegistrar::NodeRegistrar(NodeRegistrarOptions options, const DeviceSnapshotSource& devices,
                             kube::KubeClient& client, kube::Clock& clock)
    : options_(std::move(options)), devices_(devices), client_(client), clock_(clock) {}

NodeRegistrar::~NodeRegistrar() {
  Stop();
}

Status NodeRegistrar::RegisterOnce() {
  std::shared_ptr<const NodeDevices> nd = devices_.Current();
  if (nd == nullptr) {
    return FailedPreconditionError("no device snapshot yet");
  }
  const auto wall = clock_.WallNow() + options_.report_time_offset;
  const int64_t civil =
      options_.civil_seconds ? options_.civil_seconds(wall) : LocalCivilSeconds(wall);
  Status s = client_
                 .Patch(kube::kNodes, "", options_.node_name, kube::PatchType::kMerge,
                        RegistrationPatch(*nd, civil))
                 .status();
  MutexLock lock(&mu_);
  ++(s.ok() ? successes_ : failures_);
  return s;
}

std::chrono::milliseconds NodeRegistrar::Tick() {
  Status s = RegisterOnce();
  if (s.ok()) {
    return options_.period;
  }
  const std::string line = "registering node " + options_.node_name + " failed (retry in " +
                           std::to_string(options_.retry_period.count()) + " ms): " + s.ToString();
  if (options_.log) {
    options_.log(line);
  } else {
    std::cerr << "registrar: " << line << "\n";
  }
  return options_.retry_period;
}

void NodeRegistrar::Start() {
  MutexLock lock(&mu_);
  if (thread_.joinable() || stopping_) {
    return;
  }
  thread_ = std::thread([this] { Run(); });
}

void NodeRegistrar::Nudge() {
  {
    MutexLock lock(&mu_);
    nudged_ = true;
  }
  cv_.NotifyAll();
}

void NodeRegistrar::Stop() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.NotifyAll();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void NodeRegistrar::Run() {
  std::chrono::milliseconds delay = options_.first_delay;
  MutexLock lock(&mu_);
  for (;;) {
    cv_.WaitFor(&mu_, delay, [this]() NPUSHARE_REQUIRES(mu_) { return stopping_ || nudged_; });
    if (stopping_) {
      return;
    }
    nudged_ = false;
    lock.Unlock();
    delay = Tick();
    lock.Lock();
  }
}

uint64_t NodeRegistrar::Successes() const {
  MutexLock lock(&mu_);
  return successes_;
}

uint64_t NodeRegistrar::Failures() const {
  MutexLock lock(&mu_);
  return failures_;
}

}  // namespace npushare::deviceplugin::devices
