// File: sim/demo/verdict.h
//
// Verdict: the demo's invariants, judged from what the ClusterObserver saw, the pods' logs and
// events, and the clean-up report. Each check is one line: PASS or FAIL with the evidence.
//
// Thread safety: plain values and pure functions.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "sim/demo/cluster_observer.h"
#include "sim/demo/demo_cluster.h"

namespace npushare::demo {

struct VerdictLine {
  bool ok = false;
  std::string text;
};

struct Verdict {
  std::vector<VerdictLine> lines;
  bool ok() const {
    for (const auto& l : lines) {
      if (!l.ok) {
        return false;
      }
    }
    return !lines.empty();
  }
  void Add(bool ok, std::string text) { lines.push_back({ok, std::move(text)}); }
  std::string Render() const;
};

// RunEvidence: what the demo gathered from the running cluster before stopping it.
struct RunEvidence {
  std::map<std::string, std::string> logs;    // pod name -> log (expect=oom pods)
  std::map<std::string, std::string> events;  // pod name -> "Reason: message" (unplaced pods)
};

// ShareTolerancePct: |achieved - expected| allowed, in percentage points (a loaded 2-core VM
// is noisy; docs/softslice.md measures 1-2 pp on a quiet one).
inline constexpr double kShareTolerancePct = 15.0;

// JudgeRun: the invariants that hold while the cluster runs.
Verdict JudgeRun(const ClusterObserver& observer, const RunEvidence& evidence);
// JudgeCleanup: appends the clean-up checks (no processes, mounts or vNPUs left).
void JudgeCleanup(const CleanupReport& report, Verdict& verdict);

}  // namespace npushare::demo
