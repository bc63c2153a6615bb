/* File: sim/npu/state/state_layout.h
 *
 * The byte layout of the npu-sim shared state file ($NPU_SIM_STATE/state.bin), shared by
 * libdcmi.so, libruntime.so, npu-smi and npu-sim in every process on the node. Plain C so the
 * layout cannot depend on C++ compile flags; the format is described in docs/npu-sim.md.
 *
 * Layout (all little-endian host order, natural alignment, LP64):
 *   NpuSimState
 *     header   magic "NPUSIMST", version, sizes: checked by every opener before anything else
 *     mutex    one robust, process-shared pthread mutex guarding everything below
 *     chips[]  static description written by `npu-sim init`, plus dynamic health/vNPU/timeline
 *     procs[]  one slot per process holding device memory, owned through an OFD lock on the
 *              slot's first byte (liveness below); the pid is for display only
 *
 * Every dynamic field is read and written only with `mutex` held. Static chip fields are
 * written once before the file is renamed into place and are read without the lock.
 * A new field means a new NPUSIM_STATE_VERSION: readers refuse other versions.
 */
#ifndef NPUSHARE_SIM_NPU_STATE_STATE_LAYOUT_H_
#define NPUSHARE_SIM_NPU_STATE_STATE_LAYOUT_H_

#include <pthread.h>
#include <stdint.h>

#define NPUSIM_STATE_MAGIC "NPUSIMST"
#define NPUSIM_STATE_VERSION 1u
#define NPUSIM_MAX_CHIPS 64
#define NPUSIM_MAX_PROCS 256
#define NPUSIM_MAX_VNPUS_PER_CHIP 16
#define NPUSIM_MAX_ERROR_CODES 8
#define NPUSIM_MAX_CORES 64
#define NPUSIM_UTIL_BUCKETS 32
/* Width of one utilisation bucket; DCMI reports the busy fraction of the last 10 buckets. */
#define NPUSIM_UTIL_BUCKET_NS 100000000ull

/* One vNPU (hard slice) on a chip. id == 0 marks a free entry. */
typedef struct NpuSimVnpu {
  uint32_t id;             /* host-unique vNPU id, 100 + 16*phy_id + k */
  uint32_t template_index; /* index into the chip model's template table */
  uint32_t aicore;         /* AI cores owned by the slice */
  uint32_t aicpu;
  uint32_t core_offset; /* first chip core owned (slices occupy disjoint core ranges) */
  uint32_t vgroup;
  uint64_t memory_mb; /* "create" memory of the template */
  uint64_t container_id;
  uint32_t status;
  uint32_t is_container_used;
} NpuSimVnpu;

typedef struct NpuSimChip {
  /* --- static, written by init --- */
  uint32_t card_id;      /* "NPU ID"; may be sparse */
  uint32_t device_index; /* chip index within the card */
  uint32_t phy_id;       /* host-global chip id (/dev/davinciN) */
  uint32_t model_index;  /* index into the built-in chip model table (chip_models.h) */
  uint32_t aicore;
  uint32_t aicpu;
  uint64_t memory_mb;   /* device memory (HBM or DDR) */
  uint64_t reserved_mb; /* used by the device OS before any process allocates */
  uint32_t die_id[5];   /* VDIE words */
  uint32_t bus_id;      /* PCI bus number; printed as 0000:XX:00.0 */
  uint32_t board_id;
  int32_t temperature_c;
  uint32_t power_dw; /* tenths of a watt */
  uint32_t reserved0;
  /* --- dynamic, guarded by NpuSimState.mutex --- */
  uint32_t health; /* 0 OK, 1 minor, 2 major, 3 critical */
  uint32_t error_count;
  uint32_t error_codes[NPUSIM_MAX_ERROR_CODES];
  uint32_t device_share;
  uint32_t reserved1;
  uint64_t health_recover_at_ns; /* CLOCK_MONOTONIC; 0 = never. Health becomes OK after it. */
  NpuSimVnpu vnpus[NPUSIM_MAX_VNPUS_PER_CHIP];
  /* Device timeline: the CLOCK_MONOTONIC time at which each AI core becomes free. */
  uint64_t core_free_at_ns[NPUSIM_MAX_CORES];
  /* Utilisation ring: bucket i covers [epoch*W, (epoch+1)*W) and holds busy core-ns. */
  uint64_t util_epoch[NPUSIM_UTIL_BUCKETS];
  uint64_t util_core_ns[NPUSIM_UTIL_BUCKETS];
} NpuSimChip;

/* NpuSimProc.liveness: how the sweeper decides whether the slot's owner still runs.
 * PID: kill/pidfd on `pid` (states written by builds before the slot lock; a kernel without
 *   OFD locks). Only meaningful when every user shares the sweeper's pid namespace.
 * SLOT_LOCK: the owner holds an OFD write lock (F_OFD_SETLK) on the byte at file offset
 *   offsetof(NpuSimState, procs[i]) of state.bin; the kernel drops it when the owner dies, in
 *   any pid namespace. `pid` is then the owner's pid in its own namespace, for display only.
 * The field was `reserved0` (always written as 0 = PID), so the layout and version are
 * unchanged and older states keep the pid check. */
#define NPUSIM_PROC_LIVENESS_PID 0u
#define NPUSIM_PROC_LIVENESS_SLOT_LOCK 1u

/* A process holding device memory. pid == 0 marks a free slot. */
typedef struct NpuSimProc {
  int32_t pid;
  uint32_t liveness;                     /* NPUSIM_PROC_LIVENESS_* */
  uint64_t used_bytes[NPUSIM_MAX_CHIPS]; /* indexed by chip index (== phy_id) */
  uint32_t vnpu_id[NPUSIM_MAX_CHIPS];    /* vNPU the memory is charged to, 0 = whole chip */
} NpuSimProc;

typedef union NpuSimMutex {
  pthread_mutex_t mutex;
  uint8_t bytes[64]; /* pthread_mutex_t is 40 bytes on x86-64, 48 on aarch64 */
} NpuSimMutex;

typedef struct NpuSimState {
  char magic[8];
  uint32_t version;
  uint32_t header_size; /* sizeof(NpuSimState) of the writer */
  uint64_t file_size;
  uint32_t chip_count;
  uint32_t card_count;
  char driver_version[32];
  uint8_t reserved0[64];
  NpuSimMutex lock;
  /* --- dynamic, guarded by lock --- */
  uint64_t last_sweep_ns;
  uint64_t sweeps; /* number of dead-process sweeps that reclaimed something */
  NpuSimChip chips[NPUSIM_MAX_CHIPS];
  NpuSimProc procs[NPUSIM_MAX_PROCS];
} NpuSimState;

#ifdef __cplusplus
static_assert(sizeof(NpuSimMutex) == 64, "mutex slot");
static_assert(sizeof(NpuSimVnpu) == 48, "vnpu layout");
static_assert(sizeof(NpuSimProc) == 8 + 8 * NPUSIM_MAX_CHIPS + 4 * NPUSIM_MAX_CHIPS, "proc layout");
#endif

#endif /* NPUSHARE_SIM_NPU_STATE_STATE_LAYOUT_H_ */
