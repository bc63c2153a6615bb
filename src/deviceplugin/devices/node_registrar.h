// File: deviceplugin/devices/node_registrar.h
//
// NodeRegistrar: keeps the Node's HAMi registration current, exactly like HAMi's plugin
// (hami-protocol.md §2.1-§2.3, §5.2): one JSON merge patch of the Node carrying
//   hami.io/node-register-<cw>   the device list (registration.h RegisterDeviceInfos),
//   hami.io/node-handshake-<cw>  "Reported_<local time + report_time_offset>",
//   hami-vnpu-core               "true" | "false",
// first `first_delay` after Start(), then every `period` after a success and `retry_period`
// after a failure. Nudge() registers at once (e.g. when a chip's health changed), so the
// scheduler need not wait up to 30 s for a health change.
//
// Usage:
//   NodeRegistrarOptions opts;
//   opts.node_name = node;
//   NodeRegistrar registrar(opts, devices, client);
//   devices.AddListener([&](auto) { registrar.Nudge(); });  // before devices.Start()
//   NPUSHARE_RETURN_IF_ERROR(devices.Start());
//   registrar.Start();  ...  registrar.Stop();
//
// Thread safety: safe for concurrent use. RegisterOnce() may be called from any thread (the
// patch is idempotent); Tick() is meant for one driver (the thread or a test).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "deviceplugin/devices/device_manager.h"
#include "deviceplugin/plugin_device.h"
#include "kube/clock.h"
#include "kube/kube_client.h"

namespace npushare::deviceplugin::devices {

// CivilSecondsFn: wall time -> civil seconds (hami/handshake.h) of the local zone.
using CivilSecondsFn = std::function<int64_t(std::chrono::system_clock::time_point)>;

// LocalCivilSeconds: unix seconds + the local zone's UTC offset at that instant (localtime_r),
// which is how Go's time.Now().Format prints the handshake.
int64_t LocalCivilSeconds(std::chrono::system_clock::time_point t);

struct NodeRegistrarOptions {
  // --- correctness ---
  std::string node_name;  // REQUIRED
  // report_time_offset: added to the handshake time (HAMi's --report_time_offset). Default 1 s.
  std::chrono::seconds report_time_offset{1};
  // civil_seconds: the local-time seam; default LocalCivilSeconds.
  CivilSecondsFn civil_seconds;
  // --- timing (HAMi's values) ---
  std::chrono::milliseconds first_delay{1000};
  std::chrono::milliseconds period{30000};
  std::chrono::milliseconds retry_period{5000};
  LogFn log;  // default: stderr
};

class NodeRegistrar {
 public:
  // NodeRegistrar: REQUIRES: devices, client and clock outlive this.
  NodeRegistrar(NodeRegistrarOptions options, const DeviceSnapshotSource& devices,
                kube::KubeClient& client, kube::Clock& clock = kube::RealClock());
  ~NodeRegistrar();
  NodeRegistrar(const NodeRegistrar&) = delete;
  NodeRegistrar& operator=(const NodeRegistrar&) = delete;

  // RegisterOnce: one merge patch of the Node from devices.Current(). kFailedPrecondition
  // when there is no snapshot yet; otherwise the API error of the patch.
  Status RegisterOnce();
  // Tick: RegisterOnce() and the delay until the next attempt (period on success,
  // retry_period on failure, which is logged).
  std::chrono::milliseconds Tick();

  // Start: the registration thread (first attempt after first_delay). Idempotent; after
  // Stop() it does nothing (a stopped registrar is not restarted).
  void Start() NPUSHARE_EXCLUDES(mu_);
  // Nudge: makes the thread register now instead of waiting for the rest of its delay.
  void Nudge();
  // Stop: ends the thread (an attempt in flight completes first); idempotent.
  void Stop();

  // Counters: successful and failed patches so far.
  uint64_t Successes() const NPUSHARE_EXCLUDES(mu_);
  uint64_t Failures() const NPUSHARE_EXCLUDES(mu_);

 private:
  void Run();

  const NodeRegistrarOptions options_;
  const DeviceSnapshotSource& devices_;
  kube::KubeClient& client_;
  kube::Clock& clock_;

  mutable Mutex mu_;  // guards the fields below
  CondVar cv_;
  bool stopping_ NPUSHARE_GUARDED_BY(mu_) = false;
  bool nudged_ NPUSHARE_GUARDED_BY(mu_) = false;
  uint64_t successes_ NPUSHARE_GUARDED_BY(mu_) = 0;
  uint64_t failures_ NPUSHARE_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace npushare::deviceplugin::devices
