// File: deviceplugin/devices/device_share.h
//
// DeviceShareEnabler: on soft-slicing (hami-vnpu-core) nodes several containers open the same
// /dev/davinciN, which the driver allows only with device-share on (ascend-abi.md §2.6). Like
// HAMi's plugin we run, per chip,
//     npu-smi set -t device-share -i <card> -c <chip> -d 1
// answering its "(Y/N)" prompt with "Y\n" on stdin. Unlike HAMi's plugin, a failure does not
// abort start-up (a crash loop would take the whole plugin down for one chip): it is logged,
// posted as a Warning event on the Node (reason DeviceShareFailed) and retried with
// exponential backoff (initial_backoff doubling up to max_backoff), while the rest of the
// plugin runs. Chips already enabled are not run again; a chip that joins the snapshot later
// (or a node that becomes soft after a config change) is handled at the next check.
//
// npu-smi is looked up like HAMi does: npu_smi_path when set, else
// /usr/local/Ascend/driver/tools/npu-smi, /usr/local/sbin/npu-smi, /usr/local/bin/npu-smi,
// then each directory of $PATH.
//
// Usage:
//   ForkExecRunner runner;
//   DeviceShareOptions opts;
//   opts.node_name = node;
//   DeviceShareEnabler share(opts, devices, runner, &client);
//   share.Start();  ...  share.Stop();
//
// Thread safety: safe for concurrent use; Tick()/EnableOnce() are meant for one driver.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "deviceplugin/devices/command_runner.h"
#include "deviceplugin/devices/device_manager.h"
#include "deviceplugin/plugin_device.h"
#include "kube/kube_client.h"

namespace npushare::deviceplugin::devices {

struct DeviceShareOptions {
  std::string node_name;     // REQUIRED for the Node event
  std::string npu_smi_path;  // "" = search as above
  // --- timing ---
  std::chrono::milliseconds initial_backoff{2000};
  std::chrono::milliseconds max_backoff{300000};
  // recheck_interval: how often the thread looks for new work when everything is enabled or
  // the node is not soft-slicing. Default 60 s.
  std::chrono::milliseconds recheck_interval{60000};
  std::chrono::milliseconds command_timeout{30000};
  LogFn log;  // default: stderr
};

// FindNpuSmi: the first executable candidate of the search order above, or kNotFound.
Result<std::string> FindNpuSmi();

class DeviceShareEnabler {
 public:
  // DeviceShareEnabler: `events` may be nullptr (no Node events). REQUIRES: the others, and
  // events when given, outlive this.
  DeviceShareEnabler(DeviceShareOptions options, const DeviceSnapshotSource& devices,
                     CommandRunner& runner, kube::KubeClient* events);
  ~DeviceShareEnabler();
  DeviceShareEnabler(const DeviceShareEnabler&) = delete;
  DeviceShareEnabler& operator=(const DeviceShareEnabler&) = delete;

  // EnableOnce: on a soft-slicing snapshot, runs npu-smi for every chip not enabled yet (all
  // of them, even after one fails). OK when every chip is enabled or the node is not
  // soft-slicing; else the first failure (kNotFound: no npu-smi; kInternal: npu-smi exited
  // non-zero; the runner's error otherwise), after logging it and posting the Node event.
  Status EnableOnce();
  // Tick: EnableOnce() and the delay until the next one: recheck_interval after success,
  // else the backoff (initial_backoff, doubled per consecutive failure, capped).
  std::chrono::milliseconds Tick();

  // Start: the thread, first attempt at once. Idempotent; does nothing after Stop().
  // Nudge: check now. Stop: idempotent.
  void Start() NPUSHARE_EXCLUDES(mu_);
  void Nudge();
  void Stop();

  // EnabledChips: UUIDs enabled so far. Failures: failed EnableOnce() calls.
  std::set<std::string> EnabledChips() const NPUSHARE_EXCLUDES(mu_);
  uint64_t Failures() const NPUSHARE_EXCLUDES(mu_);

 private:
  void Log(const std::string& line) const;
  void PostEvent(const std::string& message);
  void Run() NPUSHARE_EXCLUDES(mu_);

  const DeviceShareOptions options_;
  const DeviceSnapshotSource& devices_;
  CommandRunner& runner_;
  kube::KubeClient* events_;

  mutable Mutex mu_;  // guards the fields below
  CondVar cv_;
  std::set<std::string> enabled_ NPUSHARE_GUARDED_BY(mu_);
  int consecutive_failures_ NPUSHARE_GUARDED_BY(mu_) = 0;
  uint64_t failures_ NPUSHARE_GUARDED_BY(mu_) = 0;
  bool stopping_ NPUSHARE_GUARDED_BY(mu_) = false;
  bool nudged_ NPUSHARE_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace npushare::deviceplugin::devices
