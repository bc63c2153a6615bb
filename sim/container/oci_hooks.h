// File: sim/container/oci_hooks.h
//
// OCI hooks as the runtime spec defines them (config.json "hooks": createRuntime, poststop,
// ...; each {path, args, env, timeout}; the container state JSON on stdin), and the Ascend
// runtime-class steps the container runtime performs around them (contract B,
// docs/npu-sim.md "Ascend runtime"):
//   1. at create, in the runtime (as ascend-docker-runtime does before calling runc): the
//      createRuntime and poststop hooks are added to config.json, then
//      `npushare-ascend-hook create --bundle B [--driver-dir D]...` rewrites config.json
//      (driver mounts, devices, vNPU creation, env substitution);
//   2. createRuntime hook: the visible chips are checked against the driver;
//   3. poststop hook: the vNPU recorded in B/ascend-vnpu.json is destroyed.
// runc runs the hooks itself; the namespace runtime runs them with RunOciHooks. After a
// container is gone the runtime runs poststop again when the vNPU record is still there (runc
// never got to run it, e.g. the start failed): the hook is idempotent.
//
// Thread safety: functions are safe to call concurrently.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"
#include "sim/container/bundle.h"
#include "sim/container/container_runtime.h"

namespace npushare::container_sim {

inline constexpr char kVnpuRecordFile[] = "ascend-vnpu.json";

// OciState: the state document a hook reads on stdin.
std::string OciState(const std::string& id, const std::string& status, int pid,
                     const std::string& bundle_dir);

// RunOciHooks: runs config["hooks"][phase] in order; the first failure is returned with the
// hook's stderr.
Status RunOciHooks(const nlohmann::json& config, const std::string& phase,
                   const std::string& state);

// AddAscendHooks: adds the createRuntime and poststop hooks (options.ascend_hook, with
// options.driver_env as their environment) to `config`.
void AddAscendHooks(const RuntimeOptions& options, nlohmann::json* config);

// RunAscendCreate: step 1 above on the bundle's config.json.
Status RunAscendCreate(const RuntimeOptions& options, const BundlePaths& bundle);

// CleanupAscend: runs the poststop hooks of the bundle's config.json when a vNPU record is
// still present (no-op otherwise).
Status CleanupAscend(const BundlePaths& bundle, const std::string& id);

}  // namespace npushare::container_sim
