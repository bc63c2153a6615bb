#include "deviceplugin/devices/dcmi_library.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstring>

namespace npushare::deviceplugin::devices {
namespace {

namespace abi = dcmi_internal;

constexpr int kMaxCards = 64;  // MindCluster's HiAIMaxCardNum

// CString: a fixed-size, possibly unterminated C char array as a string.
std::string CString(const unsigned char* p, size_t n) {
  size_t len = 0;
  while (len < n && p[len] != 0) {
    ++len;
  }
  return std::string(reinterpret_cast<const char*>(p), len);
}

std::string Call(const char* name, int32_t card, int32_t device) {
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%s(card %d, device %d)", name, card, device);
  return buf;
}

template <typename Fn>
Fn Resolve(void* handle, const char* name) {
  // dlsym returns a data pointer; POSIX guarantees the conversion for function symbols.
  void* sym = dlsym(handle, name);
  Fn fn;
  static_assert(sizeof(fn) == sizeof(sym));
  std::memcpy(&fn, &sym, sizeof(fn));
  return fn;
}

}  // namespace

Status DcmiStatus(int code, const std::string& call) {
  if (code == 0) {
    return OkStatus();
  }
  std::string msg = call + ": DCMI error " + std::to_string(code);
  switch (code) {
    case -8001:
      return InvalidArgumentError(msg);
    case -8002:
      return PermissionDeniedError(msg);
    case -8007:
    case -8008:
      return NotFoundError(msg);
    case -8020:
      return AlreadyExistsError(msg);
    case -8255:
    case -99998:
      return UnimplementedError(msg);
    default:
      return UnavailableError(msg);
  }
}

std::string FormatDieUuid(const DcmiDieId& die) {
  char buf[5 * 9 + 1];
  std::snprintf(buf, sizeof(buf), "%08X-%08X-%08X-%08X-%08X", die[0], die[1], die[2], die[3],
                die[4]);
  return buf;
}

Result<std::unique_ptr<DcmiLibrary>> DcmiLibrary::Open(const DcmiLibraryOptions& options) {
  // RTLD_LAZY as MindCluster does: the vendor library pulls in driver libraries whose unused
  // symbols need not resolve. RTLD_LOCAL: nothing of it leaks into our symbol namespace.
  void* handle = dlopen(options.path.c_str(), RTLD_LAZY | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* err = dlerror();
    return NotFoundError("cannot load DCMI library " + options.path + ": " +
                         (err != nullptr ? err : "unknown error"));
  }
  Symbols s;
  s.init = Resolve<abi::InitFn>(handle, "dcmi_init");
  s.get_card_list = Resolve<abi::GetCardListFn>(handle, "dcmi_get_card_list");
  s.get_device_num_in_card =
      Resolve<abi::GetDeviceNumInCardFn>(handle, "dcmi_get_device_num_in_card");
  s.get_device_logic_id = Resolve<abi::GetDeviceLogicIdFn>(handle, "dcmi_get_device_logic_id");
  s.get_phyid_from_logicid =
      Resolve<abi::GetPhyIdFromLogicIdFn>(handle, "dcmi_get_device_phyid_from_logicid");
  s.get_chip_info = Resolve<abi::GetChipInfoFn>(handle, "dcmi_get_device_chip_info");
  s.get_die_v2 = Resolve<abi::GetDieV2Fn>(handle, "dcmi_get_device_die_v2");
  s.get_health = Resolve<abi::GetHealthFn>(handle, "dcmi_get_device_health");
  s.get_device_info = Resolve<abi::GetDeviceInfoFn>(handle, "dcmi_get_device_info");
  s.destroy_vdevice = Resolve<abi::DestroyVdeviceFn>(handle, "dcmi_set_destroy_vdevice");
  const std::pair<const char*, bool> required[] = {
      {"dcmi_init", s.init != nullptr},
      {"dcmi_get_card_list", s.get_card_list != nullptr},
      {"dcmi_get_device_num_in_card", s.get_device_num_in_card != nullptr},
      {"dcmi_get_device_logic_id", s.get_device_logic_id != nullptr},
      {"dcmi_get_device_phyid_from_logicid", s.get_phyid_from_logicid != nullptr},
      {"dcmi_get_device_chip_info", s.get_chip_info != nullptr},
      {"dcmi_get_device_die_v2", s.get_die_v2 != nullptr},
      {"dcmi_get_device_health", s.get_health != nullptr},
  };
  for (const auto& [name, ok] : required) {
    if (!ok) {
      dlclose(handle);
      return FailedPreconditionError(options.path + " has no symbol " + name +
                                     " (driver too old?)");
    }
  }
  return std::unique_ptr<DcmiLibrary>(new DcmiLibrary(handle, s));
}

DcmiLibrary::~DcmiLibrary() {
  dlclose(handle_);
}

Status DcmiLibrary::Init() {
  MutexLock lock(&mu_);
  return DcmiStatus(sym_.init(), "dcmi_init");
}

Result<std::vector<int32_t>> DcmiLibrary::CardList() {
  int num = 0;
  int list[kMaxCards] = {};
  MutexLock lock(&mu_);
  NPUSHARE_RETURN_IF_ERROR(
      DcmiStatus(sym_.get_card_list(&num, list, kMaxCards), "dcmi_get_card_list"));
  if (num < 0 || num > kMaxCards) {
    return UnavailableError("dcmi_get_card_list: card count " + std::to_string(num) +
                            " out of range");
  }
  std::vector<int32_t> cards;
  for (int i = 0; i < num; ++i) {
    if (list[i] >= 0) {  // MindCluster skips negative ids
      cards.push_back(list[i]);
    }
  }
  return cards;
}

Result<int32_t> DcmiLibrary::DeviceCountInCard(int32_t card_id) {
  int n = 0;
  MutexLock lock(&mu_);
  NPUSHARE_RETURN_IF_ERROR(DcmiStatus(sym_.get_device_num_in_card(card_id, &n),
                                      Call("dcmi_get_device_num_in_card", card_id, 0)));
  return static_cast<int32_t>(n);
}

Result<int32_t> DcmiLibrary::LogicId(int32_t card_id, int32_t device_id) {
  int logic = -1;
  MutexLock lock(&mu_);
  NPUSHARE_RETURN_IF_ERROR(DcmiStatus(sym_.get_device_logic_id(&logic, card_id, device_id),
                                      Call("dcmi_get_device_logic_id", card_id, device_id)));
  return static_cast<int32_t>(logic);
}

Result<int32_t> DcmiLibrary::PhysIdFromLogicId(int32_t logic_id) {
  unsigned int phys = 0;
  MutexLock lock(&mu_);
  NPUSHARE_RETURN_IF_ERROR(
      DcmiStatus(sym_.get_phyid_from_logicid(static_cast<unsigned int>(logic_id), &phys),
                 "dcmi_get_device_phyid_from_logicid(" + std::to_string(logic_id) + ")"));
  if (phys >= 256) {  // MindCluster's valid range
    return UnavailableError("dcmi_get_device_phyid_from_logicid: phys id " + std::to_string(phys) +
                            " out of range");
  }
  return static_cast<int32_t>(phys);
}

Result<DcmiChipInfo> DcmiLibrary::ChipInfo(int32_t card_id, int32_t device_id) {
  abi::ChipInfo raw{};
  {
    MutexLock lock(&mu_);
    NPUSHARE_RETURN_IF_ERROR(DcmiStatus(sym_.get_chip_info(card_id, device_id, &raw),
                                        Call("dcmi_get_device_chip_info", card_id, device_id)));
  }
  DcmiChipInfo info;
  info.chip_type = CString(raw.chip_type, sizeof(raw.chip_type));
  info.chip_name = CString(raw.chip_name, sizeof(raw.chip_name));
  info.chip_ver = CString(raw.chip_ver, sizeof(raw.chip_ver));
  info.aicore_count = raw.aicore_cnt;
  return info;
}

Result<DcmiDieId> DcmiLibrary::DieId(int32_t card_id, int32_t device_id) {
  abi::DieId raw{};
  MutexLock lock(&mu_);
  NPUSHARE_RETURN_IF_ERROR(DcmiStatus(sym_.get_die_v2(card_id, device_id, abi::kVdieType, &raw),
                                      Call("dcmi_get_device_die_v2", card_id, device_id)));
  DcmiDieId die;
  for (size_t i = 0; i < die.size(); ++i) {
    die[i] = raw.soc_die[i];
  }
  return die;
}

Result<uint32_t> DcmiLibrary::Health(int32_t card_id, int32_t device_id) {
  unsigned int health = 0;
  MutexLock lock(&mu_);
  NPUSHARE_RETURN_IF_ERROR(DcmiStatus(sym_.get_health(card_id, device_id, &health),
                                      Call("dcmi_get_device_health", card_id, device_id)));
  return static_cast<uint32_t>(health);
}

Result<std::vector<uint32_t>> DcmiLibrary::VnpuIds(int32_t card_id, int32_t device_id) {
  if (sym_.get_device_info == nullptr) {
    return UnimplementedError("libdcmi has no dcmi_get_device_info");
  }
  abi::SocTotalResource total{};
  unsigned int size = sizeof(total);
  MutexLock lock(&mu_);
  NPUSHARE_RETURN_IF_ERROR(
      DcmiStatus(sym_.get_device_info(card_id, device_id, abi::kMainCmdVdevMng,
                                      abi::kSubCmdTotalResource, &total, &size),
                 Call("dcmi_get_device_info(VDEV_MNG, TOTAL)", card_id, device_id)));
  std::vector<uint32_t> ids;
  const uint32_t n = total.vdev_num < 32 ? total.vdev_num : 32;  // never trust the count
  for (uint32_t i = 0; i < n; ++i) {
    ids.push_back(total.vdev_id[i]);
  }
  return ids;
}

Result<DcmiVnpuInfo> DcmiLibrary::VnpuInfo(int32_t card_id, int32_t device_id, uint32_t vdev_id) {
  if (sym_.get_device_info == nullptr) {
    return UnimplementedError("libdcmi has no dcmi_get_device_info");
  }
  abi::VdevQuery q{};
  q.vdev_id = vdev_id;
  unsigned int size = sizeof(q);
  {
    MutexLock lock(&mu_);
    NPUSHARE_RETURN_IF_ERROR(
        DcmiStatus(sym_.get_device_info(card_id, device_id, abi::kMainCmdVdevMng,
                                        abi::kSubCmdVdevResource, &q, &size),
                   Call("dcmi_get_device_info(VDEV_MNG, VDEV)", card_id, device_id)));
  }
  DcmiVnpuInfo info;
  info.vdev_id = vdev_id;
  if (static_cast<unsigned char>(q.query_info.name[0]) != 0xFF) {  // 0xFF: "NA"
    info.template_name = CString(reinterpret_cast<const unsigned char*>(q.query_info.name),
                                 sizeof(q.query_info.name));
  }
  info.status = q.query_info.status;
  info.is_container_used = q.query_info.is_container_used;
  info.container_id = q.query_info.container_id;
  return info;
}

Status DcmiLibrary::DestroyVnpu(int32_t card_id, int32_t device_id, uint32_t vdev_id) {
  if (sym_.destroy_vdevice == nullptr) {
    return UnimplementedError("libdcmi has no dcmi_set_destroy_vdevice");
  }
  MutexLock lock(&mu_);
  return DcmiStatus(
      sym_.destroy_vdevice(card_id, device_id, vdev_id),
      Call("dcmi_set_destroy_vdevice", card_id, device_id) + " vNPU " + std::to_string(vdev_id));
}

}  // namespace npushare::deviceplugin::devices
