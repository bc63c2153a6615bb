#include "sim/demo/verdict.h"

#include <cmath>
#include <cstdio>
#include <set>

namespace npushare::demo {
namespace {

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) {
    out += (out.empty() ? "" : ", ") + i;
  }
  return out;
}

// KeyValue: the value of "key=" in `text` (up to the next space or newline), or "".
std::string KeyValue(const std::string& text, const std::string& key) {
  size_t at = text.find(key + "=");
  if (at == std::string::npos) {
    return "";
  }
  at += key.size() + 1;
  size_t end = text.find_first_of(" \n", at);
  return text.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

}  // namespace

std::string Verdict::Render() const {
  std::string out;
  for (const auto& l : lines) {
    out += std::string(l.ok ? "  PASS  " : "  FAIL  ") + l.text + "\n";
  }
  out += ok() ? "VERDICT: every invariant held\n" : "VERDICT: FAILED\n";
  return out;
}

Verdict JudgeRun(const ClusterObserver& observer, const RunEvidence& evidence) {
  Verdict v;
  std::map<std::string, std::string> uid_to_name;
  std::vector<std::string> not_running;
  size_t placeable = 0;
  bool has_vnpu_pod = false;
  for (const auto& p : observer.pods()) {
    uid_to_name[p.uid] = p.name;
    if (p.expect_unschedulable) {
      continue;
    }
    ++placeable;
    if (!observer.reached_running().count(p.name)) {
      not_running.push_back(p.name + " (" + (p.phase.empty() ? "?" : p.phase) +
                            (p.detail.empty() ? "" : ", " + p.detail) + ")");
    }
    if (p.mode == "hard") {
      has_vnpu_pod = true;
    }
  }
  v.Add(placeable > 0 && not_running.empty(),
        not_running.empty()
            ? "every placeable pod reached Running or Succeeded (" + std::to_string(placeable) + ")"
            : "pods that never ran: " + Join(not_running));

  std::set<std::string> violations(observer.quota_violations().begin(),
                                   observer.quota_violations().end());
  v.Add(violations.empty(), violations.empty()
                                ? "no soft-sliced container used more memory than its quota "
                                  "(arbiter ledger metrics, every second)"
                                : "over quota: " + Join({violations.begin(), violations.end()}));
  for (const auto& p : observer.pods()) {
    auto log = evidence.logs.find(p.name);
    if (log == evidence.logs.end()) {
      continue;
    }
    const std::string code = KeyValue(log->second, "oom_code");
    const std::string alloc = KeyValue(log->second, "alloc_mb");
    bool within =
        !alloc.empty() && p.mem_quota_mb > 0 && std::atoll(alloc.c_str()) <= p.mem_quota_mb;
    v.Add(code == "207001" && within,
          p.name + ": over-allocation refused with " + (code.empty() ? "(no oom_code)" : code) +
              " after " + (alloc.empty() ? "?" : alloc) + " MB of a " +
              std::to_string(p.mem_quota_mb) + " MB quota (kubectl logs)");
  }

  const auto& shares = observer.share_checks();
  std::vector<std::string> off;
  std::string measured;
  for (const auto& s : shares) {
    char buf[160];
    std::snprintf(buf, sizeof(buf), "%s chip %d: %.0f%% of %.0f%% expected (weight %.0f)",
                  uid_to_name.count(s.pod) ? uid_to_name[s.pod].c_str() : s.pod.c_str(), s.chip,
                  s.achieved_pct, s.expected_pct, s.weight);
    measured += std::string(measured.empty() ? "" : "; ") + buf;
    if (std::fabs(s.achieved_pct - s.expected_pct) > kShareTolerancePct) {
      off.push_back(buf);
    }
  }
  char tol[64];
  std::snprintf(tol, sizeof(tol), " (tolerance %.0f pp)", kShareTolerancePct);
  v.Add(!shares.empty() && off.empty(),
        shares.empty() ? std::string("no compute share could be measured (no busy soft tenant "
                                     "over a 5 s window)")
                       : "achieved compute shares" + std::string(tol) + ": " + measured);

  if (has_vnpu_pod) {
    v.Add(observer.max_vnpus() > 0, "hard-slice pods ran on vNPUs created in npu-sim (up to " +
                                        std::to_string(observer.max_vnpus()) + " at once)");
  }
  for (const auto& p : observer.pods()) {
    if (!p.expect_unschedulable) {
      continue;
    }
    auto ev = evidence.events.find(p.name);
    bool explained = p.node.empty() && ev != evidence.events.end() && !ev->second.empty();
    v.Add(explained, p.name + " stays " + p.phase + ": " +
                         (ev == evidence.events.end() ? std::string("(no event)") : ev->second));
  }
  if (!observer.first_running()) {
    v.Add(false, "no pod ever ran");
  }
  return v;
}

void JudgeCleanup(const CleanupReport& report, Verdict& verdict) {
  verdict.Add(report.processes.empty(), report.processes.empty()
                                            ? "no component process left"
                                            : "processes left: " + Join(report.processes));
  verdict.Add(report.mounts.empty(), report.mounts.empty() ? "no mount left under the run directory"
                                                           : "mounts left: " + Join(report.mounts));
  verdict.Add(report.vnpus.empty() && report.errors.empty(),
              report.vnpus.empty() && report.errors.empty()
                  ? "no vNPU left in npu-sim"
                  : "left behind: " + Join(report.vnpus) + " " + Join(report.errors));
}

}  // namespace npushare::demo
