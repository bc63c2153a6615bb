// File: deviceplugin/kubelet/kubelet_paths.h
//
// Fixed names of kubelet's device-plugin API (k8s-apis.md §1.4). No gRPC here: included by the
// parts that only deal with files (watcher, fleet, stand-in clean-up).
//
// Thread safety: constants.
#pragma once

namespace npushare::deviceplugin {

// kDevicePluginApiVersion: RegisterRequest.version ("v1beta1").
inline constexpr const char* kDevicePluginApiVersion = "v1beta1";
// kDefaultDevicePluginDir: kubelet's device-plugin directory.
inline constexpr const char* kDefaultDevicePluginDir = "/var/lib/kubelet/device-plugins";
// kKubeletSocketName: kubelet's registration socket in that directory.
inline constexpr const char* kKubeletSocketName = "kubelet.sock";
// kKubeletCheckpointName: kubelet's checkpoint file in the same directory (never touched).
inline constexpr const char* kKubeletCheckpointName = "kubelet_internal_checkpoint";

}  // namespace npushare::deviceplugin
