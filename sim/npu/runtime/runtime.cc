#include "runtime/runtime.h"

#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <utility>

#include "state/visibility.h"
#include "state/vnpu.h"

namespace npushare::sim {
namespace {

constexpr uint32_t kBinaryMagic = 0x42494E41;
constexpr uint32_t kFunctionMagic = 0x46554E43;
constexpr uint32_t kPhysMagic = 0x50485953;

std::atomic<Runtime*> g_runtime{nullptr};
pthread_mutex_t g_runtime_mu = PTHREAD_MUTEX_INITIALIZER;
std::atomic<bool> g_atfork_registered{false};
std::atomic<int32_t> g_process_device{-1};  // last device set by any thread
thread_local int32_t t_device = -1;

// The child of fork() has none of the parent's worker threads; give it a fresh runtime.
void AtForkChild() {
  // The inherited slot-lock descriptor shares the parent's open file description and so its
  // lock: closing our copy leaves the parent's lock (and slot) in place, and the child claims
  // its own slot on its first allocation.
  Runtime* parent = g_runtime.load();
  if (parent != nullptr) {
    parent->ForgetSlotAfterFork();
  }
  g_runtime.store(nullptr);
  g_process_device.store(-1);
  t_device = -1;
  // The parent's lock may have been held by another thread at fork time.
  pthread_mutex_init(&g_runtime_mu, nullptr);
}

bool ParseUint(const char*& p, uint64_t* out) {
  if (*p < '0' || *p > '9') {
    return false;
  }
  uint64_t v = 0;
  while (*p >= '0' && *p <= '9') {
    v = v * 10 + static_cast<uint64_t>(*p - '0');
    if (v > 3'600'000'000ull) {
      return false;
    }
    ++p;
  }
  *out = v;
  return true;
}

// TakeEntry: under `mu`, moves the value stored for `key` into *out and erases it; false if
// `map` has no such key. Callers release what they took outside the lock.
template <typename Map>
bool TakeEntry(Mutex& mu, Map* map, void* key, typename Map::mapped_type* out) {
  MutexLock l(&mu);
  auto it = map->find(key);
  if (it == map->end()) {
    return false;
  }
  *out = std::move(it->second);
  map->erase(it);
  return true;
}

}  // namespace

bool ParseKernelName(const char* name, KernelDesc* out) {
  if (name == nullptr || std::strncmp(name, "sim_", 4) != 0) {
    return false;
  }
  const char* p = name + 4;
  uint64_t us = 0;
  if (!ParseUint(p, &us) || std::strncmp(p, "us", 2) != 0) {
    return false;
  }
  p += 2;
  uint64_t cores = 0;
  if (*p == '_') {
    ++p;
    if (!ParseUint(p, &cores) || *p != 'c' || cores == 0 || cores > NPUSIM_MAX_CORES) {
      return false;
    }
    ++p;
  }
  if (*p != '\0') {
    return false;
  }
  out->duration_ns = us * 1000;
  out->cores = static_cast<uint32_t>(cores);
  return true;
}

bool ParseBinaryDescriptor(const void* data, uint64_t length, KernelDesc* out) {
  static constexpr char kPrefix[] = "npusim:duration_us=";
  constexpr size_t kLen = sizeof(kPrefix) - 1;
  if (data == nullptr || length < kLen + 1 || std::memcmp(data, kPrefix, kLen) != 0) {
    return false;
  }
  char buf[64] = {0};
  std::memcpy(buf, data, length < sizeof(buf) - 1 ? length : sizeof(buf) - 1);
  const char* p = buf + kLen;
  uint64_t us = 0;
  if (!ParseUint(p, &us)) {
    return false;
  }
  uint64_t cores = 0;
  if (std::strncmp(p, ";cores=", 7) == 0) {
    p += 7;
    if (!ParseUint(p, &cores) || cores > NPUSIM_MAX_CORES) {
      return false;
    }
  }
  out->duration_ns = us * 1000;
  out->cores = static_cast<uint32_t>(cores);
  return true;
}

Runtime* Runtime::Get(rtError_t* err) {
  Runtime* rt = g_runtime.load(std::memory_order_acquire);
  if (rt != nullptr) {
    return rt;
  }
  pthread_mutex_lock(&g_runtime_mu);
  rt = g_runtime.load();
  if (rt == nullptr) {
    if (!g_atfork_registered.exchange(true)) {
      pthread_atfork(nullptr, nullptr, AtForkChild);
    }
    auto fresh = std::unique_ptr<Runtime>(new Runtime());
    Status s = fresh->Open();
    if (s.ok()) {
      rt = fresh.release();  // never destroyed, see header
      g_runtime.store(rt, std::memory_order_release);
    } else {
      static std::atomic<bool> reported{false};
      if (!reported.exchange(true)) {
        std::fprintf(stderr, "libruntime (npu-sim): %s\n", s.ToString().c_str());
      }
    }
  }
  pthread_mutex_unlock(&g_runtime_mu);
  if (rt == nullptr) {
    *err = ACL_ERROR_RT_NO_DEVICE;
  }
  return rt;
}

Runtime* Runtime::IfCreated() {
  return g_runtime.load(std::memory_order_acquire);
}

Status Runtime::Open() {
  // In a container this is the pid in the container's namespace: for display only; liveness
  // is the slot lock (see SlotFor).
  pid_ = static_cast<int32_t>(getpid());
  NPUSHARE_ASSIGN_OR_RETURN(state_, SharedState::OpenDefault());
  Result<int> lock_fd = state_->OpenSlotLockFd();
  if (lock_fd.ok()) {
    slot_lock_fd_ = *lock_fd;
  } else {
    liveness_ = NPUSIM_PROC_LIVENESS_PID;
    std::fprintf(stderr, "libruntime (npu-sim): %s; process liveness falls back to the pid\n",
                 lock_fd.status().ToString().c_str());
  }
  StateLock lock(*state_);
  NPUSHARE_ASSIGN_OR_RETURN(std::vector<VisibleDevice> visible,
                            ResolveVisibleDevices(lock->chip_count, /*apply_rt_visible=*/true,
                                                  [&](uint32_t id, uint32_t* chip) {
                                                    return FindVnpu(*lock, id, chip) != nullptr;
                                                  }));
  for (const VisibleDevice& v : visible) {
    auto dev = std::make_unique<Device>();
    const NpuSimChip& chip = lock->chips[v.chip];
    dev->info.state = state_.get();
    dev->info.chip = v.chip;
    dev->info.vnpu_id = v.vnpu_id;
    if (v.vnpu_id == 0) {
      dev->info.core_lo = 0;
      dev->info.core_hi = chip.aicore;
      dev->info.capacity = (chip.memory_mb - chip.reserved_mb) << 20;
    } else {
      uint32_t c = 0;
      const NpuSimVnpu* vn = FindVnpu(*lock, v.vnpu_id, &c);
      dev->info.core_lo = vn->core_offset;
      dev->info.core_hi = vn->core_offset + vn->aicore;
      dev->info.capacity = vn->memory_mb << 20;
    }
    devices_.push_back(std::move(dev));
  }
  return OkStatus();
}

rtError_t Runtime::DeviceCount(int32_t* count) {
  *count = static_cast<int32_t>(devices_.size());
  return RT_ERROR_NONE;
}

rtError_t Runtime::SetDevice(int32_t id) {
  if (id < 0 || static_cast<size_t>(id) >= devices_.size()) {
    return ACL_ERROR_RT_INVALID_DEVICEID;
  }
  t_device = id;
  g_process_device.store(id);
  return RT_ERROR_NONE;
}

rtError_t Runtime::CurrentDevice(uint32_t* index) {
  int32_t d = t_device >= 0 ? t_device : g_process_device.load();
  if (d < 0) {
    return ACL_ERROR_RT_CONTEXT_NULL;
  }
  *index = static_cast<uint32_t>(d);
  return RT_ERROR_NONE;
}

rtError_t Runtime::GetDevice(int32_t* id) {
  uint32_t d = 0;
  rtError_t rc = CurrentDevice(&d);
  if (rc == RT_ERROR_NONE) {
    *id = static_cast<int32_t>(d);
  }
  return rc;
}

rtError_t Runtime::SynchronizeDevice() {
  uint32_t d = 0;
  rtError_t rc = CurrentDevice(&d);
  if (rc != RT_ERROR_NONE) {
    return rc;
  }
  std::vector<Stream*> streams;
  {
    MutexLock l(&obj_mu_);
    for (auto& kv : streams_) {
      if (kv.second->device().chip == devices_[d]->info.chip) {
        streams.push_back(kv.second.get());
      }
    }
  }
  {
    MutexLock l(&devices_[d]->mu);
    if (devices_[d]->default_stream) {
      streams.push_back(devices_[d]->default_stream.get());
    }
  }
  // Streams are destroyed only by DestroyStream, which the caller must not race with a
  // device synchronize on the same stream (same contract as the real runtime).
  for (Stream* s : streams) {
    s->Synchronize();
  }
  return RT_ERROR_NONE;
}

rtError_t Runtime::ResetDevice(int32_t id) {
  if (id < 0 || static_cast<size_t>(id) >= devices_.size()) {
    return ACL_ERROR_RT_INVALID_DEVICEID;
  }
  int32_t saved = t_device;
  t_device = id;
  rtError_t rc = SynchronizeDevice();
  t_device = saved == id ? -1 : saved;
  return rc;
}

int32_t Runtime::SlotFor(NpuSimState& state) {
  if (slot_ >= 0 && state.procs[slot_].pid == pid_ && state.procs[slot_].liveness == liveness_) {
    return slot_;
  }
  if (slot_ >= 0 && liveness_ == NPUSIM_PROC_LIVENESS_SLOT_LOCK) {
    UnlockProcSlot(slot_lock_fd_, static_cast<uint32_t>(slot_));  // lost it (cannot happen)
  }
  slot_ = -1;
  for (int32_t i = 0; i < NPUSIM_MAX_PROCS; ++i) {
    NpuSimProc& p = state.procs[i];
    // Only a pid-tracked process finds its slot by pid: a pid is not unique across containers.
    if (liveness_ == NPUSIM_PROC_LIVENESS_PID && p.pid == pid_ &&
        p.liveness == NPUSIM_PROC_LIVENESS_PID) {
      slot_ = i;
      return i;
    }
  }
  for (int32_t i = 0; i < NPUSIM_MAX_PROCS; ++i) {
    NpuSimProc& p = state.procs[i];
    if (p.pid != 0) {
      continue;
    }
    if (slot_lock_fd_ >= 0) {
      int rc = TryLockProcSlot(slot_lock_fd_, static_cast<uint32_t>(i));
      if (rc == EAGAIN) {
        continue;  // freed in the state but its owner's lock not yet dropped
      }
      if (rc == 0) {
        liveness_ = NPUSIM_PROC_LIVENESS_SLOT_LOCK;
      } else {
        // No OFD locks on this kernel: track by pid as before.
        close(slot_lock_fd_);
        slot_lock_fd_ = -1;
        liveness_ = NPUSIM_PROC_LIVENESS_PID;
      }
    }
    std::memset(&p, 0, sizeof(NpuSimProc));
    p.pid = pid_;
    p.liveness = liveness_;
    slot_ = i;
    return i;
  }
  return -1;
}

rtError_t Runtime::Charge(uint32_t device, uint64_t bytes) {
  const DeviceInfo& info = devices_[device]->info;
  StateLock lock(*state_);
  if (ChipUsedBytes(*lock, info.chip, info.vnpu_id) + bytes > info.capacity) {
    return ACL_ERROR_RT_MEMORY_ALLOCATION;
  }
  if (info.vnpu_id != 0) {
    // A slice's memory is also part of the chip's; never let the chip overflow.
    const NpuSimChip& chip = lock->chips[info.chip];
    if (ChipUsedBytes(*lock, info.chip) + bytes > (chip.memory_mb - chip.reserved_mb) << 20) {
      return ACL_ERROR_RT_MEMORY_ALLOCATION;
    }
  }
  int32_t slot = SlotFor(*lock);
  if (slot < 0) {
    return ACL_ERROR_RT_MEMORY_ALLOCATION;  // more than NPUSIM_MAX_PROCS processes
  }
  lock->procs[slot].used_bytes[info.chip] += bytes;
  lock->procs[slot].vnpu_id[info.chip] = info.vnpu_id;
  return RT_ERROR_NONE;
}

void Runtime::Uncharge(uint32_t device, uint64_t bytes) {
  const DeviceInfo& info = devices_[device]->info;
  StateLock lock(*state_);
  int32_t slot = SlotFor(*lock);
  if (slot < 0) {
    return;
  }
  uint64_t& used = lock->procs[slot].used_bytes[info.chip];
  used = used >= bytes ? used - bytes : 0;
}

void Runtime::ReleaseProcessSlot() {
  StateLock lock(*state_);
  if (slot_ < 0) {
    return;
  }
  NpuSimProc& p = lock->procs[slot_];
  if (p.pid == pid_ && p.liveness == liveness_) {
    std::memset(&p, 0, sizeof(p));
  }
  if (liveness_ == NPUSIM_PROC_LIVENESS_SLOT_LOCK) {
    UnlockProcSlot(slot_lock_fd_, static_cast<uint32_t>(slot_));
  }
  slot_ = -1;
}

void Runtime::ForgetSlotAfterFork() {
  if (slot_lock_fd_ >= 0) {
    close(slot_lock_fd_);
    slot_lock_fd_ = -1;
  }
  slot_ = -1;
}

rtError_t Runtime::Malloc(void** ptr, uint64_t size) {
  uint32_t d = 0;
  rtError_t rc = CurrentDevice(&d);
  if (rc != RT_ERROR_NONE) {
    return rc;
  }
  if (size == 0) {
    return ACL_ERROR_RT_PARAM_INVALID;
  }
  rc = Charge(d, size);
  if (rc != RT_ERROR_NONE) {
    return rc;
  }
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
  if (p == MAP_FAILED) {
    Uncharge(d, size);
    return ACL_ERROR_RT_MEMORY_ALLOCATION;
  }
  {
    MutexLock l(&mem_mu_);
    allocations_[p] = Allocation{size, d};
  }
  *ptr = p;
  return RT_ERROR_NONE;
}

rtError_t Runtime::Free(void* ptr) {
  Allocation a{};
  if (!TakeEntry(mem_mu_, &allocations_, ptr, &a)) {
    return ACL_ERROR_RT_MEMORY_FREE;
  }
  munmap(ptr, a.size);
  Uncharge(a.device, a.size);
  return RT_ERROR_NONE;
}

rtError_t Runtime::MemInfo(size_t* free_bytes, size_t* total_bytes) {
  uint32_t d = 0;
  rtError_t rc = CurrentDevice(&d);
  if (rc != RT_ERROR_NONE) {
    return rc;
  }
  const DeviceInfo& info = devices_[d]->info;
  StateLock lock(*state_);
  uint64_t used = ChipUsedBytes(*lock, info.chip, info.vnpu_id);
  *total_bytes = info.capacity;
  *free_bytes = used >= info.capacity ? 0 : info.capacity - used;
  return RT_ERROR_NONE;
}

rtError_t Runtime::MallocPhysical(rtDrvMemHandle* handle, size_t size) {
  uint32_t d = 0;
  rtError_t rc = CurrentDevice(&d);
  if (rc != RT_ERROR_NONE) {
    return rc;
  }
  if (size == 0) {
    return ACL_ERROR_RT_PARAM_INVALID;
  }
  rc = Charge(d, size);
  if (rc != RT_ERROR_NONE) {
    return rc;
  }
  int fd = memfd_create("npusim-physical", MFD_CLOEXEC);
  if (fd < 0 || ftruncate(fd, static_cast<off_t>(size)) != 0) {
    if (fd >= 0) {
      close(fd);
    }
    Uncharge(d, size);
    return ACL_ERROR_RT_MEMORY_ALLOCATION;
  }
  auto h = std::make_unique<PhysHandle>(PhysHandle{kPhysMagic, fd, size, d});
  void* key = h.get();
  {
    MutexLock l(&mem_mu_);
    physical_[key] = std::move(h);
  }
  *handle = key;
  return RT_ERROR_NONE;
}

rtError_t Runtime::FreePhysical(rtDrvMemHandle handle) {
  std::unique_ptr<PhysHandle> h;
  if (!TakeEntry(mem_mu_, &physical_, handle, &h)) {
    return ACL_ERROR_RT_PARAM_INVALID;
  }
  close(h->fd);  // pages stay alive while still mapped, as with a real handle
  Uncharge(h->device, h->size);
  return RT_ERROR_NONE;
}

rtError_t Runtime::ReserveAddress(void** ptr, size_t size) {
  if (size == 0) {
    return ACL_ERROR_RT_PARAM_INVALID;
  }
  void* p = mmap(nullptr, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    return ACL_ERROR_RT_MEMORY_ALLOCATION;
  }
  MutexLock l(&mem_mu_);
  reservations_[p] = size;
  *ptr = p;
  return RT_ERROR_NONE;
}

rtError_t Runtime::ReleaseAddress(void* ptr) {
  size_t size = 0;
  if (!TakeEntry(mem_mu_, &reservations_, ptr, &size)) {
    return ACL_ERROR_RT_PARAM_INVALID;
  }
  munmap(ptr, size);
  return RT_ERROR_NONE;
}

rtError_t Runtime::MapMem(void* ptr, size_t size, size_t offset, rtDrvMemHandle handle) {
  MutexLock l(&mem_mu_);
  auto h = physical_.find(handle);
  if (h == physical_.end() || size == 0 || offset + size > h->second->size) {
    return ACL_ERROR_RT_PARAM_INVALID;
  }
  bool inside = false;
  auto* p = static_cast<char*>(ptr);
  for (const auto& r : reservations_) {
    auto* base = static_cast<char*>(r.first);
    inside = inside || (p >= base && p + size <= base + r.second);
  }
  if (!inside) {
    return ACL_ERROR_RT_PARAM_INVALID;
  }
  void* m = mmap(ptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, h->second->fd,
                 static_cast<off_t>(offset));
  if (m == MAP_FAILED) {
    return ACL_ERROR_RT_PARAM_INVALID;
  }
  mappings_[ptr] = size;
  return RT_ERROR_NONE;
}

rtError_t Runtime::UnmapMem(void* ptr) {
  MutexLock l(&mem_mu_);
  auto it = mappings_.find(ptr);
  if (it == mappings_.end()) {
    return ACL_ERROR_RT_PARAM_INVALID;
  }
  // Put the reservation back in place of the mapping.
  mmap(ptr, it->second, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
  mappings_.erase(it);
  return RT_ERROR_NONE;
}

rtError_t Runtime::CreateStream(rtStream_t* stream) {
  uint32_t d = 0;
  rtError_t rc = CurrentDevice(&d);
  if (rc != RT_ERROR_NONE) {
    return rc;
  }
  auto s = std::make_unique<Stream>(&devices_[d]->info);
  void* key = s.get();
  MutexLock l(&obj_mu_);
  streams_[key] = std::move(s);
  *stream = key;
  return RT_ERROR_NONE;
}

rtError_t Runtime::DestroyStream(rtStream_t stream) {
  std::unique_ptr<Stream> s;
  if (!TakeEntry(obj_mu_, &streams_, stream, &s)) {
    return ACL_ERROR_RT_PARAM_INVALID;
  }
  s.reset();  // drains and joins outside the lock
  return RT_ERROR_NONE;
}

rtError_t Runtime::ResolveStream(rtStream_t stream, Stream** out) {
  if (stream == nullptr) {
    uint32_t d = 0;
    rtError_t rc = CurrentDevice(&d);
    if (rc != RT_ERROR_NONE) {
      return rc;
    }
    Device& dev = *devices_[d];
    MutexLock l(&dev.mu);
    if (!dev.default_stream) {
      dev.default_stream = std::make_unique<Stream>(&dev.info);
    }
    *out = dev.default_stream.get();
    return RT_ERROR_NONE;
  }
  MutexLock l(&obj_mu_);
  auto it = streams_.find(stream);
  if (it == streams_.end()) {
    return ACL_ERROR_RT_PARAM_INVALID;
  }
  *out = it->second.get();
  return RT_ERROR_NONE;
}

rtError_t Runtime::Launch(rtStream_t stream, const KernelDesc& desc, uint32_t num_blocks) {
  Stream* s = nullptr;
  rtError_t rc = ResolveStream(stream, &s);
  if (rc != RT_ERROR_NONE) {
    return rc;
  }
  if (num_blocks == 0) {
    return ACL_ERROR_RT_PARAM_INVALID;
  }
  Task t;
  t.kind = Task::Kind::kKernel;
  t.cores = desc.cores != 0 ? desc.cores : num_blocks;
  t.duration_ns = desc.duration_ns;
  t.enqueue_ns = MonotonicNs();
  s->Enqueue(t);
  return RT_ERROR_NONE;
}

rtError_t Runtime::LoadBinary(const void* data, uint64_t length, rtBinHandle* bin) {
  if (data == nullptr || length == 0) {
    return ACL_ERROR_RT_PARAM_INVALID;
  }
  auto b = std::make_unique<Binary>();
  b->magic = kBinaryMagic;
  ParseBinaryDescriptor(data, length, &b->desc);
  void* key = b.get();
  MutexLock l(&obj_mu_);
  binaries_[key] = std::move(b);
  *bin = key;
  return RT_ERROR_NONE;
}

rtError_t Runtime::UnloadBinary(rtBinHandle bin) {
  MutexLock l(&obj_mu_);
  auto it = binaries_.find(bin);
  if (it == binaries_.end()) {
    return ACL_ERROR_RT_INVALID_HANDLE;
  }
  for (const auto& f : it->second->functions) {
    functions_.erase(f.get());
  }
  binaries_.erase(it);
  return RT_ERROR_NONE;
}

rtError_t Runtime::GetFunction(rtBinHandle bin, const char* name, rtFuncHandle* func) {
  if (name == nullptr || strnlen(name, 256) == 256) {
    return ACL_ERROR_RT_PARAM_INVALID;
  }
  MutexLock l(&obj_mu_);
  auto it = binaries_.find(bin);
  if (it == binaries_.end()) {
    return ACL_ERROR_RT_INVALID_HANDLE;
  }
  auto f = std::make_unique<Function>();
  f->magic = kFunctionMagic;
  f->desc = it->second->desc;
  ParseKernelName(name, &f->desc);
  *func = f.get();
  functions_[f.get()] = f->desc;
  it->second->functions.push_back(std::move(f));
  return RT_ERROR_NONE;
}

rtError_t Runtime::RegisterStub(rtBinHandle bin, const void* stub, const char* name) {
  if (stub == nullptr) {
    return ACL_ERROR_RT_PARAM_INVALID;
  }
  MutexLock l(&obj_mu_);
  KernelDesc desc;
  auto it = binaries_.find(bin);
  if (it != binaries_.end()) {
    desc = it->second->desc;
  }
  if (name != nullptr && strnlen(name, 256) < 256) {
    ParseKernelName(name, &desc);
  }
  stubs_[stub] = desc;
  return RT_ERROR_NONE;
}

rtError_t Runtime::DescForFunction(rtFuncHandle func, KernelDesc* desc) {
  MutexLock l(&obj_mu_);
  auto it = functions_.find(func);
  if (it == functions_.end()) {
    return ACL_ERROR_RT_INVALID_HANDLE;
  }
  *desc = it->second;
  return RT_ERROR_NONE;
}

KernelDesc Runtime::DescForStub(const void* stub) {
  MutexLock l(&obj_mu_);
  auto it = stubs_.find(stub);
  return it == stubs_.end() ? KernelDesc{} : it->second;
}

KernelDesc Runtime::DescForBinary(rtBinHandle bin) {
  MutexLock l(&obj_mu_);
  auto it = binaries_.find(bin);
  return it == binaries_.end() ? KernelDesc{} : it->second->desc;
}

}  // namespace npushare::sim
