// File: deviceplugin/devices/dcmi.h
//
// Dcmi: the seam between the device plugin and Huawei's DCMI library (libdcmi.so). Only the
// calls the plugin needs (ascend-abi.md §1.2, §1.4), with C types turned into plain values and
// DCMI return codes into Status. DcmiLibrary (dcmi_library.h) implements it over dlopen; tests
// use a fake.
//
// Error mapping (DcmiStatus): every non-zero DCMI code becomes a Status whose message names
// the call and the raw code, e.g. "dcmi_get_device_health(card 0, device 0): -8008":
//   -8001 invalid parameter          -> kInvalidArgument
//   -8002 operation not permitted    -> kPermissionDenied
//   -8007/-8008 no such device       -> kNotFound
//   -8020 resource occupied          -> kAlreadyExists (e.g. a vNPU still in use)
//   -8255 not supported, -99998 (symbol missing) -> kUnimplemented
//   anything else (-8006 timeout, -8012 not ready, ...) -> kUnavailable (retry later)
//
// Usage:
//   NPUSHARE_ASSIGN_OR_RETURN(auto dcmi, DcmiLibrary::Open(DcmiLibraryOptions{}));
//   NPUSHARE_RETURN_IF_ERROR(dcmi->Init());
//   NPUSHARE_ASSIGN_OR_RETURN(std::vector<int32_t> cards, dcmi->CardList());
//
// Thread safety: implementations are safe for concurrent use (DcmiLibrary serialises calls;
// the real library does not document its own thread safety).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace npushare::deviceplugin::devices {

// DcmiChipInfo: dcmi_get_device_chip_info.
struct DcmiChipInfo {
  std::string chip_type;  // "Ascend"
  std::string chip_name;  // "910B3", "310P3", "Ascend910" (910C)
  std::string chip_ver;
  uint32_t aicore_count = 0;
};

// DcmiDieId: the five VDIE words of dcmi_get_device_die_v2.
using DcmiDieId = std::array<uint32_t, 5>;

// DcmiVnpuInfo: one vNPU as dcmi_get_device_info(VDEV_MNG, GET_VDEV_RESOURCE) reports it.
struct DcmiVnpuInfo {
  uint32_t vdev_id = 0;
  std::string template_name;  // query_info.name, e.g. "vir05_1c_16g"
  uint32_t status = 0;
  uint32_t is_container_used = 0;  // 0 = no container uses it; 0xFFFFFFFF = not reported
  uint64_t container_id = 0;
};

// kDcmiIsContainerUsedNa: the driver's "NA" sentinel for is_container_used.
inline constexpr uint32_t kDcmiIsContainerUsedNa = 0xFFFFFFFFu;

class Dcmi {
 public:
  virtual ~Dcmi() = default;

  // Init: dcmi_init. Must succeed before any other call.
  virtual Status Init() = 0;
  // CardList: dcmi_get_card_list; the card ids (possibly sparse), at most 64.
  virtual Result<std::vector<int32_t>> CardList() = 0;
  // DeviceCountInCard: dcmi_get_device_num_in_card (NPU chips on the card, 1..4).
  virtual Result<int32_t> DeviceCountInCard(int32_t card_id) = 0;
  // LogicId: dcmi_get_device_logic_id of (card, device).
  virtual Result<int32_t> LogicId(int32_t card_id, int32_t device_id) = 0;
  // PhysIdFromLogicId: dcmi_get_device_phyid_from_logicid.
  virtual Result<int32_t> PhysIdFromLogicId(int32_t logic_id) = 0;
  // ChipInfo: dcmi_get_device_chip_info.
  virtual Result<DcmiChipInfo> ChipInfo(int32_t card_id, int32_t device_id) = 0;
  // DieId: dcmi_get_device_die_v2(..., VDIE, ...).
  virtual Result<DcmiDieId> DieId(int32_t card_id, int32_t device_id) = 0;
  // Health: dcmi_get_device_health (0 OK, 1 minor, 2 major, 3 critical, 0xFFFFFFFF absent).
  virtual Result<uint32_t> Health(int32_t card_id, int32_t device_id) = 0;
  // VnpuIds: the vNPU ids of the chip (VDEV_MNG / GET_TOTAL_RESOURCE). kUnimplemented on
  // chips without vNPU support.
  virtual Result<std::vector<uint32_t>> VnpuIds(int32_t card_id, int32_t device_id) = 0;
  // VnpuInfo: one vNPU (VDEV_MNG / GET_VDEV_RESOURCE). kInvalidArgument when it is gone.
  virtual Result<DcmiVnpuInfo> VnpuInfo(int32_t card_id, int32_t device_id, uint32_t vdev_id) = 0;
  // DestroyVnpu: dcmi_set_destroy_vdevice. kAlreadyExists while a process still uses it.
  virtual Status DestroyVnpu(int32_t card_id, int32_t device_id, uint32_t vdev_id) = 0;
};

// DcmiStatus: OK for 0, else the mapped error above for `call` (already formatted with its
// arguments) and `code`.
Status DcmiStatus(int code, const std::string& call);

// FormatDieUuid: the plugin's device UUID: each word as 8 upper-case hex digits, zero-padded
// (not space-padded: see ascend-abi.md §1.2), joined with '-'. 44 characters.
std::string FormatDieUuid(const DcmiDieId& die);

}  // namespace npushare::deviceplugin::devices
