// File: hami/node_register.h
//
// hami.io/node-register-<cw> (hami-protocol.md §2.1): the JSON array of DeviceInfo the
// device plugin writes and the scheduler reads.
//
// Encoding reproduces the plugin's bytes (Go encoding/json of HAMi@5f0adaa's
// DeviceInfo): keys id,index,count,devmem,devcore,type,numa,mode,health,devicevendor,
// custominfo,devicepairscore; every field omitempty (0, "", false omitted) except
// "devicepairscore", which is always {}; no whitespace.
//
// Decoding follows the scheduler (Go encoding/json into []*DeviceInfo): keys match
// case-insensitively, unknown keys are ignored, absent keys and JSON null keep zero
// values, a wrong JSON type is an error, and every device gets devicevendor = <cw>.
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "hami/types.h"

namespace npushare::hami {

// Decoder limits (upstream has none).
inline constexpr size_t kMaxNodeRegisterBytes = 4 << 20;
inline constexpr size_t kMaxNodeRegisterDevices = 4096;
inline constexpr size_t kMaxNodeRegisterStringBytes = 4096;
inline constexpr int kMaxNodeRegisterDepth = 32;

// EncodeNodeRegister: the annotation value for `devices`, in order. `devicevendor` is
// written when non-empty (the plugin never sets it). custominfo is written only when
// has_custom_info: {"NetworkID":N} with N as an integer when network_id is integral,
// {} when network_id is absent.
std::string EncodeNodeRegister(const std::vector<DeviceInfo>& devices);

// PluginHasNetworkId: whether the plugin attaches custominfo to devices of `type`
// (type starts with "Ascend910").
bool PluginHasNetworkId(std::string_view type);
// PluginNetworkId: the plugin's NetworkID for the device at `index` of `type`:
// "Ascend910C" -> 0 always; otherwise 0 for index <= 3, 1 above. Meaningful only when
// PluginHasNetworkId(type).
int32_t PluginNetworkId(uint32_t index, std::string_view type);

// DecodeNodeRegister: the devices of a node-register annotation value.
// Errors (kInvalidArgument), texts as Go prints them where upstream has one:
//   ""                       -> "unexpected end of JSON input"
//   malformed JSON           -> Go's scanner message ("invalid character ...")
//   wrong JSON type          -> "json: cannot unmarshal <kind> into Go ... of type <T>"
//   [] or null               -> "no device found on node"
//   a null array element     -> "device entry <i> is null" (upstream would panic)
//   over the limits above    -> a message naming the limit
Result<std::vector<DeviceInfo>> DecodeNodeRegister(std::string_view json,
                                                   const std::string& common_word);

}  // namespace npushare::hami
