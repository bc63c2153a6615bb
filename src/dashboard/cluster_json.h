// File: dashboard/cluster_json.h
//
// ClusterJson: the body of `GET /api/v1/cluster` (documented field by field in
// docs/dashboard.md). The schema is stable: fields are only ever added, never renamed or
// removed, and `version` (kClusterJsonVersion) grows when fields are added. Unknown measured
// values are JSON null, never 0. Byte quantities are bytes, shares are percent (0-100 of one
// chip), times are Unix milliseconds.
//
// Usage:
//   nlohmann::json body = ClusterJson(snapshot, history, {.history_points = 60});
//   std::string text = body.dump();
//
// Thread safety: pure function (History is internally synchronised).
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>

#include "dashboard/cluster_snapshot.h"
#include "dashboard/history.h"

namespace npushare::dashboard {

// kClusterJsonVersion: the schema version written in the `version` field.
inline constexpr int kClusterJsonVersion = 1;

struct ClusterJsonOptions {
  // history_points: at most this many points per chip in each chip's `history` (averaged
  // buckets, History::Points). 0 leaves the arrays empty. Default 60 (10 s resolution over
  // 10 minutes; ~2 KB per chip).
  size_t history_points = 60;
  // error: when non-empty, written as `error` (the snapshot could not be taken); null else.
  std::string error;
};

// ClusterJson: the document for `snapshot` with `history` read at snapshot.time_unix_ms.
nlohmann::json ClusterJson(const ClusterSnapshot& snapshot, const History& history,
                           const ClusterJsonOptions& options = {});

// EmbeddableJson: `json` dumped so that it can sit inside an HTML <script> element: every
// '<', '>' and '&' is written as a \u escape (still valid JSON, and "</script>" in a pod
// name cannot end the element).
std::string EmbeddableJson(const nlohmann::json& json);

}  // namespace npushare::dashboard
