#include "scheduling/fit.h"

#include <algorithm>
#include <optional>

#include "hami/uuid_filter.h"

namespace npushare::scheduling {
namespace {

constexpr char kAscend910Prefix[] = "Ascend910";
constexpr char kAscend910C[] = "Ascend910C";

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

AllocatedDevice Accept(const DeviceUsage& d, std::string_view cw, int32_t mem, int32_t cores) {
  return AllocatedDevice{d.index, d.id, cw, mem, cores, d.has_custom_info, d.network_id};
}

// PairModules910C: 910C dies come in modules of two (module = index / 2); only complete
// modules are taken, the fullest first (ties: first seen in collection order), until
// `want` dies are covered.
std::vector<AllocatedDevice> PairModules910C(const std::vector<AllocatedDevice>& collected,
                                             int32_t want) {
  struct Module {
    uint32_t id;
    std::vector<const AllocatedDevice*> members;
  };
  std::vector<Module> modules;
  for (const auto& d : collected) {
    uint32_t m = d.idx / 2;
    auto it =
        std::find_if(modules.begin(), modules.end(), [m](const Module& x) { return x.id == m; });
    if (it == modules.end()) {
      modules.push_back({m, {&d}});
    } else {
      it->members.push_back(&d);
    }
  }
  std::stable_sort(modules.begin(), modules.end(), [](const Module& a, const Module& b) {
    return a.members.size() > b.members.size();
  });
  std::vector<AllocatedDevice> out;
  for (const auto& m : modules) {
    if (m.members.size() != 2) {
      continue;
    }
    if (static_cast<int32_t>(out.size()) + 2 > want) {
      break;
    }
    for (const auto* d : m.members) {
      out.push_back(*d);
    }
  }
  return out;
}

// BestNetworkCombination: groups the collected devices by the NetworkID the node registered
// for them, largest group first (ties: first seen), and takes devices group by group in
// collection order until `want` are taken. Devices without a registered NetworkID go last.
std::vector<AllocatedDevice> BestNetworkCombination(
    const std::vector<AllocatedDevice>& collected, int32_t want,
    const std::vector<hami::DeviceInfo>* node_devices) {
  struct Group {
    std::optional<double> network;
    std::vector<const AllocatedDevice*> members;
  };
  auto lookup = [&](std::string_view id) -> std::optional<double> {
    if (node_devices == nullptr) {
      return std::nullopt;
    }
    for (const auto& d : *node_devices) {
      if (d.id == id) {
        return d.network_id;
      }
    }
    return std::nullopt;
  };
  std::vector<Group> groups;
  for (const auto& d : collected) {
    std::optional<double> net = lookup(d.uuid);
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const Group& g) { return g.network == net; });
    if (it == groups.end()) {
      groups.push_back({net, {&d}});
    } else {
      it->members.push_back(&d);
    }
  }
  std::stable_sort(groups.begin(), groups.end(), [](const Group& a, const Group& b) {
    if (a.network.has_value() != b.network.has_value()) {
      return a.network.has_value();
    }
    return a.members.size() > b.members.size();
  });
  std::vector<AllocatedDevice> out;
  for (const auto& g : groups) {
    for (const auto* d : g.members) {
      if (static_cast<int32_t>(out.size()) == want) {
        return out;
      }
      out.push_back(*d);
    }
  }
  return out;
}

}  // namespace

bool HasUuidRules(const hami::Annotations& pod_annotations, const std::string& cw) {
  return pod_annotations.count(hami::UseUuidKey(cw)) != 0 ||
         pod_annotations.count(hami::NoUseUuidKey(cw)) != 0;
}

namespace {

FitResult Failure(ReasonCounts reasons, int32_t total) {
  FitResult r;
  r.reason = GenReason(reasons, total);
  r.reasons = std::move(reasons);
  return r;
}

FitResult Success(std::vector<AllocatedDevice> devices) {
  FitResult r;
  r.fit = true;
  r.devices = std::move(devices);
  return r;
}

}  // namespace

std::string GenReason(const ReasonCounts& reasons, int32_t total) {
  std::vector<std::string> parts;
  parts.reserve(reasons.size());
  for (const auto& [name, n] : reasons) {
    parts.push_back(std::to_string(n) + "/" + std::to_string(total) + " " + name);
  }
  std::sort(parts.begin(), parts.end());
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) {
      out += ", ";
    }
    out += p;
  }
  return out;
}

bool NodeSupportsHamiCore(bool global, const hami::Annotations& node_annotations) {
  auto it = node_annotations.find(hami::kHamiVnpuCoreNodeAnnotation);
  if (it == node_annotations.end()) {
    return global;
  }
  return it->second == "true";
}

