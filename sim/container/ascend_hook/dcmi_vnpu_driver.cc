#include "sim/container/ascend_hook/dcmi_vnpu_driver.h"

#include <dlfcn.h>

#include <cstring>

#include "sim/npu/include/dcmi_interface_api.h"

namespace npushare::container_sim {

struct DcmiVnpuDriver::Symbols {
  decltype(&dcmi_init) init = nullptr;
  decltype(&dcmi_get_device_logicid_from_phyid) logic_from_phy = nullptr;
  decltype(&dcmi_get_card_id_device_id_from_logicid) card_from_logic = nullptr;
  decltype(&dcmi_create_vdevice) create = nullptr;
  decltype(&dcmi_set_destroy_vdevice) destroy = nullptr;
};

namespace {

template <typename F>
bool Resolve(void* handle, const char* name, F* out) {
  void* p = dlsym(handle, name);
  if (p == nullptr) {
    return false;
  }
  *out = reinterpret_cast<F>(p);
  return true;
}

Status CodeError(const std::string& call, int code) {
  std::string msg = call + ": DCMI error " + std::to_string(code);
  switch (code) {
    case DCMI_ERR_CODE_INVALID_PARAMETER:
      return InvalidArgumentError(msg);
    case DCMI_ERR_CODE_INVALID_DEVICE_ID:
    case DCMI_ERR_CODE_DEVICE_NOT_EXIST:
      return NotFoundError(msg);
    case DCMI_ERR_CODE_RESOURCE_OCCUPIED:
      return AlreadyExistsError(msg);
    case DCMI_ERR_CODE_NOT_SUPPORT:
      return ResourceExhaustedError(msg + " (not supported or no room for the template)");
    default:
      return UnavailableError(msg);
  }
}

}  // namespace

DcmiVnpuDriver::DcmiVnpuDriver(void* handle, std::unique_ptr<Symbols> symbols)
    : handle_(handle), sym_(std::move(symbols)) {}

DcmiVnpuDriver::~DcmiVnpuDriver() {
  if (handle_ != nullptr) {
    dlclose(handle_);
  }
}

Result<std::unique_ptr<DcmiVnpuDriver>> DcmiVnpuDriver::Open(const std::string& library) {
  void* handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* err = dlerror();
    return NotFoundError("cannot load " + library + ": " + (err != nullptr ? err : "?") +
                         " (is the driver on LD_LIBRARY_PATH?)");
  }
  auto sym = std::make_unique<Symbols>();
  bool ok = Resolve(handle, "dcmi_init", &sym->init) &&
            Resolve(handle, "dcmi_get_device_logicid_from_phyid", &sym->logic_from_phy) &&
            Resolve(handle, "dcmi_get_card_id_device_id_from_logicid", &sym->card_from_logic) &&
            Resolve(handle, "dcmi_create_vdevice", &sym->create) &&
            Resolve(handle, "dcmi_set_destroy_vdevice", &sym->destroy);
  std::unique_ptr<DcmiVnpuDriver> driver(new DcmiVnpuDriver(handle, std::move(sym)));
  if (!ok) {
    return FailedPreconditionError(library + " lacks a DCMI symbol the ascend runtime needs");
  }
  int rc = driver->sym_->init();
  if (rc != DCMI_OK) {
    return UnavailableError("dcmi_init: DCMI error " + std::to_string(rc) +
                            " (no driver state? check NPU_SIM_STATE)");
  }
  return driver;
}

Result<ChipLocation> DcmiVnpuDriver::Locate(uint32_t phy_id) {
  unsigned int logic = 0;
  int rc = sym_->logic_from_phy(phy_id, &logic);
  if (rc != DCMI_OK) {
    return NotFoundError("chip " + std::to_string(phy_id) +
                         " does not exist on this node (dcmi_get_device_logicid_from_phyid: " +
                         std::to_string(rc) + ")");
  }
  ChipLocation loc;
  rc = sym_->card_from_logic(&loc.card, &loc.device, logic);
  if (rc != DCMI_OK) {
    return CodeError("dcmi_get_card_id_device_id_from_logicid", rc);
  }
  return loc;
}

Result<uint32_t> DcmiVnpuDriver::CreateVnpu(const ChipLocation& chip, const std::string& tmpl) {
  dcmi_create_vdev_res_stru req{};
  req.vdev_id = DCMI_VDEV_INVALID_ID;
  req.vfg_id = DCMI_VDEV_INVALID_ID;
  if (tmpl.size() >= sizeof(req.template_name)) {
    return InvalidArgumentError("template name too long");
  }
  std::memcpy(req.template_name, tmpl.c_str(), tmpl.size() + 1);
  dcmi_create_vdev_out out{};
  int rc = sym_->create(chip.card, chip.device, &req, &out);
  if (rc != DCMI_OK) {
    return CodeError("dcmi_create_vdevice(card " + std::to_string(chip.card) + ", device " +
                         std::to_string(chip.device) + ", " + tmpl + ")",
                     rc);
  }
  return static_cast<uint32_t>(out.vdev_id);
}

Status DcmiVnpuDriver::DestroyVnpu(const ChipLocation& chip, uint32_t vdev_id) {
  int rc = sym_->destroy(chip.card, chip.device, vdev_id);
  if (rc == DCMI_OK) {
    return OkStatus();
  }
  if (rc == DCMI_ERR_CODE_INVALID_PARAMETER) {
    // npu-sim and the driver answer "invalid parameter" for a vNPU id that no longer exists.
    return NotFoundError("vNPU " + std::to_string(vdev_id) + " does not exist");
  }
  return CodeError("dcmi_set_destroy_vdevice(card " + std::to_string(chip.card) + ", device " +
                       std::to_string(chip.device) + ", " + std::to_string(vdev_id) + ")",
                   rc);
}

}  // namespace npushare::container_sim
