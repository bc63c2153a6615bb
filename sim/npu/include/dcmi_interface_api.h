/* File: sim/npu/include/dcmi_interface_api.h
 *
 * The subset of Huawei's DCMI C API (libdcmi.so) that npu-sim implements, written from the
 * prototypes and struct layouts documented in docs/../shared/reference/ascend-abi.md §1 (not
 * copied from the vendor header). Struct sizes are asserted against the sizes measured there
 * (LP64). Every function returns 0 (DCMI_OK) or one of the negative DCMI_ERR_CODE_* values and
 * writes its out-parameters only on success. dcmi_init() must succeed before any other call;
 * otherwise calls return DCMI_ERR_CODE_NOT_REDAY.
 *
 * Thread safety: every function may be called from any thread concurrently.
 */
#ifndef NPUSHARE_SIM_NPU_DCMI_INTERFACE_API_H_
#define NPUSHARE_SIM_NPU_DCMI_INTERFACE_API_H_

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Empty for users, as in the vendor header; the library build (hidden visibility by default)
 * marks exactly these declarations as exported. */
#if defined(NPUSIM_BUILDING_DCMI)
#define DCMIDLLEXPORT __attribute__((visibility("default")))
#else
#define DCMIDLLEXPORT
#endif

#define DCMI_OK 0
#define DCMI_ERR_CODE_INVALID_PARAMETER (-8001)
#define DCMI_ERR_CODE_OPER_NOT_PERMITTED (-8002)
#define DCMI_ERR_CODE_MEM_OPERATE_FAIL (-8003)
#define DCMI_ERR_CODE_SECURE_FUN_FAIL (-8004)
#define DCMI_ERR_CODE_INNER_ERR (-8005)
#define DCMI_ERR_CODE_TIME_OUT (-8006)
#define DCMI_ERR_CODE_INVALID_DEVICE_ID (-8007)
#define DCMI_ERR_CODE_DEVICE_NOT_EXIST (-8008)
#define DCMI_ERR_CODE_IOCTL_FAIL (-8009)
#define DCMI_ERR_CODE_SEND_MSG_FAIL (-8010)
#define DCMI_ERR_CODE_RECV_MSG_FAIL (-8011)
#define DCMI_ERR_CODE_NOT_REDAY (-8012)
#define DCMI_ERR_CODE_NOT_SUPPORT_IN_CONTAINER (-8013)
#define DCMI_ERR_CODE_FILE_OPERATE_FAIL (-8014)
#define DCMI_ERR_CODE_RESET_FAIL (-8015)
#define DCMI_ERR_CODE_ABORT_OPERATE (-8016)
#define DCMI_ERR_CODE_IS_UPGRADING (-8017)
#define DCMI_ERR_CODE_RESOURCE_OCCUPIED (-8020)
#define DCMI_ERR_CODE_PARTITION_NOT_RIGHT (-8022)
#define DCMI_ERR_CODE_CONFIG_INFO_NOT_EXIST (-8023)
#define DCMI_ERR_CODE_NOT_SUPPORT (-8255)

#define MAX_CHIP_NAME_LEN 32
#define DIE_ID_COUNT 5
#define MAX_PROC_NUM_IN_DEVICE 32
#define DCMI_VDEV_INVALID_ID 0xFFFFFFFFu

enum dcmi_unit_type { NPU_TYPE = 0, MCU_TYPE = 1, CPU_TYPE = 2, INVALID_TYPE = 0xFF };
enum dcmi_die_type { NDIE = 0, VDIE = 1, DDIE = 2, INVALID_DIE };
enum dcmi_main_cmd {
  DCMI_MAIN_CMD_CHIP_INF = 12,
  DCMI_MAIN_CMD_HCCS = 16,
  DCMI_MAIN_CMD_VDEV_MNG = 52,
  DCMI_MAIN_CMD_SIO = 56,
  DCMI_MAIN_CMD_DEVICE_SHARE = 0x8001
};
/* VDEV_MNG sub-commands. */
#define DCMI_VMNG_SUB_CMD_GET_VDEV_RESOURCE 0
#define DCMI_VMNG_SUB_CMD_GET_TOTAL_RESOURCE 1
#define DCMI_VMNG_SUB_CMD_GET_FREE_RESOURCE 2
#define DCMI_VMNG_SUB_CMD_GET_VDEV_ACTIVITY 5
#define DCMI_DEVICE_SHARE_SUB_CMD_COMMON 0

