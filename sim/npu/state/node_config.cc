// yaml-cpp throws; every call into it stays inside ParseNodeYaml's try block.
#include "state/node_config.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstring>
#include <set>

#include "state/chip_models.h"

namespace npushare::sim {
namespace {

constexpr uint32_t kMaxCards = 64;
constexpr uint32_t kMaxCardId = 255;

Status CheckKeys(const YAML::Node& node, const std::set<std::string>& allowed,
                 const std::string& where) {
  if (!node.IsMap()) {
    return InvalidArgumentError(where + " must be a mapping");
  }
  for (const auto& kv : node) {
    std::string key = kv.first.as<std::string>();
    if (allowed.count(key) == 0) {
      return InvalidArgumentError("unknown key '" + key + "' in " + where);
    }
  }
  return OkStatus();
}

template <typename T>
Result<T> ReadUint(const YAML::Node& node, const std::string& what, T max) {
  if (!node.IsScalar()) {
    return InvalidArgumentError(what + " must be a number");
  }
  // Via uint64 so hex (0x..) and range both get checked; yaml-cpp throws on garbage.
  uint64_t v = node.as<uint64_t>();
  if (v > static_cast<uint64_t>(max)) {
    return InvalidArgumentError(what + " out of range");
  }
  return static_cast<T>(v);
}

Result<ChipSpec> ParseChip(const YAML::Node& node, const std::string& where) {
  NPUSHARE_RETURN_IF_ERROR(
      CheckKeys(node,
                {"memory_mb", "reserved_mb", "aicore", "aicpu", "die_id", "health", "error_codes",
                 "recover_after_ms", "temperature_c", "power_w"},
                where));
  ChipSpec chip;
  if (node["memory_mb"]) {
    NPUSHARE_ASSIGN_OR_RETURN(uint64_t v,
                              ReadUint<uint64_t>(node["memory_mb"], where + ".memory_mb", 1 << 20));
    if (v == 0) {
      return InvalidArgumentError(where + ".memory_mb must be positive");
    }
    chip.memory_mb = v;
  }
  if (node["reserved_mb"]) {
    NPUSHARE_ASSIGN_OR_RETURN(
        uint64_t v, ReadUint<uint64_t>(node["reserved_mb"], where + ".reserved_mb", 1 << 20));
    chip.reserved_mb = v;
  }
  if (node["aicore"]) {
    NPUSHARE_ASSIGN_OR_RETURN(
        uint32_t v, ReadUint<uint32_t>(node["aicore"], where + ".aicore", NPUSIM_MAX_CORES));
    if (v == 0) {
      return InvalidArgumentError(where + ".aicore must be positive");
    }
    chip.aicore = v;
  }
  if (node["aicpu"]) {
    NPUSHARE_ASSIGN_OR_RETURN(uint32_t v, ReadUint<uint32_t>(node["aicpu"], where + ".aicpu", 64));
    chip.aicpu = v;
  }
  if (node["die_id"]) {
    const YAML::Node& d = node["die_id"];
    if (!d.IsSequence() || d.size() != 5) {
      return InvalidArgumentError(where + ".die_id must be a list of 5 words");
    }
    std::array<uint32_t, 5> words{};
    for (size_t i = 0; i < 5; ++i) {
      NPUSHARE_ASSIGN_OR_RETURN(words[i], ReadUint<uint32_t>(d[i], where + ".die_id", 0xFFFFFFFFu));
    }
    chip.die_id = words;
  }
  if (node["health"]) {
    NPUSHARE_ASSIGN_OR_RETURN(chip.health, ParseHealth(node["health"].as<std::string>()));
  }
  if (node["error_codes"]) {
    const YAML::Node& e = node["error_codes"];
    if (!e.IsSequence() || e.size() > NPUSIM_MAX_ERROR_CODES) {
      return InvalidArgumentError(where + ".error_codes must be a list of at most 8 codes");
    }
    for (const auto& c : e) {
      NPUSHARE_ASSIGN_OR_RETURN(uint32_t v,
                                ReadUint<uint32_t>(c, where + ".error_codes", 0xFFFFFFFFu));
      chip.error_codes.push_back(v);
    }
  }
  if (node["recover_after_ms"]) {
    NPUSHARE_ASSIGN_OR_RETURN(
        chip.recover_after_ms,
        ReadUint<uint64_t>(node["recover_after_ms"], where + ".recover_after_ms", 86'400'000));
  }
  if (node["temperature_c"]) {
    int v = node["temperature_c"].as<int>();
    if (v < -40 || v > 150) {
      return InvalidArgumentError(where + ".temperature_c out of range");
    }
    chip.temperature_c = v;
  }
  if (node["power_w"]) {
    double v = node["power_w"].as<double>();
    if (!std::isfinite(v) || v < 0 || v > 2000) {
      return InvalidArgumentError(where + ".power_w out of range");
    }
    chip.power_w = v;
  }
  return chip;
}

Result<int> ParseModel(const YAML::Node& node, const std::string& where) {
  std::string name = node.as<std::string>();
  int idx = FindChipModel(name);
  if (idx < 0) {
    return InvalidArgumentError("unknown chip model '" + name + "' in " + where);
  }
  return idx;
}

Result<NodeSpec> ParseUnsafe(const std::string& text) {
  YAML::Node root = YAML::Load(text);
  NPUSHARE_RETURN_IF_ERROR(
      CheckKeys(root, {"version", "driver_version", "model", "cards"}, "node description"));
  if (root["version"] && root["version"].as<int>() != 1) {
    return InvalidArgumentError("unsupported node description version (expected 1)");
  }
  NodeSpec spec;
  if (root["driver_version"]) {
    spec.driver_version = root["driver_version"].as<std::string>();
    if (spec.driver_version.empty() || spec.driver_version.size() >= 32) {
      return InvalidArgumentError("driver_version must be 1..31 characters");
    }
  }
  int default_model = -1;
  if (root["model"]) {
    NPUSHARE_ASSIGN_OR_RETURN(default_model, ParseModel(root["model"], "model"));
  }
  const YAML::Node& cards = root["cards"];
  if (!cards) {
    return InvalidArgumentError("missing key 'cards'");
  }
  if (cards.IsScalar()) {
    NPUSHARE_ASSIGN_OR_RETURN(uint32_t n, ReadUint<uint32_t>(cards, "cards", kMaxCards));
    if (n == 0 || default_model < 0) {
      return InvalidArgumentError("'cards: N' needs N > 0 and a top-level 'model'");
    }
    for (uint32_t i = 0; i < n; ++i) {
      spec.cards.push_back(CardSpec{i, default_model, {}});
    }
  } else if (cards.IsSequence()) {
    if (cards.size() == 0 || cards.size() > kMaxCards) {
      return InvalidArgumentError("cards must list 1..64 cards");
    }
    std::set<uint32_t> seen;
    for (size_t i = 0; i < cards.size(); ++i) {
      std::string where = "cards[" + std::to_string(i) + "]";
      const YAML::Node& c = cards[i];
      NPUSHARE_RETURN_IF_ERROR(CheckKeys(c, {"id", "model", "chips"}, where));
      CardSpec card;
      card.id = static_cast<uint32_t>(i);
      if (c["id"]) {
        NPUSHARE_ASSIGN_OR_RETURN(card.id, ReadUint<uint32_t>(c["id"], where + ".id", kMaxCardId));
      }
      if (!seen.insert(card.id).second) {
        return InvalidArgumentError("duplicate card id " + std::to_string(card.id));
      }
      card.model_index = default_model;
      if (c["model"]) {
        NPUSHARE_ASSIGN_OR_RETURN(card.model_index, ParseModel(c["model"], where + ".model"));
      }
      if (card.model_index < 0) {
        return InvalidArgumentError(where + " has no model and there is no top-level 'model'");
      }
      if (c["chips"]) {
        const YAML::Node& chips = c["chips"];
        const ChipModel& m = AllChipModels()[card.model_index];
        if (!chips.IsSequence() || chips.size() != m.chips_per_card) {
          return InvalidArgumentError(where + ".chips must list exactly " +
                                      std::to_string(m.chips_per_card) + " chip(s) for " +
                                      std::string(m.name));
        }
        for (size_t j = 0; j < chips.size(); ++j) {
          NPUSHARE_ASSIGN_OR_RETURN(
              ChipSpec chip, ParseChip(chips[j], where + ".chips[" + std::to_string(j) + "]"));
          card.chips.push_back(std::move(chip));
        }
      }
      spec.cards.push_back(std::move(card));
    }
  } else {
    return InvalidArgumentError("cards must be a count or a list");
  }
  uint32_t total = 0;
  for (const auto& card : spec.cards) {
    total += AllChipModels()[card.model_index].chips_per_card;
  }
  if (total > NPUSIM_MAX_CHIPS) {
    return InvalidArgumentError("more than 64 chips in total");
  }
  return spec;
}

uint32_t Mix(uint64_t x) {
  // splitmix64 finaliser: deterministic, well spread.
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return static_cast<uint32_t>(x ^ (x >> 31));
}

}  // namespace

Result<uint32_t> ParseHealth(const std::string& word) {
  if (word == "ok") {
    return 0u;
  }
  if (word == "warning") {
    return 1u;
  }
  if (word == "alarm") {
    return 2u;
  }
  if (word == "critical") {
    return 3u;
  }
  return InvalidArgumentError("health must be ok, warning, alarm or critical");
}

Result<NodeSpec> ParseNodeYaml(const std::string& text) {
  try {
    return ParseUnsafe(text);
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(std::string("malformed node description: ") + e.what());
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("invalid node description: ") + e.what());
  }
}

