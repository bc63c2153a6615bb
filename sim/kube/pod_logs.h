// File: sim/kube/pod_logs.h
//
// pods/{name}/log for kube-local (contract D of issue 12): kube-apiserver answers it by calling
// the pod's kubelet; so does kube-local. ResolvePodLogs finds where (the Node's InternalIP from
// status.addresses and status.daemonEndpoints.kubeletEndpoint.Port, path
// /containerLogs/{namespace}/{pod}/{container}) and checks the request the way kube-apiserver
// does (container chosen or defaulted, integer options); StreamKubeletLogs then copies the
// kubelet's answer through, chunk by chunk, until it ends, the client goes away or the server
// stops (so `kubectl logs -f` follows).
//
// Deviation: the kubelet is reached over plain HTTP (the kubelet stand-in serves HTTP), and a
// pod not yet bound to a node gets an empty 200 answer, as kube-apiserver gives.
//
// Thread safety: pure functions; StreamKubeletLogs blocks the calling thread.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <string>

#include "common/status.h"
#include "sim/kube/object_store.h"

namespace npushare::kube_local {

// PodLogTarget: where the logs are, or that there are none yet (`url` empty: pod not bound).
struct PodLogTarget {
  std::string url;  // http://<ip>:<port>/containerLogs/<ns>/<pod>/<container>?<query>
  bool follow = false;
};

// ResolvePodLogs: `query` is the request's parameters (container, follow, tailLines, previous,
// timestamps, sinceSeconds, limitBytes; others ignored).
// @return kNotFound for a missing pod or node; kInvalidArgument for a missing/unknown container
//   name or a malformed option (as kube-apiserver's 400s); kInternal when the node has no
//   usable address or kubelet port.
Result<PodLogTarget> ResolvePodLogs(const ObjectStore& store, const std::string& ns,
                                    const std::string& pod,
                                    const std::multimap<std::string, std::string>& query);

// StreamKubeletLogs: GETs `url`; each body chunk goes to `write` (return false to stop). Stops
// early when `stop` becomes true (checked at least every 200 ms). A request that is not
// followed is bounded to 30 s; a followed one runs until the kubelet ends it.
// @return the kubelet's HTTP status; kUnavailable when it cannot be reached.
Result<int> StreamKubeletLogs(const std::string& url, bool follow,
                              const std::function<bool(const char*, size_t)>& write,
                              const std::atomic<bool>& stop);

}  // namespace npushare::kube_local
