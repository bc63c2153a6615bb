// File: deviceplugin/devices/dcmi_library.h
//
// DcmiLibrary: the production Dcmi (dcmi.h) over dlopen("libdcmi.so"). The library is found
// the way the real plugin finds it: by its name through the dynamic loader (LD_LIBRARY_PATH,
// ld.so.cache), or by an explicit path (--dcmi-library). Tests put npu-sim's libdcmi.so first
// on LD_LIBRARY_PATH; production code never knows.
//
// Symbols: the ones the plugin cannot work without (dcmi_init, card list, device count, logic
// id, phys id, chip info, die id, health) must resolve or Open fails (kFailedPrecondition).
// The vNPU calls (dcmi_get_device_info, dcmi_set_destroy_vdevice) are optional: when missing,
// those methods return kUnimplemented, as MindCluster's -99998 "function missing".
//
// Usage:
//   DcmiLibraryOptions opts;            // opts.path = "/usr/local/dcmi/libdcmi.so";
//   NPUSHARE_ASSIGN_OR_RETURN(std::unique_ptr<DcmiLibrary> dcmi, DcmiLibrary::Open(opts));
//   NPUSHARE_RETURN_IF_ERROR(dcmi->Init());
//
// Thread safety: safe for concurrent use; calls into the library are serialised by a mutex.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "common/thread_annotations.h"
#include "deviceplugin/devices/dcmi.h"
#include "deviceplugin/devices/internal/dcmi_abi.h"

namespace npushare::deviceplugin::devices {

struct DcmiLibraryOptions {
  // path: what dlopen gets. Default "libdcmi.so" (searched by the dynamic loader).
  std::string path = "libdcmi.so";
};

class DcmiLibrary final : public Dcmi {
 public:
  // Open: dlopen + dlsym. kNotFound when the library cannot be loaded (message has dlerror),
  // kFailedPrecondition when a required symbol is missing. The handle is closed on
  // destruction.
  static Result<std::unique_ptr<DcmiLibrary>> Open(const DcmiLibraryOptions& options);
  ~DcmiLibrary() override;
  DcmiLibrary(const DcmiLibrary&) = delete;
  DcmiLibrary& operator=(const DcmiLibrary&) = delete;

  Status Init() override;
  Result<std::vector<int32_t>> CardList() override;
  Result<int32_t> DeviceCountInCard(int32_t card_id) override;
  Result<int32_t> LogicId(int32_t card_id, int32_t device_id) override;
  Result<int32_t> PhysIdFromLogicId(int32_t logic_id) override;
  Result<DcmiChipInfo> ChipInfo(int32_t card_id, int32_t device_id) override;
  Result<DcmiDieId> DieId(int32_t card_id, int32_t device_id) override;
  Result<uint32_t> Health(int32_t card_id, int32_t device_id) override;
  Result<std::vector<uint32_t>> VnpuIds(int32_t card_id, int32_t device_id) override;
  Result<DcmiVnpuInfo> VnpuInfo(int32_t card_id, int32_t device_id, uint32_t vdev_id) override;
  Status DestroyVnpu(int32_t card_id, int32_t device_id, uint32_t vdev_id) override;

 private:
  struct Symbols {
    dcmi_internal::InitFn init = nullptr;
    dcmi_internal::GetCardListFn get_card_list = nullptr;
    dcmi_internal::GetDeviceNumInCardFn get_device_num_in_card = nullptr;
    dcmi_internal::GetDeviceLogicIdFn get_device_logic_id = nullptr;
    dcmi_internal::GetPhyIdFromLogicIdFn get_phyid_from_logicid = nullptr;
    dcmi_internal::GetChipInfoFn get_chip_info = nullptr;
    dcmi_internal::GetDieV2Fn get_die_v2 = nullptr;
    dcmi_internal::GetHealthFn get_health = nullptr;
    dcmi_internal::GetDeviceInfoFn get_device_info = nullptr;   // optional
    dcmi_internal::DestroyVdeviceFn destroy_vdevice = nullptr;  // optional
  };
  DcmiLibrary(void* handle, const Symbols& symbols) : handle_(handle), sym_(symbols) {}

  void* handle_;
  const Symbols sym_;
  Mutex mu_;  // serialises every call into the library
};

}  // namespace npushare::deviceplugin::devices