FitResult Fit(const DeviceUsageList& devices, const FitInput& in) {
  const config::ChipConfig& chip = *in.chip;
  const int32_t total = static_cast<int32_t>(devices.size());
  if (in.pod_hami_core && !in.node_supports_hami_core) {
    return Failure({{kModeNotFit, 1}}, total);
  }

  const bool need_topology = StartsWith(chip.common_word, kAscend910Prefix) &&
                             std::all_of(devices.begin(), devices.end(), [](const DeviceUsage& d) {
                               return d.network_id.has_value();
                             });
  const int32_t original = in.request.nums;
  const bool pair_910c = chip.common_word == kAscend910C && original > 1;
  const bool count_down = !need_topology && !pair_910c;

  int32_t remaining = original;
  int32_t coresreq = in.request.coresreq;
  // Per-device reasons are counted in a fixed array (no allocation on the hot path) and
  // turned into a ReasonCounts map only when Fit fails.
  static constexpr const char* kDeviceReasons[] = {kCardNotHealth,
                                                   kCardTypeMismatch,
                                                   kCardUuidMismatch,
                                                   kCardTimeSlicingExhausted,
                                                   kExclusiveDeviceAllocateConflict,
                                                   kCardInsufficientMemory,
                                                   kCardInsufficientCore,
                                                   kCardComputeUnitsExhausted};
  enum : size_t {
    kNotHealth,
    kTypeMismatch,
    kUuidMismatch,
    kSlicesExhausted,
    kExclusive,
    kNoMemory,
    kNoCore,
    kUnitsExhausted,
    kNumDeviceReasons
  };
  int32_t counts[kNumDeviceReasons] = {};
  auto reason_map = [&] {
    ReasonCounts r;
    for (size_t k = 0; k < kNumDeviceReasons; ++k) {
      if (counts[k] != 0) {
        r[kDeviceReasons[k]] += counts[k];
      }
    }
    return r;
  };
  // Decided once per call, not per device: CheckUuid only matters when the pod has a
  // use/no-use list for this chip.
  const bool uuid_rules = in.uuid_rules.has_value()
                              ? *in.uuid_rules
                              : HasUuidRules(*in.pod_annotations, chip.common_word);
  std::vector<AllocatedDevice> collected;
  collected.reserve(devices.size());
  // Upstream compares the request with the backend's commonWord, not with the device.
  const bool type_matches = in.request.type == chip.common_word;

  for (auto it = devices.rbegin(); it != devices.rend(); ++it) {
    const DeviceUsage& d = *it;
    if (!d.health) {
      ++counts[kNotHealth];
      continue;
    }
    if (!type_matches) {
      ++counts[kTypeMismatch];
      continue;
    }
    if (uuid_rules && !hami::CheckUuid(*in.pod_annotations, chip.common_word, d.id)) {
      ++counts[kUuidMismatch];
      continue;
    }
    if (d.count <= d.used) {
      ++counts[kSlicesExhausted];
      continue;
    }
    if (in.mutex_policy && d.used > 0) {
      ++counts[kExclusive];
      continue;
    }
    if (coresreq > 100) {
      coresreq = 100;  // persists for later devices, as upstream
    }
    int64_t memreq = 0;
    if (in.request.memreq > 0) {
      memreq = in.request.memreq;
    } else if (in.request.mem_percentage_req != 101) {
      memreq = d.totalmem * in.request.mem_percentage_req / 100;
    }
    if (d.totalmem - d.usedmem < memreq) {
      ++counts[kNoMemory];
      continue;
    }
    const int32_t eff_total = in.pod_hami_core ? 100 : d.totalcore;
    if (eff_total - d.usedcores < coresreq) {
      ++counts[kNoCore];
      continue;
    }
    if (eff_total == 100 && coresreq == 100 && d.used > 0) {
      ++counts[kExclusive];
      continue;
    }
    if (eff_total != 0 && d.usedcores == eff_total && coresreq == 0) {
      ++counts[kUnitsExhausted];
      continue;
    }
    collected.push_back(Accept(d, chip.common_word, static_cast<int32_t>(memreq), coresreq));
    if (count_down) {
      if (--remaining == 0) {
        return Success(std::move(collected));
      }
    }
  }

  ReasonCounts reasons = reason_map();
  if (pair_910c) {
    std::vector<AllocatedDevice> best = PairModules910C(collected, original);
    if (static_cast<int32_t>(best.size()) != original) {
      reasons[kAllocatedCardsInsufficientRequest] = static_cast<int32_t>(best.size());
      return Failure(std::move(reasons), original);
    }
    return Success(std::move(best));
  }
  if (need_topology) {
    const auto n = static_cast<int32_t>(collected.size());
    if (n == original) {
      return Success(std::move(collected));
    }
    if (n > original) {
      if (original == 1) {
        collected.resize(1);
        return Success(std::move(collected));
      }
      return Success(BestNetworkCombination(collected, original, in.node_devices));
    }
  }
  if (!collected.empty()) {
    reasons[kAllocatedCardsInsufficientRequest] = static_cast<int32_t>(collected.size());
  }
  return Failure(std::move(reasons), total);
}

}  // namespace npushare::scheduling
