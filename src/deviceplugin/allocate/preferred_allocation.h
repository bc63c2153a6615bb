// File: deviceplugin/allocate/preferred_allocation.h
//
// ChoosePreferred: the answer to kubelet's GetPreferredAllocation for one container. Kubelet
// only counts slots ("<uuid>-<k>" IDs), HAMi's annotation decides the chips; steering kubelet
// to IDs of the chips the scheduler chose keeps kubelet's per-chip slot accounting in line
// with the scheduler's. Order of the answer:
//   1. every ID of `must_include` (kubelet requires them), in the order given;
//   2. for each UUID in `wanted_uuids` (the chips of the container's pending annotation entry,
//      in annotation order), the lowest-numbered available ID of that chip not yet chosen;
//   3. the remaining available IDs in (uuid, k) order (k compared as a number),
// cut at `size`; IDs of must_include are never cut. Deterministic; duplicates in the inputs
// are ignored; size <= 0 gives an empty answer.
//
// Thread safety: pure function.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace npushare::deviceplugin::allocate {

std::vector<std::string> ChoosePreferred(const std::vector<std::string>& available,
                                         const std::vector<std::string>& must_include, int32_t size,
                                         const std::vector<std::string>& wanted_uuids);

}  // namespace npushare::deviceplugin::allocate