struct dcmi_chip_info {
  unsigned char chip_type[MAX_CHIP_NAME_LEN];
  unsigned char chip_name[MAX_CHIP_NAME_LEN];
  unsigned char chip_ver[MAX_CHIP_NAME_LEN];
  unsigned int aicore_cnt;
};

struct dcmi_chip_info_v2 {
  unsigned char chip_type[MAX_CHIP_NAME_LEN];
  unsigned char chip_name[MAX_CHIP_NAME_LEN];
  unsigned char chip_ver[MAX_CHIP_NAME_LEN];
  unsigned int aicore_cnt;
  unsigned char npu_name[MAX_CHIP_NAME_LEN];
};

struct dcmi_die_id {
  unsigned int soc_die[DIE_ID_COUNT];
};
struct dcmi_soc_die_stru {
  unsigned int soc_die[DIE_ID_COUNT];
};

struct dcmi_hbm_info {
  unsigned long long memory_size; /* MB */
  unsigned int freq;
  unsigned long long memory_usage; /* MB */
  int temp;
  unsigned int bandwith_util_rate;
};

struct dcmi_get_memory_info_stru {
  unsigned long long memory_size;      /* MB */
  unsigned long long memory_available; /* MB */
  unsigned int freq;
  unsigned long hugepagesize; /* KB */
  unsigned long hugepages_total;
  unsigned long hugepages_free;
  unsigned int utiliza;
  unsigned char reserve[60];
};

struct dcmi_memory_info_stru {
  unsigned long long memory_size;
  unsigned int freq;
  unsigned int utiliza;
};

struct dcmi_proc_mem_info {
  int proc_id;                  /* host pid */
  unsigned long proc_mem_usage; /* bytes */
};

struct dcmi_board_info {
  unsigned int board_id;
  unsigned int pcb_id;
  unsigned int bom_id;
  unsigned int slot_id;
};

struct dcmi_pcie_info_all {
  unsigned int venderid;
  unsigned int subvenderid;
  unsigned int deviceid;
  unsigned int subdeviceid;
  int domain;
  unsigned int bdf_busid;
  unsigned int bdf_deviceid;
  unsigned int bdf_funcid;
  unsigned char reserve[32];
};

struct dcmi_create_vdev_res_stru {
  unsigned int vdev_id; /* 0xFFFFFFFF = allocate */
  unsigned int vfg_id;  /* 0xFFFFFFFF = auto */
  char template_name[32];
  unsigned char reserved[64];
};

struct dcmi_create_vdev_out {
  unsigned int vdev_id;
  unsigned int pcie_bus;
  unsigned int pcie_device;
  unsigned int pcie_func;
  unsigned int vfg_id;
  unsigned char reserved[32];
};

struct dcmi_base_resource {
  unsigned long long token;
  unsigned long long token_max;
  unsigned long long task_timeout;
  unsigned int vfg_id;
  unsigned char vip_mode;
  unsigned char reserved[31];
};

struct dcmi_computing_resource {
  float aic;
  float aiv;
  unsigned short dsa;
  unsigned short rtsq;
  unsigned short acsq;
  unsigned short cdqm;
  unsigned short c_core;
  unsigned short ffts;
  unsigned short sdma;
  unsigned short pcie_dma;
  unsigned long long memory_size; /* MB */
  unsigned int event_id;
  unsigned int notify_id;
  unsigned int stream_id;
  unsigned int model_id;
  unsigned short topic_schedule_aicpu;
  unsigned short host_ctrl_cpu;
  unsigned short host_aicpu;
  unsigned short device_aicpu;
  unsigned short topic_ctrl_cpu_slot;
  unsigned int vdev_aicore_utilization;
  unsigned long long vdev_memory_total;
  unsigned long long vdev_memory_free;
  unsigned char reserved[12];
};

struct dcmi_media_resource {
  float jpegd;
  float jpege;
  float vpc;
  float vdec;
  float pngd;
  float venc;
  unsigned char reserved[32];
};

struct dcmi_vdev_query_info {
  char name[16];
  unsigned int status;
  unsigned int is_container_used;
  unsigned int vfid;
  unsigned int vfg_id;
  unsigned long long container_id;
  struct dcmi_base_resource base;
  struct dcmi_computing_resource computing;
  struct dcmi_media_resource media;
};

struct dcmi_vdev_query_stru {
  unsigned int vdev_id;
  struct dcmi_vdev_query_info query_info;
};

struct dcmi_soc_free_resource {
  unsigned int vfg_num;
  unsigned int vfg_bitmap;
  struct dcmi_base_resource base;
  struct dcmi_computing_resource computing;
  struct dcmi_media_resource media;
};

