// File: deviceplugin/kubelet/advertised_devices.h
//
// What the node's chips look like to kubelet (hami-protocol.md §5.1, HAMi semantics): each chip
// of a NodeDevices snapshot becomes `vdevice_count` virtual IDs "<uuid>-<k>" (k = 0 ..
// vdevice_count-1) carrying that chip's health, under the resource `resource_name`, served on
// the socket "<common_word>.sock". Kubelet only counts these IDs; which chip a container gets
// comes from the pod's annotations (allocate/).
//
// Usage:
//   auto nd = devices.Current();
//   fleet.SetDevices(PluginResourceFor(*nd), AdvertisedDevices(*nd));
//
// Thread safety: pure functions.
#pragma once

#include <vector>

#include "deviceplugin/kubelet/plugin_fleet.h"
#include "deviceplugin/plugin_device.h"

namespace npushare::deviceplugin {

// AdvertisedDevices: chips in snapshot order, IDs of one chip together. A vdevice_count below
// 1 advertises one ID per chip (HAMi's fallback when there is nothing to divide by).
std::vector<PluginDevice> AdvertisedDevices(const NodeDevices& devices);

// PluginResourceFor: {resource_name, "<common_word>.sock"}.
PluginResource PluginResourceFor(const NodeDevices& devices);

}  // namespace npushare::deviceplugin
