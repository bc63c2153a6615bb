// File: sim/npu/runtime/runtime.h
//
// Runtime: the per-process state behind libruntime.so's C API — the devices this process can
// see (after ASCEND_VISIBLE_DEVICES / ASCEND_RT_VISIBLE_DEVICES renumbering), its device
// memory, its streams and its registered kernels. One instance per process, created on first
// use and intentionally never destroyed (worker threads may outlive static destruction). A
// forked child starts with a fresh instance: memory mapped by the parent is not charged to it.
//
// Every method returns an RTS error code (runtime/rt.h) and writes out-parameters only on
// success.
//
// Thread safety: all methods are safe for concurrent use.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/thread_annotations.h"
#include "runtime/rt.h"
#include "runtime/stream.h"
#include "state/shared_state.h"

namespace npushare::sim {

// KernelDesc: what a simulated kernel does on the device.
struct KernelDesc {
  uint64_t duration_ns = 10'000;
  uint32_t cores = 0;  // 0 = numBlocks
};

// ParseKernelName: "sim_<us>us[_<n>c]" -> descriptor; false for other names.
bool ParseKernelName(const char* name, KernelDesc* out);
// ParseBinaryDescriptor: data starting with "npusim:duration_us=<us>;cores=<n>" -> descriptor.
bool ParseBinaryDescriptor(const void* data, uint64_t length, KernelDesc* out);

class Runtime {
 public:
  // Get: the process's runtime, opening the state on first use. nullptr with *err set to
  // ACL_ERROR_RT_NO_DEVICE when the state is missing or unusable (reason on stderr once).
  static Runtime* Get(rtError_t* err);
  // IfCreated: the runtime if this process already created it, else nullptr.
  static Runtime* IfCreated();

  rtError_t DeviceCount(int32_t* count);
  rtError_t SetDevice(int32_t id);
  rtError_t GetDevice(int32_t* id);
  rtError_t ResetDevice(int32_t id);
  rtError_t SynchronizeDevice();

  rtError_t Malloc(void** ptr, uint64_t size);
  rtError_t Free(void* ptr);
  rtError_t MemInfo(size_t* free_bytes, size_t* total_bytes);
  rtError_t MallocPhysical(rtDrvMemHandle* handle, size_t size);
  rtError_t FreePhysical(rtDrvMemHandle handle);
  rtError_t ReserveAddress(void** ptr, size_t size);
  rtError_t ReleaseAddress(void* ptr);
  rtError_t MapMem(void* ptr, size_t size, size_t offset, rtDrvMemHandle handle)
      NPUSHARE_EXCLUDES(mem_mu_);
  rtError_t UnmapMem(void* ptr) NPUSHARE_EXCLUDES(mem_mu_);

  rtError_t CreateStream(rtStream_t* stream);
  rtError_t DestroyStream(rtStream_t stream);
  // ResolveStream: nullptr means the current device's default stream.
  rtError_t ResolveStream(rtStream_t stream, Stream** out);

  rtError_t LoadBinary(const void* data, uint64_t length, rtBinHandle* bin);
  rtError_t UnloadBinary(rtBinHandle bin) NPUSHARE_EXCLUDES(obj_mu_);
  rtError_t GetFunction(rtBinHandle bin, const char* name, rtFuncHandle* func);
  rtError_t RegisterStub(rtBinHandle bin, const void* stub, const char* name);
  // DescForFunction / DescForStub / DescForBinary: the descriptor for a launch handle.
  rtError_t DescForFunction(rtFuncHandle func, KernelDesc* desc) NPUSHARE_EXCLUDES(obj_mu_);
  KernelDesc DescForStub(const void* stub) NPUSHARE_EXCLUDES(obj_mu_);
  KernelDesc DescForBinary(rtBinHandle bin) NPUSHARE_EXCLUDES(obj_mu_);

  // Launch: enqueues a kernel (the hot path: no shared-state access on the caller's thread).
  rtError_t Launch(rtStream_t stream, const KernelDesc& desc, uint32_t num_blocks);

  // ReleaseProcessSlot: drops this process's memory records from the shared state (exit path).
  void ReleaseProcessSlot();

  // ForgetSlotAfterFork: in a fork child, on the parent's runtime: closes the inherited
  // slot-lock descriptor (the parent's lock stays) so the child never keeps the parent's slot
  // alive. Async-signal-safe (close only).
  void ForgetSlotAfterFork();

 private:
  struct Device {
    DeviceInfo info;
    Mutex mu;
    std::unique_ptr<Stream> default_stream NPUSHARE_GUARDED_BY(mu);  // created on first use
  };
  struct Allocation {
    uint64_t size;
    uint32_t device;
  };
  struct PhysHandle {
    uint32_t magic;
    int fd;
    uint64_t size;
    uint32_t device;
  };
  struct Function {
    uint32_t magic;
    KernelDesc desc;
  };
  struct Binary {
    uint32_t magic;
    KernelDesc desc;
    std::vector<std::unique_ptr<Function>> functions;
  };

  Runtime() = default;
  Status Open();
  rtError_t CurrentDevice(uint32_t* index);
  rtError_t Charge(uint32_t device, uint64_t bytes);
  void Uncharge(uint32_t device, uint64_t bytes);
  int32_t SlotFor(NpuSimState& state);  // REQUIRES: state lock

  int32_t pid_ = 0;
  std::unique_ptr<SharedState> state_;
  std::vector<std::unique_ptr<Device>> devices_;  // immutable after Open()

  Mutex mem_mu_;
  std::unordered_map<void*, Allocation> allocations_ NPUSHARE_GUARDED_BY(mem_mu_);
  std::unordered_map<void*, size_t> reservations_ NPUSHARE_GUARDED_BY(mem_mu_);
  std::unordered_map<void*, size_t> mappings_ NPUSHARE_GUARDED_BY(mem_mu_);
  int32_t slot_ = -1;  // GUARDED_BY(state lock)
  // The slot's liveness: an OFD lock on its byte held through slot_lock_fd_ (a separate open
  // file description of state.bin, O_CLOEXEC so an exec'd image registers afresh), or the pid
  // when that descriptor could not be opened or the kernel has no OFD locks.
  int slot_lock_fd_ = -1;                               // GUARDED_BY(state lock)
  uint32_t liveness_ = NPUSIM_PROC_LIVENESS_SLOT_LOCK;  // GUARDED_BY(state lock)

  Mutex obj_mu_;
  std::unordered_map<void*, std::unique_ptr<Stream>> streams_ NPUSHARE_GUARDED_BY(obj_mu_);
  std::unordered_map<void*, std::unique_ptr<Binary>> binaries_ NPUSHARE_GUARDED_BY(obj_mu_);
  std::unordered_map<const void*, KernelDesc> stubs_ NPUSHARE_GUARDED_BY(obj_mu_);
  std::unordered_map<void*, KernelDesc> functions_ NPUSHARE_GUARDED_BY(obj_mu_);
  std::unordered_map<void*, std::unique_ptr<PhysHandle>> physical_ NPUSHARE_GUARDED_BY(mem_mu_);
};

}  // namespace npushare::sim
