// File: sim/container/ascend_hook/ascend_contract.h
//
// The `ascend` RuntimeClass contract (ascend-abi.md §4.2) applied to an OCI config.json, as
// npushare-ascend-hook does it. Three steps:
//   ApplyCreate      (at create, run by the container runtime before the container exists, as
//                    ascend-docker-runtime does before calling runc): reads
//                    ASCEND_VISIBLE_DEVICES / ASCEND_RUNTIME_OPTIONS / ASCEND_VNPU_SPECS (the
//                    last occurrence wins), creates the vNPU for ASCEND_VNPU_SPECS and
//                    substitutes its id (ASCEND_VISIBLE_DEVICES=<vid>, VIRTUAL appended to
//                    the options), adds the device nodes that exist on the host
//                    (/dev/davinciN or /dev/vdavinciN shown as /dev/davinciN, management
//                    devices) with device-cgroup rules, the driver mounts unless NODRV, and
//                    npu-sim's state directory read-write (npu-sim's stand-in for the device
//                    nodes; without it the application sees no chips).
//   CheckCreateRuntime (createRuntime hook): every visible chip exists on the node.
//   DestroyRecorded  (poststop hook): destroys the vNPU recorded by ApplyCreate.
// The vNPU is recorded in <bundle>/ascend-vnpu.json before config.json changes, so a failure
// anywhere later still lets poststop destroy it.
//
// Thread safety: pure functions over their arguments, except for the driver calls.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "sim/container/ascend_hook/vnpu_driver.h"

namespace npushare::container_sim {

struct AscendOptions {
  bool nodrv = false;
  bool virtual_ids = false;
};

// ParseRuntimeOptions: "", "NODRV", "VIRTUAL", "NODRV,VIRTUAL" (either order).
Result<AscendOptions> ParseRuntimeOptions(const std::string& text);

// IsAllowedVnpuTemplate: the allow-list of ascend-docker-runtime (dcmi_api.go).
bool IsAllowedVnpuTemplate(const std::string& name);

// LastEnv: the value of the last "K=..." in env, or nullopt.
std::optional<std::string> LastEnv(const std::vector<std::string>& env, const std::string& key);

// SetEnv: removes every "K=..." and appends "K=value".
void SetEnv(std::vector<std::string>* env, const std::string& key, const std::string& value);

// BundleFromState: the "bundle" of an OCI state document (at most 64 KiB, JSON object,
// absolute path without "..").
Result<std::string> BundleFromState(const std::string& state_text);

struct CreateInputs {
  std::string bundle_dir;
  std::vector<std::string> driver_dirs;
  std::string state_dir;  // npu-sim's NPU_SIM_STATE as the hook resolves it; empty: none
};

// ApplyCreate: the create step on `config` (modified in place). Writes the vNPU record
// through `record` (called before any other change once a vNPU exists).
Status ApplyCreate(const CreateInputs& in, VnpuDriver& driver, nlohmann::json* config,
                   const std::function<Status(const nlohmann::json&)>& record);

// CheckCreateRuntime: every chip of the (already substituted) config exists.
Status CheckCreateRuntime(const nlohmann::json& config, const std::optional<nlohmann::json>& record,
                          VnpuDriver& driver);

// DestroyRecorded: destroys the recorded vNPU; retries while a (dying) process still holds its
// memory, up to `busy_timeout`. OK when it is already gone.
Status DestroyRecorded(const nlohmann::json& record, VnpuDriver& driver,
                       std::chrono::milliseconds busy_timeout);

}  // namespace npushare::container_sim
