// File: deviceplugin/kubelet/kubelet_registration.h
//
// RegisterWithKubelet: the plugin's one call to kubelet's Registration service
// (k8s-apis.md §1.5). Current kubelets dial the plugin back *inside* Register and call
// GetDevicePluginOptions, so the caller must already serve its endpoint (PluginServer::Start
// before PluginServer::Register); the options sent here must equal what GetDevicePluginOptions
// answers (pre-1.25 kubelets read these, newer ones the RPC).
//
// Usage:
//   RegistrationRequest req{.kubelet_socket = dir + "/kubelet.sock", .endpoint =
//   "Ascend910B3.sock",
//                           .resource_name = "huawei.com/Ascend910B3"};
//   Status s = RegisterWithKubelet(req, std::chrono::seconds(15));
//
// Thread safety: stateless, safe for concurrent use.
#pragma once

#include <chrono>
#include <string>

#include "common/status.h"

namespace npushare::deviceplugin {

// RegistrationRequest: what RegisterRequest carries.
struct RegistrationRequest {
  std::string kubelet_socket{};  // absolute path of kubelet.sock
  std::string endpoint{};        // our socket's file name, relative to kubelet.sock's directory
  std::string resource_name{};   // extended resource, e.g. "huawei.com/Ascend910B3"
  bool pre_start_required = false;
  bool get_preferred_allocation_available = false;
};

// RegisterWithKubelet: dials `kubelet_socket` (insecure, unix) and calls Register with version
// "v1beta1". Waits at most `timeout` overall; kubelet's own dial-back may take 10 s, so anything
// shorter can fail against a slow but healthy kubelet.
// Returns OK once kubelet accepted; kUnavailable at once when kubelet.sock does not exist, and
// when it does not accept a connection within min(timeout, 3 s);
// otherwise kubelet's error (code and message as kubelet sent them, usually kUnknown).
Status RegisterWithKubelet(const RegistrationRequest& request, std::chrono::milliseconds timeout);

}  // namespace npushare::deviceplugin