std::unique_ptr<NpuSimState> BuildInitialState(const NodeSpec& spec, uint64_t now_ns) {
  auto state = std::make_unique<NpuSimState>();
  std::memset(state.get(), 0, sizeof(NpuSimState));
  std::strncpy(state->driver_version, spec.driver_version.c_str(),
               sizeof(state->driver_version) - 1);
  // Bus numbers of a real 8-card 910B server, then a simple progression.
  static constexpr uint32_t kBus[] = {0xC1, 0xC2, 0x81, 0x82, 0x01, 0x02, 0x41, 0x42};
  uint32_t phy = 0;
  for (const auto& card : spec.cards) {
    const ChipModel& m = AllChipModels()[card.model_index];
    for (uint32_t d = 0; d < m.chips_per_card; ++d, ++phy) {
      ChipSpec defaults;
      const ChipSpec& cs = d < card.chips.size() ? card.chips[d] : defaults;
      NpuSimChip& chip = state->chips[phy];
      chip.card_id = card.id;
      chip.device_index = d;
      chip.phy_id = phy;
      chip.model_index = static_cast<uint32_t>(card.model_index);
      chip.aicore = cs.aicore.value_or(m.aicore);
      chip.aicpu = cs.aicpu.value_or(m.aicpu);
      chip.memory_mb = cs.memory_mb.value_or(m.memory_mb);
      chip.reserved_mb = cs.reserved_mb.value_or(m.reserved_mb);
      if (chip.reserved_mb > chip.memory_mb) {
        chip.reserved_mb = chip.memory_mb;
      }
      if (cs.die_id) {
        for (int w = 0; w < 5; ++w) {
          chip.die_id[w] = (*cs.die_id)[w];
        }
      } else {
        for (uint32_t w = 0; w < 5; ++w) {
          chip.die_id[w] = Mix((static_cast<uint64_t>(card.id) << 32) | (d << 8) | w);
        }
        if (phy == 0) {
          chip.die_id[0] &= 0x0FFFFFFFu;
        }
      }
      chip.bus_id = phy < 8 ? kBus[phy] : (0x10 + phy) & 0xFF;
      chip.board_id = m.board_id;
      chip.temperature_c = cs.temperature_c;
      chip.power_dw = static_cast<uint32_t>(std::lround(cs.power_w * 10));
      chip.health = cs.health;
      chip.error_count = static_cast<uint32_t>(cs.error_codes.size());
      for (size_t e = 0; e < cs.error_codes.size(); ++e) {
        chip.error_codes[e] = cs.error_codes[e];
      }
      if (cs.recover_after_ms != 0) {
        chip.health_recover_at_ns = now_ns + cs.recover_after_ms * 1'000'000ull;
      }
    }
  }
  state->chip_count = phy;
  state->card_count = static_cast<uint32_t>(spec.cards.size());
  return state;
}

}  // namespace npushare::sim
