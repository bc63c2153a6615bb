// File: sim/kubelet/kubelet_rules.h
//
// The pure decisions kubelet's device manager makes, written down so the stand-in makes them
// the same way (k8s-apis.md §1.5, §1.6; kubelet pkg/kubelet/cm/devicemanager):
//   CheckRegisterRequest  which Register calls kubelet refuses, with kubelet's error texts;
//   IsExtendedResourceName kubelet's (v1helper) test of a resource name;
//   PickDevices           devicesToAllocate without topology information: reusable devices
//                         first, then the plugin's preference ∩ available, then the rest.
// Kubelet iterates Go sets (arbitrary order); where it would pick "any", these pick in sorted
// order, so tests are deterministic.
//
// Thread safety: stateless functions, safe for concurrent use.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace npushare::kubelet_sim {

// IsExtendedResourceName: true for a domain-prefixed name outside the kubernetes.io domain, not
// prefixed "requests.", such that "requests.<name>" is a valid qualified name (DNS-1123
// subdomain prefix, then a name of at most 63 characters).
bool IsExtendedResourceName(std::string_view name);

// CheckRegisterRequest: OK when kubelet accepts `version` and `resource_name`; otherwise
// kUnknown (what a Go error without a gRPC status becomes on the wire) with kubelet's text:
//   requested API version "X" is not supported by kubelet. Supported version is ["v1beta1"]
//   the ResourceName "X" is invalid
Status CheckRegisterRequest(std::string_view version, std::string_view resource_name);

// PickDevices: the IDs kubelet sends in Allocate for a container that needs `required` devices
// of `resource`, given `reusable` (devices already held for this container, e.g. from an init
// container: taken first), `available` (healthy, not allocated: REQUIRES sorted, no overlap with
// reusable) and the plugin's `preferred` answer (only its members in `available` count, in the
// plugin's order; an empty answer means no preference).
// Returns the IDs in choice order. Errors: kResourceExhausted when reusable + available cannot
// cover `required` ("requested number of devices unavailable for <resource>. Requested: N,
// Available: M", kubelet's text); kInvalidArgument when required < 0.
Result<std::vector<std::string>> PickDevices(const std::string& resource, int32_t required,
                                             const std::vector<std::string>& reusable,
                                             const std::vector<std::string>& available,
                                             const std::vector<std::string>& preferred);

// NeedsPreferredAllocation: kubelet calls GetPreferredAllocation only when the plugin advertises
// it and the reusable devices do not already cover the request.
bool NeedsPreferredAllocation(bool advertised, int32_t required, size_t reusable);

}  // namespace npushare::kubelet_sim
