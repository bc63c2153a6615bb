// File: compat/case_runner.h
//
// The HAMi compatibility vector runner (`hami-compat --vectors FILE`): runs every
// case of a vector file in the schema of shared/compat/hami-vectors.json against
// our implementation. Each category has one handler; handlers are grouped by the
// code they exercise (case_handlers_*.cc) and added by the RegisterXxxHandlers below.
//
// A handler returns kPass, kFail (with expected/got renderings) or kSkip (with
// the reason, e.g. "plugin_* belongs to the device plugin").
//
// Deliberate deviations: docs/compat.md lists case ids whose upstream expected
// value we differ from on purpose; for those the runner checks the case's
// documented result (DeviationTable) instead of `expected`.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"
#include "config/device_config.h"
#include "hami/types.h"

namespace npushare::compat {

struct CaseOutcome {
  enum class Kind { kPass, kFail, kSkip };
  Kind kind = Kind::kPass;
  std::string expected;  // rendering of what was expected (kFail)
  std::string got;       // rendering of what we produced (kFail), or the skip reason (kSkip)

  static CaseOutcome Pass() { return {}; }
  static CaseOutcome Fail(std::string expected, std::string got) {
    return {Kind::kFail, std::move(expected), std::move(got)};
  }
  static CaseOutcome Skip(std::string why) { return {Kind::kSkip, "", std::move(why)}; }
};

// VectorContext: what handlers need besides the case itself.
class VectorContext {
 public:
  explicit VectorContext(nlohmann::json fixtures) : fixtures_(std::move(fixtures)) {}

  // ResolveChipConfig: `input.config` is either a fixture name or an inline object; fields
  // missing take Go zero values. Templates are sorted as the loader would. Error when the
  // named fixture does not exist or a field has the wrong JSON type.
  Result<config::ChipConfig> ResolveChipConfig(const nlohmann::json& config_ref) const;
  // HamiVnpuCoreGlobal: the fixture's `hamiVnpuCore_global` (false when absent).
  bool HamiVnpuCoreGlobal(const nlohmann::json& config_ref) const;

 private:
  nlohmann::json fixtures_;
};

// A handler gets the whole case object (id, category, input, expected, expected_any_of...).
// `expected` is the object to compare against (the case's own, or the documented
// deviation). It must not throw: runner catches json exceptions and reports them as kFail.
using CaseHandler = std::function<CaseOutcome(
    const nlohmann::json& test_case, const nlohmann::json& expected, const VectorContext& ctx)>;

using HandlerTable = std::map<std::string, CaseHandler, std::less<>>;

// Each RegisterXxxHandlers adds its categories to `table`.
void RegisterCodecHandlers(HandlerTable& table);       // case_handlers_codec.cc
void RegisterSchedulingHandlers(HandlerTable& table);  // case_handlers_scheduling.cc
// RegisterDevicePluginHandlers: call after RegisterCodecHandlers (it replaces
// node_register_encode with the plugin's own encoder) and before RegisterPluginHandlers.
void RegisterDevicePluginHandlers(HandlerTable& table);  // case_handlers_deviceplugin.cc
void RegisterPluginHandlers(HandlerTable& table);        // case_runner.cc (skips for now)
// RegisterWebhookHandlers: webhook_decision through npushare-scheduler's admission webhook.
void RegisterWebhookHandlers(HandlerTable& table);  // case_handlers_webhook.cc

// AnnotationsFromJson: a vector's annotation map (string values only; anything else, and a
// non-object, is ignored as upstream's map[string]string decoding would fail it).
hami::Annotations AnnotationsFromJson(const nlohmann::json& j);

// JsonEquals: semantic JSON equality where numbers compare by value (1 == 1.0).
bool JsonEquals(const nlohmann::json& a, const nlohmann::json& b);

}  // namespace npushare::compat
