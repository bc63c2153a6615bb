// File: sim/container/ascend_hook/dcmi_vnpu_driver.h
//
// DcmiVnpuDriver: VnpuDriver over dlopen("libdcmi.so") (found through LD_LIBRARY_PATH, which
// the runtime sets from RuntimeOptions.driver_env; on a real node the driver's own library).
//
// Usage:
//   NPUSHARE_ASSIGN_OR_RETURN(auto driver, DcmiVnpuDriver::Open("libdcmi.so"));
//
// Thread safety: not thread-safe.
#pragma once

#include <memory>
#include <string>

#include "sim/container/ascend_hook/vnpu_driver.h"

namespace npushare::container_sim {

class DcmiVnpuDriver final : public VnpuDriver {
 public:
  // Open: dlopen + dlsym + dcmi_init. kNotFound (with dlerror) when the library is missing,
  // kFailedPrecondition when a symbol is missing, kUnavailable when dcmi_init fails.
  static Result<std::unique_ptr<DcmiVnpuDriver>> Open(const std::string& library);
  ~DcmiVnpuDriver() override;
  DcmiVnpuDriver(const DcmiVnpuDriver&) = delete;
  DcmiVnpuDriver& operator=(const DcmiVnpuDriver&) = delete;

  Result<ChipLocation> Locate(uint32_t phy_id) override;
  Result<uint32_t> CreateVnpu(const ChipLocation& chip, const std::string& tmpl) override;
  Status DestroyVnpu(const ChipLocation& chip, uint32_t vdev_id) override;

 private:
  struct Symbols;
  DcmiVnpuDriver(void* handle, std::unique_ptr<Symbols> symbols);
  void* handle_;
  std::unique_ptr<Symbols> sym_;
};

}  // namespace npushare::container_sim
