#include "cli/schedule_command.h"

#include <chrono>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include "cli/manifest_reader.h"
#include "common/file_reader.h"
#include "config/config_loader.h"

namespace npushare::cli {
namespace {

// Input files (--nodes, --pods) are read whole and parsed into a document tree that takes
// ~100 times the file's size; 16 MiB is ~30,000 pods or nodes, far beyond a realistic plan.
constexpr size_t kMaxInputBytes = 16 << 20;

// LimitHint: what to do about an input over kMaxInputBytes.
std::string LimitHint(const Status& s) {
  return s.code() == StatusCode::kOutOfRange
             ? " (input files are limited to 16 MiB; split the pods or nodes into several runs)"
             : "";
}

std::string OutcomeText(const PodDecision& d) {
  switch (d.outcome) {
    case PodDecision::Outcome::kScheduled:
      return "scheduled";
    case PodDecision::Outcome::kUnschedulable:
      return "unschedulable";
    case PodDecision::Outcome::kAdmissionRejected:
      return "rejected by admission";
    case PodDecision::Outcome::kNoNpuRequest:
      return "no NPU request";
    case PodDecision::Outcome::kAlreadyPlaced:
      return "already placed";
    case PodDecision::Outcome::kFilterError:
      return "filter error";
    default:
      return "unknown";
  }
}

// JoinDevices: `part(device)` for every granted device, comma-joined; "-" when none.
template <typename Part>
std::string JoinDevices(const PodDecision& d, Part&& part) {
  if (d.devices.empty()) {
    return "-";
  }
  std::string s;
  for (const auto& dev : d.devices) {
    if (!s.empty()) {
      s += ",";
    }
    s += part(dev);
  }
  return s;
}

std::string MemoryText(const PodDecision& d) {
  if (d.devices.empty()) {
    return "-";
  }
  return JoinDevices(d,
                     [](const PlacedDevice& dev) {
                       return std::to_string(dev.memory) +
                              (dev.template_name ? "(" + *dev.template_name + ")" : std::string());
                     }) +
         " MB";
}

std::string CoresText(const PodDecision& d) {
  if (!d.hami_core) {
    return "-";
  }
  return JoinDevices(d, [](const PlacedDevice& dev) { return std::to_string(dev.cores) + "%"; });
}

std::string ChipsText(const PodDecision& d) {
  return JoinDevices(d, [](const PlacedDevice& dev) { return std::to_string(dev.index); });
}

}  // namespace

void RenderTable(const std::vector<PodDecision>& decisions, std::ostream& out) {
  struct Row {
    std::string pod, node, chips, memory, cores, result;
  };
  std::vector<Row> rows;
  rows.push_back({"POD", "NODE", "CHIPS", "MEMORY", "CORE", "RESULT"});
  for (const auto& d : decisions) {
    rows.push_back({d.ns + "/" + d.name, d.node.value_or("-"), ChipsText(d), MemoryText(d),
                    CoresText(d), OutcomeText(d)});
  }
  std::vector<size_t> w(6, 0);
  for (const auto& r : rows) {
    const std::string* f[] = {&r.pod, &r.node, &r.chips, &r.memory, &r.cores, &r.result};
    for (size_t i = 0; i < 6; ++i) {
      w[i] = std::max(w[i], f[i]->size());
    }
  }
  for (const auto& r : rows) {
    const std::string* f[] = {&r.pod, &r.node, &r.chips, &r.memory, &r.cores, &r.result};
    for (size_t i = 0; i < 6; ++i) {
      out << *f[i];
      if (i + 1 < 6) {
        out << std::string(w[i] - f[i]->size() + 2, ' ');
      }
    }
    out << "\n";
  }
  bool header = false;
  for (const auto& d : decisions) {
    if (d.outcome == PodDecision::Outcome::kScheduled && d.warnings.empty()) {
      continue;
    }
    if (d.outcome == PodDecision::Outcome::kNoNpuRequest && d.warnings.empty()) {
      continue;
    }
    if (!header) {
      out << "\nDetails:\n";
      header = true;
    }
    out << "  " << d.ns << "/" << d.name << ": ";
    if (d.admission_error) {
      out << "admission rejected the pod: " << *d.admission_error;
    }
    if (d.reasons) {
      out << *d.reasons;
    }
    if (d.outcome == PodDecision::Outcome::kScheduled) {
      out << "scheduled";
    }
    if (d.outcome == PodDecision::Outcome::kNoNpuRequest) {
      out << "no valid NPU request";
    }
    out << "\n";
    for (const auto& g : d.reason_groups) {
      std::string names;
      for (const auto& n : g.reason_names) {
        names += (names.empty() ? "" : ", ") + n;
      }
      out << "      " << g.nodes << (g.nodes == 1 ? " node: " : " nodes: ") << names << "\n";
      for (const auto& [node, reason] : g.examples) {
        out << "        e.g. " << node << ": " << reason << "\n";
      }
    }
    for (const auto& w2 : d.warnings) {
      out << "      warning: request ignored: " << w2 << "\n";
    }
  }
}

void RenderJson(const std::vector<PodDecision>& decisions, std::ostream& out) {
  using nlohmann::json;
  json pods = json::array();
  for (const auto& d : decisions) {
    json devices = json::array();
    for (const auto& dev : d.devices) {
      devices.push_back({{"uuid", dev.uuid},
                         {"index", dev.index},
                         {"type", dev.type},
                         {"memory", dev.memory},
                         {"cores", dev.cores},
                         {"template", dev.template_name ? json(*dev.template_name) : json()},
                         {"container", dev.container}});
    }
    json annotations = json::object();
    for (const auto& [k, v] : d.annotations) {
      annotations[k] = v;
    }
    // nodeReasons: node -> reason for the example nodes only (the shape is unchanged; listing
    // every node cost ~0.5 KB per node per unplaceable pod); reasonGroups has the counts.
    json node_reasons = json::object();
    for (const auto& [n, r] : d.node_reasons) {
      node_reasons[n] = r;
    }
    json groups = json::array();
    for (const auto& g : d.reason_groups) {
      json examples = json::object();
      for (const auto& [n, r] : g.examples) {
        examples[n] = r;
      }
      groups.push_back({{"reasons", g.reason_names}, {"nodes", g.nodes}, {"examples", examples}});
    }
    json warnings = json::array();
    for (const auto& w : d.warnings) {
      warnings.push_back("request ignored: " + w);
    }
    pods.push_back({{"name", d.name},
                    {"namespace", d.ns},
                    {"admitted", d.admitted},
                    {"admissionError", d.admission_error ? json(*d.admission_error) : json()},
                    {"node", d.node ? json(*d.node) : json()},
                    {"devices", devices},
                    {"reasons", d.reasons ? json(*d.reasons) : json()},
                    {"nodeReasons", node_reasons},
                    {"reasonGroups", groups},
                    {"warnings", warnings},
                    {"result", OutcomeText(d)},
                    {"annotations", annotations}});
  }
  out << json{{"pods", pods}}.dump(2) << "\n";
}

int RunSchedule(const ScheduleArgs& args, std::ostream& out, std::ostream& err) {
  config::Diagnostics diags;
  auto cfg = config::LoadDeviceConfigFile(args.config_path, &diags);
  for (const auto& d : diags) {
    err << config::FormatDiagnostic(d) << "\n";
  }
  if (!cfg.ok()) {
    err << "npushare schedule: " << cfg.status().message() << "\n";
    return 1;
  }
  auto nodes_text = ReadFileLimited(args.nodes_path, kMaxInputBytes);
  if (!nodes_text.ok()) {
    err << "npushare schedule: --nodes: " << nodes_text.status().message()
        << LimitHint(nodes_text.status()) << "\n";
    return 1;
  }
  auto nodes = ReadNodes(*nodes_text, *cfg);
  if (!nodes.ok()) {
    err << "npushare schedule: " << args.nodes_path << ": " << nodes.status().message() << "\n";
    return 1;
  }
  auto pods_text = ReadFileLimited(args.pods_path, kMaxInputBytes);
  if (!pods_text.ok()) {
    err << "npushare schedule: --pods: " << pods_text.status().message()
        << LimitHint(pods_text.status()) << "\n";
    return 1;
  }
  auto pods = ReadPods(*pods_text);
  if (!pods.ok()) {
    err << "npushare schedule: " << args.pods_path << ": " << pods.status().message() << "\n";
    return 1;
  }

  DryRunOptions opts;
  opts.filter.hami_vnpu_core_global = cfg->hami_vnpu_core;
  opts.filter.node_policy = args.node_policy == "spread" ? scheduling::NodePolicy::kSpread
                                                         : scheduling::NodePolicy::kBinpack;
  opts.filter.device_policy = args.device_policy;
  opts.now_unix_seconds = args.now_unix_seconds >= 0
                              ? args.now_unix_seconds
                              : std::chrono::duration_cast<std::chrono::seconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count();
  DryRunScheduler scheduler(*cfg, std::move(*nodes), opts);

  std::vector<PodDecision> decisions;
  for (auto& pod : *pods) {
    auto placed = PlacedPodFromSpec(pod, *cfg);
    if (!placed.ok()) {
      err << "npushare schedule: " << placed.status().message() << "\n";
      return 1;
    }
    if (placed->has_value()) {
      Status s = scheduler.AddPlaced(**placed);
      if (!s.ok()) {
        err << "npushare schedule: " << s.message() << "\n";
        return 1;
      }
      PodDecision d;
      d.name = pod.name;
      d.ns = pod.ns;
      d.outcome = PodDecision::Outcome::kAlreadyPlaced;
      d.node = (*placed)->node;
      decisions.push_back(std::move(d));
      continue;
    }
    decisions.push_back(scheduler.Schedule(std::move(pod)));
  }
  if (args.output == "json") {
    RenderJson(decisions, out);
  } else {
    RenderTable(decisions, out);
  }
  return 0;
}

}  // namespace npushare::cli
