// File: cli/manifest_reader.h
//
// Reads the inputs of `npushare schedule`: Pod manifests and node descriptions
// (YAML, multi-document; `kind: List` / `PodList` / `NodeList` are unwrapped).
//
// Nodes come in two shapes:
//  * Node objects (e.g. pasted from `kubectl get node -o yaml`): the device
//    inventory is read from the annotations the device plugin writes
//    (hami.io/node-register-<cw>, hami-vnpu-core), through the same decoder the
//    scheduler uses;
//  * the compact form, one document with a `nodes:` list:
//        nodes:
//        - name: node-a
//          chip: Ascend910B3      # commonWord or chipName from the device config
//          count: 8               # chips on the node
//          hamiVnpuCore: true     # soft slicing enabled on this node (default false)
//          vDeviceCount: 8        # slots per chip (default: memoryAllocatable /
//                                 #   smallest template, 1 without templates)
//          unhealthy: [3]         # indexes of unhealthy chips
//          networkIds: [0,0,1,1]  # optional NetworkID per chip (default: plugin rule)
//    which is turned into exactly the annotations our device plugin would write,
//    then decoded like a real node. Unknown and duplicate keys are errors (a typo would
//    otherwise change the capacity silently).
//
// Pods that already carry hami.io/vgpu-node and hami.io/<cw>-devices-allocated
// are "placed": they are not scheduled again but their usage counts.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "config/device_config.h"
#include "scheduling/node_usage.h"
#include "scheduling/pod_spec.h"

namespace npushare::cli {

// ReadPods: every Pod in the YAML text, in document order.
Result<std::vector<scheduling::PodSpec>> ReadPods(std::string_view yaml_text);

// ReadNodes: every node in the YAML text (both shapes), in document order.
Result<std::vector<scheduling::NodeState>> ReadNodes(std::string_view yaml_text,
                                                     const config::DeviceConfig& config);

// PlacedPodFromSpec (= scheduling::PlacedPodOf): the usage of a pod that already carries allocation
// annotations, or nullopt when it carries none. kInvalidArgument when an allocation annotation is
// malformed.
Result<std::optional<scheduling::PlacedPod>> PlacedPodFromSpec(const scheduling::PodSpec& pod,
                                                               const config::DeviceConfig& config);

}  // namespace npushare::cli
