#include "sim/demo/cluster_observer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "hami/pod_devices.h"
#include "kube/objects.h"
#include "kube/resource.h"

namespace npushare::demo {
namespace {

using nlohmann::json;

constexpr auto kShareWindow = std::chrono::seconds(5);

std::string Annotation(const json& obj, const std::string& key) {
  const json& a = kube::Field(kube::Field(obj, "metadata"), "annotations");
  return a.is_object() && a.contains(key) && a[key].is_string() ? a[key].get<std::string>() : "";
}

// ContainerDetail: the first container's waiting/terminated reason (exit code), or "".
std::string ContainerDetail(const json& status) {
  const json& cs = kube::Field(status, "containerStatuses");
  if (!cs.is_array()) {
    return "";
  }
  for (const auto& c : cs) {
    const json& st = kube::Field(c, "state");
    if (st.contains("waiting")) {
      return kube::StringField(st["waiting"], "reason");
    }
    if (st.contains("terminated")) {
      return kube::StringField(st["terminated"], "reason") + " exit " +
             std::to_string(kube::IntField(st["terminated"], "exitCode", -1));
    }
  }
  return "";
}

std::string PendingReason(const json& status) {
  const json& conds = kube::Field(status, "conditions");
  if (conds.is_array()) {
    for (const auto& c : conds) {
      if (kube::StringField(c, "type") == "PodScheduled" &&
          kube::StringField(c, "status") == "False") {
        return kube::StringField(c, "reason");
      }
    }
  }
  return "";
}

std::string Pct(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.0f%%", v);
  return buf;
}

}  // namespace

ClusterObserver::ClusterObserver(DemoCluster& cluster) : cluster_(cluster) {}

void ClusterObserver::Sample() {
  last_error_.clear();
  auto nodes = cluster_.client().ListAll(kube::kNodes, "", {});
  if (nodes.ok()) {
    for (const auto& n : (*nodes)["items"]) {
      const json& ann = kube::Field(kube::Field(n, "metadata"), "annotations");
      if (!ann.is_object()) {
        continue;
      }
      for (const auto& [k, v] : ann.items()) {
        if (k.rfind(hami::kNodeRegisterPrefix, 0) != 0 || !v.is_string()) {
          continue;
        }
        json devs = json::parse(v.get<std::string>(), nullptr, false);
        if (!devs.is_array()) {
          continue;
        }
        for (const auto& d : devs) {
          if (d.contains("id") && d["id"].is_string() && d.contains("index") &&
              d["index"].is_number_integer()) {
            uuid_to_index_[d["id"].get<std::string>()] = d["index"].dump();
          } else if (d.contains("id") && d["id"].is_string()) {
            uuid_to_index_[d["id"].get<std::string>()] = "0";  // Go omitempty drops index 0
          }
        }
      }
    }
  }
  auto list = cluster_.client().ListAll(kube::kPods, "default", {});
  if (!list.ok()) {
    last_error_ = "pods: " + list.status().ToString();
    return;
  }
  for (const auto& node : cluster_.nodes()) {
    if (!node.arbiter_metrics.empty()) {
      SampleShares(node);
    }
  }
  std::vector<PodView> views;
  for (const auto& p : (*list)["items"]) {
    PodView v;
    const json& meta = kube::Field(p, "metadata");
    const json& status = kube::Field(p, "status");
    v.name = kube::StringField(meta, "name");
    v.uid = kube::StringField(meta, "uid");
    v.node = kube::StringField(kube::Field(p, "spec"), "nodeName");
    v.phase = kube::StringField(status, "phase");
    v.detail = ContainerDetail(status);
    if (v.detail.empty() && v.node.empty()) {
      v.detail = PendingReason(status);
    }
    const json& labels = kube::Field(meta, "labels");
    v.expect_unschedulable =
        labels.is_object() && labels.value("demo.npushare.io/expect", "") == "unschedulable";
    const bool soft = Annotation(p, hami::kVnpuModeAnnotation) == hami::kVnpuModeHamiCore;
    const json& ann = kube::Field(meta, "annotations");
    int64_t mem = 0;
    int64_t cores = 0;
    std::vector<std::string> chips;
    if (ann.is_object()) {
      for (const auto& [k, val] : ann.items()) {
        const std::string suffix = "-devices-allocated";
        if (k.size() <= suffix.size() ||
            k.compare(k.size() - suffix.size(), suffix.size(), suffix) != 0 || !val.is_string()) {
          continue;
        }
        auto decoded = hami::DecodePodDevices(val.get<std::string>());
        if (!decoded.ok()) {
          continue;
        }
        for (const auto& c : *decoded) {
          for (const auto& d : c) {
            auto idx = uuid_to_index_.find(d.uuid);
            chips.push_back(idx == uuid_to_index_.end() ? "?" : idx->second);
            mem = std::max<int64_t>(mem, d.usedmem);
            cores = std::max<int64_t>(cores, d.usedcores);
          }
        }
      }
    }
    for (size_t i = 0; i < chips.size(); ++i) {
      v.chips += (i ? "," : "") + chips[i];
    }
    if (!chips.empty()) {
      v.mode = soft ? "soft" : (cores >= 100 || mem == 0 ? "whole" : "hard");
      v.mem_quota_mb = mem;
      v.granted = soft ? Pct(static_cast<double>(cores)) : std::to_string(mem) + "MB";
    }
    if (v.phase == "Running" || v.phase == "Succeeded") {
      if (reached_running_.insert(v.name).second && !first_running_) {
        first_running_ = std::chrono::steady_clock::now();
      }
    }
    views.push_back(std::move(v));
  }
  // Memory and achieved share of soft pods, from the arbiter's metrics.
  for (const auto& node : cluster_.nodes()) {
    auto m = metrics_.find(node.spec.name);
    if (m == metrics_.end() || m->second.empty()) {
      continue;
    }
    for (const auto& c : m->second.back().metrics.containers) {
      for (auto& v : views) {
        if (v.uid.empty() || c.pod_uid != v.uid) {
          continue;
        }
        for (const auto& [idx, dev] : c.devices) {
          if (dev.has_memory) {
            v.mem_used_mb =
                std::max<int64_t>(v.mem_used_mb, 0) + static_cast<int64_t>(dev.used_bytes >> 20);
            if (dev.quota_bytes > 0 && dev.used_bytes > dev.quota_bytes) {
              quota_violations_.push_back(v.name + " device " + std::to_string(idx) + ": used " +
                                          std::to_string(dev.used_bytes >> 20) + " MB of " +
                                          std::to_string(dev.quota_bytes >> 20) + " MB");
            }
          }
        }
      }
    }
  }
  std::map<std::string, std::string> achieved;
  for (const auto& s : share_checks_) {
    std::string& a = achieved[s.pod];
    a += (a.empty() ? "" : "/") + Pct(s.achieved_pct);
  }
  for (auto& v : views) {
    auto it = achieved.find(v.uid);
    if (it != achieved.end()) {
      v.achieved = it->second;
    }
  }
  for (const auto& node : cluster_.nodes()) {
    if (node.spec.soft) {
      continue;
    }
    int total = 0;
    for (int card = 0; card < node.spec.cards; ++card) {
      total += std::max(0, cluster_.VnpuCount(node, card));
    }
    max_vnpus_ = std::max(max_vnpus_, total);
  }
  pods_ = std::move(views);
}

void ClusterObserver::SampleShares(const NodePaths& node) {
  auto m = deviceplugin::daemon::ReadArbiterMetricsFile(node.arbiter_metrics);
  if (!m.ok()) {
    return;  // no tenant yet (the file appears with the first one)
  }
  auto& window = metrics_[node.spec.name];
  const auto now = std::chrono::steady_clock::now();
  window.push_back({now, std::move(*m)});
  while (window.size() > 2 && now - window[1].at >= kShareWindow) {
    window.pop_front();
  }
  if (now - window.front().at < kShareWindow) {
    return;
  }
  const double wall_ns = std::chrono::duration<double, std::nano>(now - window.front().at).count();
  // Charged time per (tenant, device) over the window.
  struct Busy {
    std::string uid;
    int chip;
    double weight;
    double pct;
  };
  std::vector<Busy> busy;
  for (const auto& c : window.back().metrics.containers) {
    for (const auto& [idx, dev] : c.devices) {
      if (!dev.has_core) {
        continue;
      }
      uint64_t before = 0;
      bool found = false;
      for (const auto& oc : window.front().metrics.containers) {
        if (oc.tenant != c.tenant) {
          continue;
        }
        auto od = oc.devices.find(idx);
        if (od != oc.devices.end() && od->second.has_core) {
          before = od->second.charged_ns;
          found = true;
        }
      }
      if (!found || dev.charged_ns < before) {
        continue;
      }
      double pct = 100.0 * static_cast<double>(dev.charged_ns - before) / wall_ns;
      if (pct >= 2.0) {  // busy: it asked for the chip during the window
        busy.push_back({c.pod_uid, dev.chip, static_cast<double>(dev.weight), pct});
      }
    }
  }
  std::vector<ShareCheck> checks;
  for (const auto& b : busy) {
    double weights = 0;
    double charged = 0;
    for (const auto& o : busy) {
      if (o.chip == b.chip) {
        weights += o.weight;
        charged += o.pct;
      }
    }
    checks.push_back({b.uid, b.chip, b.weight, weights > 0 ? 100.0 * b.weight / weights : 0,
                      charged > 0 ? 100.0 * b.pct / charged : 0});
  }
  share_checks_ = std::move(checks);
}

std::string ClusterObserver::RenderTable() const {
  std::ostringstream out;
  char line[256];
  std::snprintf(line, sizeof(line), "%-20s %-16s %-6s %-5s %-15s %-15s %-10s %s\n", "POD", "NODE",
                "CHIPS", "MODE", "MEM used/quota", "SHARE grant/got", "PHASE", "DETAIL");
  out << line;
  for (const auto& v : pods_) {
    std::string mem = "-";
    if (v.mem_quota_mb >= 0) {
      mem = (v.mem_used_mb >= 0 ? std::to_string(v.mem_used_mb) : "?") + "/" +
            std::to_string(v.mem_quota_mb) + "MB";
    }
    std::string share = "-";
    if (v.mode == "soft") {
      share = v.granted + "/" + (v.achieved.empty() ? "?" : v.achieved);
    } else if (!v.mode.empty()) {
      share = v.mode == "whole" ? "whole chip" : "vNPU slice";
    }
    std::snprintf(line, sizeof(line),
                  "%-20.20s %-16.16s %-6.6s %-5.5s %-15.15s %-15.15s %-10.10s %s\n", v.name.c_str(),
                  v.node.empty() ? "-" : v.node.c_str(), v.chips.empty() ? "-" : v.chips.c_str(),
                  v.mode.empty() ? "-" : v.mode.c_str(), mem.c_str(), share.c_str(),
                  v.phase.c_str(), v.detail.c_str());
    out << line;
  }
  return out.str();
}

}  // namespace npushare::demo
