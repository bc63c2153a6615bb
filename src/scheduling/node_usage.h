// File: scheduling/node_usage.h
//
// NodeState and usage reconstruction: which devices a node registered, and how
// much of each the pods already placed there use (hami-protocol.md §4.3 "Usage
// reconstruction"). Per pod and device, app containers add up (each occurrence is
// one slot) while init containers run one at a time (their maximum, one slot);
// the pod's effective use is the larger of the two, field by field.
//
// Thread safety: plain values and pure functions.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "config/device_config.h"
#include "hami/types.h"
#include "scheduling/device_usage.h"

namespace npushare::scheduling {

// PodAllocation: <cw> -> per container (init containers first) the granted devices.
using PodAllocation = std::map<std::string, hami::PodDevices, std::less<>>;

// NodeState: a node as the scheduler sees it.
struct NodeState {
  std::string name;
  hami::Annotations annotations;
  // <cw> -> devices decoded from hami.io/node-register-<cw>, in registration order.
  std::map<std::string, std::vector<hami::DeviceInfo>, std::less<>> registered;
};

// PlacedPod: a pod that already holds devices on some node.
struct PlacedPod {
  std::string key;  // namespace/name
  std::string node;
  size_t init_containers = 0;  // how many leading entries of each PodDevices are init containers
  PodAllocation allocation;
  // The pod is a soft-slicing (hami-core) pod: its grants use the physical chip. Hard-slicing
  // grants become vNPUs (see AddPodUsage). Set from PodSpec::IsHamiCore().
  bool hami_core = false;
};

// NodeDevices: <cw> -> DeviceUsage list (registration order), capacity plus usage.
using NodeDevices = std::map<std::string, DeviceUsageList, std::less<>>;

// CapacityOf: the node's devices with zero usage.
// The result views strings of `node` (see device_usage.h): keep `node` alive and unmoved.
NodeDevices CapacityOf(const NodeState& node);

// AddPodUsage: adds one placed pod's effective use to `devices` (devices it names that are
// not registered on the node are ignored: the pod's view is stale, not ours to invent).
// This form does not know the chip's templates, so it leaves DeviceUsage::slices alone and
// the placement rule (vnpu_placement.h) cannot see the pod: prefer the overload below.
void AddPodUsage(NodeDevices& devices, const PlacedPod& pod);

// AddPodUsage: as above, and records on each device what the pod occupies for the
// placement rule: a hard-slicing grant whose memory rounds up to one of the chip's templates
// (TrimMemory, the `temp` the device plugin creates) is a vNPU of that template; any other
// grant (whole card, hami-core pod) uses the physical chip. Unlike memory (upstream's
// init-peak-vs-app-sum), slices of ALL containers add up: the runtime destroys a vNPU in the
// container's poststop hook (ascend-abi.md §4.2), i.e. when the container is deleted, and
// kubelet keeps exited init containers until the pod goes. An init container's whole-chip
// use counts only on chips where no app container has a vNPU. Chips missing from `config`
// get no slices.
void AddPodUsage(NodeDevices& devices, const PlacedPod& pod, const config::DeviceConfig& config);

}  // namespace npushare::scheduling
