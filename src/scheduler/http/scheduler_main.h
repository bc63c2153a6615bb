// File: scheduler/http/scheduler_main.h
//
// SchedulerMain: the composition root of the npushare-scheduler binary. Order of start-up
// (and, reversed, of shutdown on SIGTERM/SIGINT):
//   1. flags (scheduler_flags.h), klog-style logging (spdlog: "I1203 14:05:01.123456 tid] msg")
//   2. Kubernetes client from --kubeconfig / in-cluster (kube/rest_config.h)
//   3. SchedulerService (caches, Filter, Bind) and the webhook's device config file
//   4. HTTP server (so /healthz answers while the caches sync), then SchedulerService::Start
//   5. leader election on a Lease (--leader-elect) calling SchedulerService::SetLeader, or, with
//      --leader-elect-follow[-config], following kube-scheduler's Lease (lead while it names this
//      pod: scheduler/service/lease_follower.h); without either this replica leads at once
//   6. wait for SIGTERM/SIGINT; then stop accepting HTTP, step down (the Lease is released so
//      the other replica takes over at once), stop the service.
// Exit codes: 0 after a signal, 1 when start-up failed (the reason is logged), 2 bad flags
// (including an invalid --leader-elect-follow value or follow config file).
//
// Thread safety: call once, from main().
#pragma once

namespace npushare::scheduler::http {

int SchedulerMain(int argc, char** argv);

}  // namespace npushare::scheduler::http
