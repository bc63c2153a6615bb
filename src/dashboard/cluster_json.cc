#include "dashboard/cluster_json.h"

#include <cmath>
#include <optional>

namespace npushare::dashboard {
namespace {

using nlohmann::json;

template <typename T>
json OrNull(const std::optional<T>& v) {
  return v.has_value() ? json(*v) : json(nullptr);
}

json NumOrNull(float v) {
  return std::isnan(v) ? json(nullptr) : json(static_cast<double>(v));
}

// SliceKind: "hard" (a vNPU template), "whole" (a whole chip on a hard-slicing node: no
// template, no soft quota) or "soft".
const char* SliceKind(const SliceView& s, ChipMode chip_mode) {
  if (!s.template_name.empty()) {
    return "hard";
  }
  return chip_mode == ChipMode::kSoft ? "soft" : "whole";
}

json SliceJson(const SliceView& s, ChipMode chip_mode) {
  return json{
      {"namespace", s.pod_namespace},
      {"pod", s.pod_name},
      {"container", s.container},
      {"container_index", s.container_index},
      {"kind", SliceKind(s, chip_mode)},
      {"template", s.template_name},
      {"memory_quota_bytes", s.memory_quota_bytes},
      {"core_percent", s.core_percent},
      {"memory_used_bytes", OrNull(s.memory_used_bytes)},
      {"compute_granted_percent", OrNull(s.compute_granted_percent)},
      {"compute_achieved_percent", OrNull(s.compute_achieved_percent)},
  };
}

json HistoryJson(const std::vector<HistoryPoint>& points) {
  json t = json::array();
  json used = json::array();
  json alloc = json::array();
  json achieved = json::array();
  json granted = json::array();
  for (const HistoryPoint& p : points) {
    t.push_back(p.t_ms);
    used.push_back(NumOrNull(p.memory_used_bytes));
    alloc.push_back(NumOrNull(p.memory_allocated_bytes));
    achieved.push_back(NumOrNull(p.compute_achieved_percent));
    granted.push_back(NumOrNull(p.compute_granted_percent));
  }
  return json{{"t_ms", std::move(t)},
              {"memory_used_bytes", std::move(used)},
              {"memory_allocated_bytes", std::move(alloc)},
              {"compute_achieved_percent", std::move(achieved)},
              {"compute_granted_percent", std::move(granted)}};
}

}  // namespace

const char* ChipModeName(ChipMode mode) {
  return mode == ChipMode::kSoft ? "soft" : "hard";
}

json ClusterJson(const ClusterSnapshot& snapshot, const History& history,
                 const ClusterJsonOptions& options) {
  int64_t total_mem = 0;
  int64_t alloc_mem = 0;
  size_t chips = 0;
  size_t slices = 0;
  json nodes = json::array();
  for (const NodeView& n : snapshot.nodes) {
    json chip_list = json::array();
    for (const ChipView& c : n.chips) {
      int64_t chip_alloc = 0;
      int64_t core_alloc = 0;
      json slice_list = json::array();
      for (const SliceView& s : c.slices) {
        chip_alloc += s.memory_quota_bytes;
        core_alloc += s.core_percent;
        slice_list.push_back(SliceJson(s, c.mode));
      }
      ++chips;
      slices += c.slices.size();
      total_mem += c.memory_total_bytes;
      alloc_mem += chip_alloc;
      chip_list.push_back(json{
          {"index", c.index},
          {"uuid", c.uuid},
          {"type", c.type},
          {"memory_total_bytes", c.memory_total_bytes},
          {"cores", c.cores},
          {"healthy", c.healthy},
          {"mode", ChipModeName(c.mode)},
          {"memory_allocated_bytes", chip_alloc},
          {"core_allocated_percent", core_alloc},
          {"slices", std::move(slice_list)},
          {"history", HistoryJson(history.Points(n.name, c.uuid, options.history_points,
                                                 snapshot.time_unix_ms))},
      });
    }
    nodes.push_back(json{
        {"name", n.name},
        {"metrics", json{{"url", n.metrics_url},
                         {"scraped", n.metrics_scraped},
                         {"error", n.metrics_error.empty() ? json(nullptr) : json(n.metrics_error)},
                         {"skipped_lines", n.metrics_skipped_lines}}},
        {"chips", std::move(chip_list)},
    });
  }
  json pending = json::array();
  for (const PendingPodView& p : snapshot.pending) {
    pending.push_back(json{{"namespace", p.pod_namespace},
                           {"pod", p.pod_name},
                           {"reason", p.reason},
                           {"since_unix_ms", p.since_unix_ms}});
  }
  const HistoryOptions& ho = history.options();
  return json{
      {"version", kClusterJsonVersion},
      {"time_unix_ms", snapshot.time_unix_ms},
      {"error", options.error.empty() ? json(nullptr) : json(options.error)},
      {"history", json{{"window_ms", ho.window_ms},
                       {"period_ms", ho.period_ms},
                       {"max_points", options.history_points}}},
      {"totals", json{{"nodes", snapshot.nodes.size()},
                      {"chips", chips},
                      {"slices", slices},
                      {"pending", snapshot.pending.size()},
                      {"memory_total_bytes", total_mem},
                      {"memory_allocated_bytes", alloc_mem}}},
      {"nodes", std::move(nodes)},
      {"pending", std::move(pending)},
  };
}

std::string EmbeddableJson(const json& j) {
  // Replace mode: a label value with invalid UTF-8 must not make dump() throw.
  const std::string raw = j.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string out;
  out.reserve(raw.size() + raw.size() / 16);
  for (char c : raw) {
    if (c == '<') {
      out += "\\u003c";
    } else if (c == '>') {
      out += "\\u003e";
    } else if (c == '&') {
      out += "\\u0026";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace npushare::dashboard
