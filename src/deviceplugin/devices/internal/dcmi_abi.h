// File: deviceplugin/devices/internal/dcmi_abi.h
//
// The C structs and function-pointer types of libdcmi.so that DcmiLibrary passes across the
// dlopen boundary (ascend-abi.md §1.3, LP64). Our own declarations of the vendor layout, so the
// plugin builds without the driver's header; sizes and offsets are static_asserted here and
// compared with the npu-sim copy of the vendor header in dcmi_abi_test.cc.
// Include dcmi_library.h instead; this file is for dcmi_library.cc and its tests.
//
// Thread safety: type declarations only.
#pragma once

#include <cstddef>
#include <cstdint>

namespace npushare::deviceplugin::devices::dcmi_internal {

struct ChipInfo {  // struct dcmi_chip_info
  unsigned char chip_type[32];
  unsigned char chip_name[32];
  unsigned char chip_ver[32];
  unsigned int aicore_cnt;
};

struct DieId {  // struct dcmi_die_id
  unsigned int soc_die[5];
};

struct BaseResource {  // struct dcmi_base_resource
  unsigned long long token;
  unsigned long long token_max;
  unsigned long long task_timeout;
  unsigned int vfg_id;
  unsigned char vip_mode;
  unsigned char reserved[31];
};

struct ComputingResource {  // struct dcmi_computing_resource
  float aic;
  float aiv;
  unsigned short dsa, rtsq, acsq, cdqm, c_core, ffts, sdma, pcie_dma;
  unsigned long long memory_size;
  unsigned int event_id, notify_id, stream_id, model_id;
  unsigned short topic_schedule_aicpu, host_ctrl_cpu, host_aicpu, device_aicpu, topic_ctrl_cpu_slot;
  unsigned int vdev_aicore_utilization;
  unsigned long long vdev_memory_total;
  unsigned long long vdev_memory_free;
  unsigned char reserved[12];
};

struct MediaResource {  // struct dcmi_media_resource
  float jpegd, jpege, vpc, vdec, pngd, venc;
  unsigned char reserved[32];
};

struct VdevQueryInfo {  // struct dcmi_vdev_query_info
  char name[16];
  unsigned int status;
  unsigned int is_container_used;
  unsigned int vfid;
  unsigned int vfg_id;
  unsigned long long container_id;
  BaseResource base;
  ComputingResource computing;
  MediaResource media;
};

struct VdevQuery {  // struct dcmi_vdev_query_stru
  unsigned int vdev_id;
  VdevQueryInfo query_info;
};

struct SocTotalResource {  // struct dcmi_soc_total_resource
  unsigned int vdev_num;
  unsigned int vdev_id[32];
  unsigned int vfg_num;
  unsigned int vfg_bitmap;
  BaseResource base;
  ComputingResource computing;
  MediaResource media;
};

static_assert(sizeof(ChipInfo) == 100);
static_assert(sizeof(DieId) == 20);
static_assert(sizeof(BaseResource) == 64);
static_assert(sizeof(ComputingResource) == 96);
static_assert(offsetof(ComputingResource, vdev_aicore_utilization) == 60);
static_assert(sizeof(MediaResource) == 56);
static_assert(sizeof(VdevQueryInfo) == 256);
static_assert(offsetof(VdevQueryInfo, is_container_used) == 20);
static_assert(offsetof(VdevQueryInfo, container_id) == 32);
static_assert(offsetof(VdevQueryInfo, computing) == 104);
static_assert(sizeof(VdevQuery) == 264);
static_assert(offsetof(VdevQuery, query_info) == 8);
static_assert(sizeof(SocTotalResource) == 360);
static_assert(offsetof(SocTotalResource, vfg_num) == 132);
static_assert(offsetof(SocTotalResource, base) == 144);

inline constexpr int kVdieType = 1;         // enum dcmi_die_type VDIE
inline constexpr int kMainCmdVdevMng = 52;  // enum dcmi_main_cmd DCMI_MAIN_CMD_VDEV_MNG
inline constexpr unsigned kSubCmdVdevResource = 0;
inline constexpr unsigned kSubCmdTotalResource = 1;

// Function types, exactly the vendor prototypes (enums passed as int: same ABI).
using InitFn = int (*)();
using GetCardListFn = int (*)(int* card_num, int* card_list, int list_len);
using GetDeviceNumInCardFn = int (*)(int card_id, int* device_num);
using GetDeviceLogicIdFn = int (*)(int* device_logic_id, int card_id, int device_id);
using GetPhyIdFromLogicIdFn = int (*)(unsigned int logicid, unsigned int* phyid);
using GetChipInfoFn = int (*)(int card_id, int device_id, ChipInfo* chip_info);
using GetDieV2Fn = int (*)(int card_id, int device_id, int input_type, DieId* die_id);
using GetHealthFn = int (*)(int card_id, int device_id, unsigned int* health);
using GetDeviceInfoFn = int (*)(int card_id, int device_id, int main_cmd, unsigned int sub_cmd,
                                void* buf, unsigned int* size);
using DestroyVdeviceFn = int (*)(int card_id, int device_id, unsigned int vdevid);

}  // namespace npushare::deviceplugin::devices::dcmi_internal
