// File: sim/container/ascend_hook/vnpu_driver.h
//
// VnpuDriver: the driver calls the Ascend runtime class needs (ascend-abi.md §4.2), as a seam:
// DcmiVnpuDriver (dcmi_vnpu_driver.h) dlopens libdcmi.so by its real name, tests use a fake.
//
// Thread safety: implementations need not be thread-safe (the hook is single-threaded).
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace npushare::container_sim {

struct ChipLocation {
  int32_t card = 0;
  int32_t device = 0;
};

class VnpuDriver {
 public:
  virtual ~VnpuDriver() = default;
  // Locate: physical id -> logic id -> (card, device), as ascend-docker-runtime does.
  // kNotFound when the chip does not exist.
  virtual Result<ChipLocation> Locate(uint32_t phy_id) = 0;
  // CreateVnpu: dcmi_create_vdevice with vdev_id/vfg_id "allocate"; the new vNPU id.
  virtual Result<uint32_t> CreateVnpu(const ChipLocation& chip, const std::string& tmpl) = 0;
  // DestroyVnpu: dcmi_set_destroy_vdevice. kNotFound when it no longer exists, kAlreadyExists
  // while a process still holds its memory.
  virtual Status DestroyVnpu(const ChipLocation& chip, uint32_t vdev_id) = 0;
};

}  // namespace npushare::container_sim