struct dcmi_soc_total_resource {
  unsigned int vdev_num;
  unsigned int vdev_id[32];
  unsigned int vfg_num;
  unsigned int vfg_bitmap;
  struct dcmi_base_resource base;
  struct dcmi_computing_resource computing;
  struct dcmi_media_resource media;
};

#if defined(__LP64__)
#ifdef __cplusplus
#define DCMI_STATIC_ASSERT static_assert
#else
#define DCMI_STATIC_ASSERT _Static_assert
#endif
DCMI_STATIC_ASSERT(sizeof(struct dcmi_chip_info) == 100, "dcmi_chip_info");
DCMI_STATIC_ASSERT(sizeof(struct dcmi_chip_info_v2) == 132, "dcmi_chip_info_v2");
DCMI_STATIC_ASSERT(sizeof(struct dcmi_die_id) == 20, "dcmi_die_id");
DCMI_STATIC_ASSERT(sizeof(struct dcmi_hbm_info) == 32, "dcmi_hbm_info");
DCMI_STATIC_ASSERT(sizeof(struct dcmi_get_memory_info_stru) == 112, "dcmi_get_memory_info_stru");
DCMI_STATIC_ASSERT(sizeof(struct dcmi_memory_info_stru) == 16, "dcmi_memory_info_stru");
DCMI_STATIC_ASSERT(sizeof(struct dcmi_proc_mem_info) == 16, "dcmi_proc_mem_info");
DCMI_STATIC_ASSERT(sizeof(struct dcmi_board_info) == 16, "dcmi_board_info");
DCMI_STATIC_ASSERT(sizeof(struct dcmi_pcie_info_all) == 64, "dcmi_pcie_info_all");
DCMI_STATIC_ASSERT(sizeof(struct dcmi_create_vdev_res_stru) == 104, "dcmi_create_vdev_res_stru");
DCMI_STATIC_ASSERT(sizeof(struct dcmi_create_vdev_out) == 52, "dcmi_create_vdev_out");
DCMI_STATIC_ASSERT(sizeof(struct dcmi_base_resource) == 64, "dcmi_base_resource");
DCMI_STATIC_ASSERT(sizeof(struct dcmi_computing_resource) == 96, "dcmi_computing_resource");
DCMI_STATIC_ASSERT(sizeof(struct dcmi_media_resource) == 56, "dcmi_media_resource");
DCMI_STATIC_ASSERT(sizeof(struct dcmi_vdev_query_info) == 256, "dcmi_vdev_query_info");
DCMI_STATIC_ASSERT(sizeof(struct dcmi_vdev_query_stru) == 264, "dcmi_vdev_query_stru");
DCMI_STATIC_ASSERT(sizeof(struct dcmi_soc_free_resource) == 224, "dcmi_soc_free_resource");
DCMI_STATIC_ASSERT(sizeof(struct dcmi_soc_total_resource) == 360, "dcmi_soc_total_resource");
#endif

/* Initialisation and enumeration. */
DCMIDLLEXPORT int dcmi_init(void);
DCMIDLLEXPORT int dcmi_get_card_list(int* card_num, int* card_list, int list_len);
DCMIDLLEXPORT int dcmi_get_card_num_list(int* card_num, int* card_list, int list_len);
DCMIDLLEXPORT int dcmi_get_device_num_in_card(int card_id, int* device_num);
DCMIDLLEXPORT int dcmi_get_device_id_in_card(int card_id, int* device_id_max, int* mcu_id,
                                             int* cpu_id);
DCMIDLLEXPORT int dcmi_get_device_type(int card_id, int device_id,
                                       enum dcmi_unit_type* device_type);
/* ID mapping (note the out-parameter-first order of some). */
DCMIDLLEXPORT int dcmi_get_device_logic_id(int* device_logic_id, int card_id, int device_id);
DCMIDLLEXPORT int dcmi_get_device_phyid_from_logicid(unsigned int logicid, unsigned int* phyid);
DCMIDLLEXPORT int dcmi_get_device_logicid_from_phyid(unsigned int phyid, unsigned int* logicid);
DCMIDLLEXPORT int dcmi_get_card_id_device_id_from_logicid(int* card_id, int* device_id,
                                                          unsigned int device_logic_id);
DCMIDLLEXPORT int dcmi_get_card_id_device_id_from_phyid(int* card_id, int* device_id,
                                                        unsigned int device_phy_id);
/* Chip facts. */
DCMIDLLEXPORT int dcmi_get_device_chip_info(int card_id, int device_id,
                                            struct dcmi_chip_info* chip_info);
DCMIDLLEXPORT int dcmi_get_device_chip_info_v2(int card_id, int device_id,
                                               struct dcmi_chip_info_v2* chip_info);
