// File: hami/handshake.h
//
// hami.io/node-handshake-<cw> (hami-protocol.md §2.2). The plugin stamps
// "Reported_2006.01.02 15:04:05" with every registration; the scheduler answers
// "Requesting_2006-01-02 15:04:05" and, when a Requesting_ stamp is older than 60 s and
// the kubelet no longer advertises the resource, declares the plugin dead.
//
// Times here are *civil seconds*: seconds since 1970-01-01 00:00:00 of the writer's
// local wall clock (unix seconds + the zone's UTC offset). Upstream formats and parses
// in local time, so comparing civil seconds reproduces it without a zone database
// (DST transitions inside the 60 s window are the only difference, and harmless).
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace npushare::hami {

inline constexpr int64_t kHandshakeExpirySeconds = 60;

// FormatReportedHandshake: "Reported_YYYY.MM.DD hh:mm:ss" (the plugin's value; it
// passes now + report_time_offset, 1 s by default).
std::string FormatReportedHandshake(int64_t civil_seconds);
// FormatRequestingHandshake: "Requesting_YYYY-MM-DD hh:mm:ss" (the scheduler's value).
std::string FormatRequestingHandshake(int64_t civil_seconds);

enum class HandshakeAction {
  kNone,
  kPatchRequesting,   // merge-patch the key to HealthDecision::patch_value
  kDeleteAnnotation,  // merge-patch the key to null (only if node+vendor are cached)
};

struct HealthInput {
  std::optional<std::string_view> handshake;  // nullopt = annotation absent
  int64_t now_civil_seconds = 0;
  bool allocatable_positive = false;  // node.status.allocatable[resourceName] > 0
  bool node_get_succeeds = true;      // whether GET node worked (non-Requesting path)
};

struct HealthDecision {
  bool healthy = true;
  bool need_update = false;  // re-read hami.io/node-register-<cw>
  HandshakeAction action = HandshakeAction::kNone;
  std::string patch_value;  // kPatchRequesting only
};

// CheckHealth: the scheduler's per-(node, cw) decision:
//  * value contains "Requesting": no '_' or the text after the first '_' is not a
//    "2006-01-02 15:04:05" time -> healthy; now < stamp + 60 s -> healthy; expired but
//    allocatable_positive -> healthy; otherwise unhealthy + kDeleteAnnotation.
//  * anything else (absent, Reported_, Deleted_, junk): node_get_succeeds -> healthy,
//    need_update, kPatchRequesting with Requesting_<now>; else healthy only.
HealthDecision CheckHealth(const HealthInput& in);

}  // namespace npushare::hami
