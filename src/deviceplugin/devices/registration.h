// File: deviceplugin/devices/registration.h
//
// What the plugin writes onto its Node and advertises to kubelet, derived from a NodeDevices
// snapshot exactly as HAMi's Ascend plugin does (hami-protocol.md §2.1-§2.3, §5.1):
//   RegisterDeviceInfos  the hami.io/node-register-<cw> device list: id = die UUID, index =
//                        Chip.index, count = vdevice_count, devmem = memory_mb, devcore =
//                        aicore (already 100 on soft nodes), type = <cw>, health, and
//                        custominfo {"NetworkID": PluginNetworkId(index, cw)} for Ascend910*;
//   RegistrationPatch    the one JSON merge patch of the Node's metadata.annotations with the
//                        register list, "hami.io/node-handshake-<cw>": "Reported_<time>" and
//                        "hami-vnpu-core": "true"|"false";
//   KubeletDevices       the ListAndWatch list: vdevice_count IDs "<uuid>-<k>" per chip, in
//                        chip order, each with its chip's health (vdevice_count 0 -> none).
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "deviceplugin/plugin_device.h"
#include "hami/types.h"

namespace npushare::deviceplugin::devices {

std::vector<hami::DeviceInfo> RegisterDeviceInfos(const NodeDevices& devices);

// RegistrationPatch: `reported_civil_seconds` is the handshake time in civil seconds
// (hami/handshake.h): local wall clock + --report_time_offset.
nlohmann::json RegistrationPatch(const NodeDevices& devices, int64_t reported_civil_seconds);

std::vector<PluginDevice> KubeletDevices(const NodeDevices& devices);

}  // namespace npushare::deviceplugin::devices