DCMIDLLEXPORT int dcmi_get_device_board_info(int card_id, int device_id,
                                             struct dcmi_board_info* board_info);
DCMIDLLEXPORT int dcmi_get_device_pcie_info_v2(int card_id, int device_id,
                                               struct dcmi_pcie_info_all* pcie_info);
DCMIDLLEXPORT int dcmi_get_product_type(int card_id, int device_id, char* product_type_str,
                                        int buf_size);
DCMIDLLEXPORT int dcmi_get_dcmi_version(char* dcmi_ver, int buf_size);
DCMIDLLEXPORT int dcmi_get_driver_version(char* driver_ver, unsigned int len);
DCMIDLLEXPORT int dcmi_get_mainboard_id(int card_id, int device_id, unsigned int* mainboard_id);
DCMIDLLEXPORT int dcmi_get_device_die_v2(int card_id, int device_id, enum dcmi_die_type input_type,
                                         struct dcmi_die_id* die_id);
DCMIDLLEXPORT int dcmi_get_device_die(int card_id, int device_id,
                                      struct dcmi_soc_die_stru* device_die);
/* Health and telemetry. */
DCMIDLLEXPORT int dcmi_get_device_health(int card_id, int device_id, unsigned int* health);
DCMIDLLEXPORT int dcmi_get_device_errorcode_v2(int card_id, int device_id, int* error_count,
                                               unsigned int* error_code_list,
                                               unsigned int list_len);
DCMIDLLEXPORT int dcmi_get_device_errorcode(int card_id, int device_id, int* error_count,
                                            unsigned int* error_code, int* error_width);
DCMIDLLEXPORT int dcmi_get_device_temperature(int card_id, int device_id, int* temperature);
DCMIDLLEXPORT int dcmi_get_device_power_info(int card_id, int device_id, int* power);
/* input_type: 1 memory, 2 AI core, 3 AI CPU, 6 HBM, 13 NPU (= AI core here). */
DCMIDLLEXPORT int dcmi_get_device_utilization_rate(int card_id, int device_id, int input_type,
                                                   unsigned int* utilization_rate);
/* Memory. */
DCMIDLLEXPORT int dcmi_get_device_memory_info_v3(int card_id, int device_id,
                                                 struct dcmi_get_memory_info_stru* memory_info);
DCMIDLLEXPORT int dcmi_get_memory_info(int card_id, int device_id,
                                       struct dcmi_memory_info_stru* device_memory_info);
DCMIDLLEXPORT int dcmi_get_device_hbm_info(int card_id, int device_id,
                                           struct dcmi_hbm_info* hbm_info);
/* proc_info must hold MAX_PROC_NUM_IN_DEVICE entries; *proc_num is output-only. */
DCMIDLLEXPORT int dcmi_get_device_resource_info(int card_id, int device_id,
                                                struct dcmi_proc_mem_info* proc_info,
                                                int* proc_num);
/* Device share. */
DCMIDLLEXPORT int dcmi_set_device_share_enable(int card_id, int device_id, int enable_flag);
DCMIDLLEXPORT int dcmi_get_device_share_enable(int card_id, int device_id, int* enable_flag);
DCMIDLLEXPORT int dcmi_set_device_share_config_recover_mode(unsigned int enable_flag);
DCMIDLLEXPORT int dcmi_get_device_share_config_recover_mode(unsigned int* enable_flag);
/* Generic get/set (VDEV_MNG sub-commands 0, 1, 2, 5 and DEVICE_SHARE). */
DCMIDLLEXPORT int dcmi_get_device_info(int card_id, int device_id, enum dcmi_main_cmd main_cmd,
                                       unsigned int sub_cmd, void* buf, unsigned int* size);
DCMIDLLEXPORT int dcmi_set_device_info(int card_id, int device_id, enum dcmi_main_cmd main_cmd,
                                       unsigned int sub_cmd, const void* buf,
                                       unsigned int buf_size);
/* vNPU (hard slicing). 910C returns DCMI_ERR_CODE_NOT_SUPPORT. */
DCMIDLLEXPORT int dcmi_create_vdevice(int card_id, int device_id,
                                      struct dcmi_create_vdev_res_stru* vdev,
                                      struct dcmi_create_vdev_out* out);
DCMIDLLEXPORT int dcmi_set_destroy_vdevice(int card_id, int device_id, unsigned int vdevid);

#ifdef __cplusplus
}
#endif

#endif /* NPUSHARE_SIM_NPU_DCMI_INTERFACE_API_H_ */
