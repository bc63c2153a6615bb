// File: scheduling/request_parser.h
//
// ParseContainerRequest: what one container asks of one chip type, read from
// its resources exactly as upstream GenerateResourceRequests does
// (hami-protocol.md §4.2):
//   count   limits[resourceName], else requests; integer 1..2^31-1
//   memory  limits[resourceMemoryName], else requests; MB; negative -> invalid;
//           integral values above 2^31-1 (before or after memoryFactor) -> invalid;
//           a non-integral value (e.g. "500m") is ignored -> whole device (100 %)
//   core    limits[resourceCoreName], else requests, only when resourceCoreName is
//           configured; rounded up (Quantity::Value); 0..2^31-1
// Upstream silently drops an invalid request; we return kInvalid with the reason so
// callers can log it. Admission (admission.h) rejects such pods before they get here.
#pragma once

#include <string>

#include "config/device_config.h"
#include "hami/types.h"
#include "scheduling/pod_spec.h"

namespace npushare::scheduling {

struct ParsedRequest {
  enum class Kind {
    kNone,     // the container does not ask for this chip
    kInvalid,  // it asks, but a value is unusable; treated as kNone by Filter
    kRequest,  // `request` is valid
  };
  Kind kind = Kind::kNone;
  hami::ContainerDeviceRequest request;
  std::string invalid_reason;  // set for kInvalid
};

ParsedRequest ParseContainerRequest(const config::ChipConfig& chip, const ContainerSpec& container);

}  // namespace npushare::scheduling
