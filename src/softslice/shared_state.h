/* File: softslice/shared_state.h
 *
 * The container memory ledger shared by every process of one soft-sliced container (and read by
 * npushare-arbiter and metrics). One file, `<state_dir>/ledger.v1`, mapped MAP_SHARED by every
 * process that loads libvnpu.so and touches the NPU. docs/softslice.md describes the protocol;
 * this header is the byte layout and nothing else.
 *
 * Layout rules: fixed-width fields only, host byte order, LP64 (x86_64 and aarch64), no
 * pointers. Words written by different processes sit on separate 128-byte lines (some Arm cores
 * have 128-byte lines). Fields marked "atomic" are only accessed with 8-byte atomic operations
 * (__atomic_* in C, std::atomic_ref in C++). The file is valid only when `magic`, `version`,
 * `header_size` and `file_size` all match; readers refuse anything else.
 *
 * This header compiles as C11 and as C++ (a test compiles it as C).
 */
#ifndef NPUSHARE_SOFTSLICE_SHARED_STATE_H_
#define NPUSHARE_SOFTSLICE_SHARED_STATE_H_

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VNPU_LEDGER_MAGIC "VNPULDG1" /* 8 bytes, no terminator stored */
#define VNPU_LEDGER_VERSION 1u
#define VNPU_LEDGER_FILE_NAME "ledger.v1"
#define VNPU_MAX_DEVICES 16u           /* logical (runtime) device ids 0..15 */
#define VNPU_MAX_PROCS 64u             /* processes of one container using the NPU at once */
#define VNPU_MAX_ALLOCS_PER_PROC 8192u /* live tracked allocations per process (power of 2) */

/* VnpuAllocRecord.key values that are not pointers. */
#define VNPU_ALLOC_KEY_EMPTY 0u     /* never used: ends a probe sequence */
#define VNPU_ALLOC_KEY_TOMBSTONE 1u /* was used: probing continues past it */

/* VnpuAllocRecord.size_dev: size in the low 56 bits, device id in the top 8. */
#define VNPU_ALLOC_SIZE_BITS 56u

/* VnpuProcSlot.state */
#define VNPU_SLOT_FREE 0u
#define VNPU_SLOT_LIVE 1u

/* One live allocation of the owning process: a device pointer (or physical handle) and what it
 * was charged. Written only by the owning process (lock-free open addressing, see docs). */
typedef struct VnpuAllocRecord {
  uint64_t key;      /* atomic: pointer/handle value, or VNPU_ALLOC_KEY_* */
  uint64_t size_dev; /* atomic: (dev << 56) | charged bytes; valid while key is a pointer */
} VnpuAllocRecord;

/* One process of the container. A slot is owned by the process that holds the OFD write lock on
 * the byte at file offset `offsetof(VnpuLedger, procs[i])` (docs/softslice.md: liveness). */
typedef struct VnpuProcSlot {
  uint32_t state;      /* atomic (4-byte): VNPU_SLOT_*; changed only under VnpuLedger.lock */
  int32_t pid;         /* pid in the container's namespace, for display only */
  uint64_t generation; /* bumped each time the slot is (re)claimed; for display and metrics */
  uint8_t reserved0[112];
  uint64_t charged_bytes[VNPU_MAX_DEVICES]; /* atomic: bytes charged by this process per device */
} VnpuProcSlot;

/* The allocation table of one process slot: open addressing, written only by the slot owner. */
typedef struct VnpuAllocTable {
  VnpuAllocRecord records[VNPU_MAX_ALLOCS_PER_PROC];
} VnpuAllocTable;

typedef struct VnpuLedger {
  /* Static part: written once by the creator under flock(LOCK_EX), before anyone else maps. */
  char magic[8];
  uint32_t version;
  uint32_t header_size; /* offsetof(VnpuLedger, procs) */
  uint64_t file_size;   /* sizeof(VnpuLedger) */
  uint32_t device_count;
  uint32_t proc_count;  /* VNPU_MAX_PROCS */
  uint32_t alloc_count; /* VNPU_MAX_ALLOCS_PER_PROC */
  uint32_t reserved0;
  uint64_t quota_bytes[VNPU_MAX_DEVICES]; /* 0 = device not limited */
  uint8_t reserved1[88];
  /* Robust, process-shared mutex (64 bytes reserved; glibc's is 40 on LP64). Serialises the
   * quota check-and-charge, slot claim and reclaim; never held across a runtime call. */
  union {
    pthread_mutex_t mutex;
    uint8_t bytes[64];
  } lock;
  uint8_t reserved2[64];
  /* Dynamic statistics (atomic), for metrics. */
  uint64_t reclaimed_procs; /* dead processes whose charges were returned */
  uint64_t denied_allocs;   /* allocations refused with 207001 by the quota */
  uint64_t last_sweep_ns;   /* CLOCK_MONOTONIC of the last dead-process sweep */
  uint8_t reserved3[104];
  VnpuProcSlot procs[VNPU_MAX_PROCS];    /* 16 KiB: scanned when summing charges */
  VnpuAllocTable tables[VNPU_MAX_PROCS]; /* tables[i] belongs to procs[i] */
} VnpuLedger;

