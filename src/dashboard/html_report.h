// File: dashboard/html_report.h
//
// WriteHtmlReport: a self-contained HTML report of a whole run, for `npushare demo` at exit:
// the dashboard page in report mode (dashboard_html.h) with the final snapshot and every
// history point the History holds embedded as JSON (ClusterJson with history_points =
// History::Capacity()). Opens in any browser offline; no network, no external assets. Give the
// History a window as long as the run (HistoryOptions::window_ms) to chart the whole run.
//
// Usage:
//   NPUSHARE_RETURN_IF_ERROR(WriteHtmlReport(dir + "/npushare-report.html",
//                                            dashboard.history(), dashboard.Latest()));
//
// From another process (`npushare demo` reads the scheduler's dashboard): fetch
// `/api/v1/cluster?history_points=300` and hand the body to WriteHtmlReportFromJson.
//
// Thread safety: safe to call concurrently with History::Record.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "dashboard/cluster_snapshot.h"
#include "dashboard/history.h"

namespace npushare::dashboard {

// WriteHtmlReport: writes the report to `path` atomically with mode 0644. Errors: those of
// WriteFileAtomically (kNotFound / kPermissionDenied / ... for the directory).
Status WriteHtmlReport(const std::string& path, const History& history,
                       const ClusterSnapshot& final_snapshot);

// HtmlReport: the report's text (what WriteHtmlReport writes).
std::string HtmlReport(const History& history, const ClusterSnapshot& final_snapshot);

// WriteHtmlReportFromJson / HtmlReportFromJson: the same report from a `GET /api/v1/cluster`
// body (ClusterJson). kInvalidArgument when `cluster_json` is not a JSON object with a numeric
// `version` or is larger than 64 MiB; then nothing is written.
Status WriteHtmlReportFromJson(const std::string& path, std::string_view cluster_json);
Result<std::string> HtmlReportFromJson(std::string_view cluster_json);

}  // namespace npushare::dashboard
