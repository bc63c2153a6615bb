#include "hami/handshake.h"

#include "hami/civil_time.h"
#include "hami/go_time.h"

namespace npushare::hami {

std::string FormatReportedHandshake(int64_t civil_seconds) {
  return "Reported_" + FormatCivil(CivilFromSeconds(civil_seconds), "YYYY.MM.DD hh:mm:ss");
}

std::string FormatRequestingHandshake(int64_t civil_seconds) {
  return "Requesting_" + FormatCivil(CivilFromSeconds(civil_seconds), "YYYY-MM-DD hh:mm:ss");
}

HealthDecision CheckHealth(const HealthInput& in) {
  HealthDecision d;
  const std::string_view value = in.handshake.value_or("");
  if (value.find("Requesting") != std::string_view::npos) {
    const size_t us = value.find('_');
    if (us == std::string_view::npos) {
      return d;  // cannot tell the age: treated as fresh
    }
    const Result<GoParsedTime> stamp = ParseGoTime(value.substr(us + 1), GoLayout::kDateTime);
    if (!stamp.ok()) {
      return d;
    }
    // Years are four digits, so this cannot overflow.
    if (in.now_civil_seconds < CivilSecondsOf(stamp->civil) + kHandshakeExpirySeconds) {
      return d;
    }
    if (in.allocatable_positive) {
      return d;  // the kubelet still sees the plugin
    }
    d.healthy = false;
    d.action = HandshakeAction::kDeleteAnnotation;
    return d;
  }
  if (!in.node_get_succeeds) {
    return d;
  }
  d.need_update = true;
  d.action = HandshakeAction::kPatchRequesting;
  d.patch_value = FormatRequestingHandshake(in.now_civil_seconds);
  return d;
}

}  // namespace npushare::hami