/* ---------------------------------------------------------------------------------------------
 * Compute: the tenant page (one per container, `<state_dir>/tenant.v2`, written by the
 * container's processes, read and validated by the arbiter) and the grant page (one per node,
 * `<arbiter_dir>/grants.v2`, written only by npushare-arbiter, mapped read-only by tenants).
 * ------------------------------------------------------------------------------------------- */

#define VNPU_TENANT_MAGIC "VNPUTNT1"
#define VNPU_TENANT_VERSION 2u
#define VNPU_TENANT_FILE_NAME "tenant.v2"
#define VNPU_GRANT_MAGIC "VNPUGRT1"
#define VNPU_GRANT_VERSION 2u
#define VNPU_GRANT_FILE_NAME "grants.v2"
#define VNPU_EPOCH_HISTORY 8u        /* grants remembered per chip (VnpuGrantChip) */
#define VNPU_OWNER_MASK 0xffffu      /* owner field of a grant word (epoch << 16 | owner) */
#define VNPU_MAX_TENANTS 64u         /* soft-sliced containers per node */
#define VNPU_MAX_CHIPS 64u           /* physical chips per node */
#define VNPU_TENANT_FLAG_HARD_CAP 1u /* never more than core_percent, even on an idle chip */

/* Per logical device of a tenant: its request and its demand signals. One 128-byte line. */
typedef struct VnpuTenantDevice {
  int32_t chip;            /* physical chip id of this logical device, -1 = not present */
  uint32_t core_percent;   /* requested share 0..100 (0 = best effort); the arbiter clamps */
  uint32_t waiters;        /* atomic: threads blocked at the launch gate */
  uint32_t syncing;        /* atomic: threads inside a stream/event/device synchronize */
  uint64_t last_demand_ns; /* atomic: CLOCK_MONOTONIC of the latest gate slow path */
  uint64_t overrun_ns;     /* atomic, cumulative: device time run past a revoked grant */
  uint64_t overrun_epoch;  /* atomic: the tenant's overrun for one grant epoch, shared by its
                            * processes so that work they ran side by side is not charged twice:
                            * (epoch mod 2^16) << 48 | largest part µs << 24 | Σ parts µs */
  uint32_t flags;          /* VNPU_TENANT_FLAG_*, written at page creation */
  uint32_t reserved1;
  uint64_t device_ns; /* atomic, cumulative: device time of the tenant's work, measured with
                       * runtime event fences on the streams it launches on (metrics) */
  uint8_t reserved2[72];
} VnpuTenantDevice;

typedef struct VnpuTenantPage {
  char magic[8];
  uint32_t version;
  uint32_t header_size; /* offsetof(VnpuTenantPage, devices) */
  uint64_t file_size;   /* sizeof(VnpuTenantPage) */
  uint64_t tenant_id;   /* random, non-zero; how the tenant finds itself in the grant page */
  uint8_t reserved0[96];
  VnpuTenantDevice devices[VNPU_MAX_DEVICES];
} VnpuTenantPage;

/* Per physical chip: who may launch. One 128-byte line. */
typedef struct VnpuGrantChip {
  uint64_t grant_word; /* atomic: (epoch << 16) | (owner tenant index + 1); owner 0 = none */
  uint32_t seq;        /* atomic futex word: bumped with every grant_word change */
  uint32_t reserved0;
  uint64_t granted_at_ns; /* atomic: CLOCK_MONOTONIC when the current grant started */
  uint64_t slice_end_ns;  /* atomic: when the current grant ends at the latest */
  /* History of the last VNPU_EPOCH_HISTORY grants, epoch e at [e % VNPU_EPOCH_HISTORY]: when
   * it started and its owner field (written in that order, before the grant word). It tells a
   * tenant when its own grant ended and when it held the chip again (overrun). */
  uint64_t epoch_start_ns[VNPU_EPOCH_HISTORY]; /* atomic */
  uint16_t epoch_owner[VNPU_EPOCH_HISTORY];    /* atomic: 0 = none */
  uint8_t reserved1[16];
} VnpuGrantChip;

/* Per tenant index, as adopted by the arbiter. */
typedef struct VnpuGrantTenant {
  uint64_t tenant_id;                    /* atomic: 0 = index unused */
  uint64_t granted_ns[VNPU_MAX_DEVICES]; /* atomic: device time granted, per logical device */
  uint64_t charged_ns[VNPU_MAX_DEVICES]; /* atomic: granted + overrun charged, per device */
  /* Node-pinned physical chip + 1 of each logical device (from the node-written share file);
   * 0 = not pinned: the tenant uses its own mapping. The gate launches only against the grant
   * word of the pinned chip, and the arbiter schedules the device on that chip only, so a
   * container cannot name another chip to disturb its tenants. 1-byte atomic stores. */
  uint8_t pinned_chip_plus1[VNPU_MAX_DEVICES];
  uint8_t reserved0[104];
} VnpuGrantTenant;

typedef struct VnpuGrantPage {
  char magic[8];
  uint32_t version;
  uint32_t header_size;  /* offsetof(VnpuGrantPage, chips) */
  uint64_t file_size;    /* sizeof(VnpuGrantPage) */
  uint64_t generation;   /* atomic: bumped when the tenant table changes */
  uint64_t heartbeat_ns; /* atomic: CLOCK_MONOTONIC of the arbiter's latest tick */
  uint64_t arbiter_pid;
  uint8_t reserved0[80];
  VnpuGrantChip chips[VNPU_MAX_CHIPS];
  VnpuGrantTenant tenants[VNPU_MAX_TENANTS];
} VnpuGrantPage;

#ifdef __cplusplus
#define VNPU_STATIC_ASSERT static_assert
#else
#define VNPU_STATIC_ASSERT _Static_assert
#endif

VNPU_STATIC_ASSERT(sizeof(VnpuAllocRecord) == 16, "VnpuAllocRecord size");
VNPU_STATIC_ASSERT(offsetof(VnpuProcSlot, charged_bytes) == 128, "charged_bytes offset");
VNPU_STATIC_ASSERT(sizeof(VnpuProcSlot) == 256, "slot size");
VNPU_STATIC_ASSERT(sizeof(VnpuAllocTable) == 16 * VNPU_MAX_ALLOCS_PER_PROC, "table size");
VNPU_STATIC_ASSERT(offsetof(VnpuLedger, version) == 8, "version offset");
VNPU_STATIC_ASSERT(offsetof(VnpuLedger, file_size) == 16, "file_size offset");
VNPU_STATIC_ASSERT(offsetof(VnpuLedger, quota_bytes) == 40, "quota offset");
VNPU_STATIC_ASSERT(offsetof(VnpuLedger, lock) == 256, "lock offset");
VNPU_STATIC_ASSERT(sizeof(pthread_mutex_t) <= 64, "pthread_mutex_t fits");
VNPU_STATIC_ASSERT(offsetof(VnpuLedger, reclaimed_procs) == 384, "stats offset");
VNPU_STATIC_ASSERT(offsetof(VnpuLedger, procs) == 512, "procs offset");
VNPU_STATIC_ASSERT(offsetof(VnpuLedger, tables) == 512 + 256 * VNPU_MAX_PROCS, "tables offset");
VNPU_STATIC_ASSERT(sizeof(VnpuLedger) ==
                       512 + VNPU_MAX_PROCS * (sizeof(VnpuProcSlot) + sizeof(VnpuAllocTable)),
                   "size");
VNPU_STATIC_ASSERT(sizeof(VnpuTenantDevice) == 128, "tenant device size");
VNPU_STATIC_ASSERT(offsetof(VnpuTenantDevice, device_ns) == 48, "device_ns offset");
VNPU_STATIC_ASSERT(offsetof(VnpuTenantPage, tenant_id) == 24, "tenant id offset");
VNPU_STATIC_ASSERT(offsetof(VnpuTenantPage, devices) == 128, "tenant devices offset");
VNPU_STATIC_ASSERT(sizeof(VnpuTenantPage) == 128 + 128 * VNPU_MAX_DEVICES, "tenant page size");
VNPU_STATIC_ASSERT(sizeof(VnpuGrantChip) == 128, "grant chip size");
VNPU_STATIC_ASSERT(sizeof(VnpuGrantTenant) == 384, "grant tenant size");
VNPU_STATIC_ASSERT(offsetof(VnpuGrantTenant, pinned_chip_plus1) == 264, "pinned chips");
VNPU_STATIC_ASSERT(offsetof(VnpuGrantPage, heartbeat_ns) == 32, "heartbeat offset");
VNPU_STATIC_ASSERT(offsetof(VnpuGrantPage, chips) == 128, "grant chips offset");
VNPU_STATIC_ASSERT(offsetof(VnpuGrantPage, tenants) == 128 + 128 * VNPU_MAX_CHIPS, "tenants");
VNPU_STATIC_ASSERT((VNPU_MAX_ALLOCS_PER_PROC & (VNPU_MAX_ALLOCS_PER_PROC - 1)) == 0, "pow2");

#ifdef __cplusplus
}
#endif

#endif /* NPUSHARE_SOFTSLICE_SHARED_STATE_H_ */
