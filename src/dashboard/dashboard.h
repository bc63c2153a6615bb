// File: dashboard/dashboard.h
//
// Dashboard: ties the pieces together. Refresh() takes a snapshot from the SnapshotSource,
// scrapes every node's metrics_url (MetricsScraper), fills the measured fields of the slices
// (MergeUsage), records it in the History and keeps it as the latest view that the HTTP
// routes (http_routes.h) and the exit report (html_report.h) render.
//
// Refreshing runs either in a background thread (Start/Stop, every refresh_period) or by
// calling Refresh() yourself (tests, `npushare demo`'s final snapshot).
//
// Usage:
//   dashboard::HttpMetricsFetcher fetcher;
//   dashboard::Dashboard dash(source, fetcher, {});
//   dash.Start();                                  // refresh every 2 s
//   dashboard::RegisterDashboardRoutes(server, dash, {});
//   ...
//   dash.Stop();
//
// Thread safety: all public methods are safe for concurrent use. Refresh() calls are
// serialised (one at a time); readers see the latest completed refresh.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "dashboard/cluster_json.h"
#include "dashboard/cluster_snapshot.h"
#include "dashboard/history.h"
#include "dashboard/metrics_scraper.h"

namespace npushare::dashboard {

struct DashboardOptions {
  HistoryOptions history;
  ScraperOptions scraper;
  // refresh_period: background refresh period (Start()). Default 2 s, the page's poll period.
  int64_t refresh_period_ms = 2000;
  // scrape_parallelism: nodes scraped at once (threads per refresh). Default 8: with the
  // fetcher's 2 s timeout, 100 unreachable nodes delay a refresh ~25 s instead of 200 s.
  int scrape_parallelism = 8;
  // now_ms: the clock (Unix milliseconds). Default: the system clock. A snapshot whose
  // time_unix_ms is 0 gets this time.
  std::function<int64_t()> now_ms;
};

// MergeUsage: fills the measured fields of `node`'s slices from one scrape. A series matches
// the slice with the same namespace, pod and container on the chip whose uuid is the series'
// device_uuid; without device_uuid, the one slice of that container on the node (ambiguous
// series are left out). Slices whose container name is "" match by pod when the pod has a
// single slice on the chip. Several series on one slice add up. Returns how many series
// matched no slice.
size_t MergeUsage(NodeView& node, const NodeUsage& usage);

class Dashboard {
 public:
  // REQUIRES: source and fetcher outlive the Dashboard.
  Dashboard(SnapshotSource& source, MetricsFetcher& fetcher, DashboardOptions options);
  ~Dashboard();
  Dashboard(const Dashboard&) = delete;
  Dashboard& operator=(const Dashboard&) = delete;

  // Refresh: snapshot + scrape + record. OK when a snapshot was taken (scrape failures are
  // recorded per node in NodeView::metrics_error, not returned); the source's error otherwise
  // (then the latest view keeps its last good snapshot, and Json() reports the error).
  Status Refresh() NPUSHARE_EXCLUDES(refresh_mu_);

  // Start: refreshes every refresh_period in a background thread (first refresh at once).
  // Idempotent. Stop: ends it and joins; idempotent; the destructor calls it.
  void Start() NPUSHARE_EXCLUDES(loop_mu_);
  void Stop();

  // Latest: the snapshot of the last successful Refresh (empty before the first).
  ClusterSnapshot Latest() const;
  // Json: ClusterJson of Latest() with `history_points` per chip, and the last refresh error.
  nlohmann::json Json(size_t history_points) const;
  const History& history() const { return history_; }

 private:
  void Loop() NPUSHARE_EXCLUDES(loop_mu_);
  int64_t Now() const;

  SnapshotSource& source_;
  const DashboardOptions options_;
  MetricsScraper scraper_;
  History history_;
  Mutex refresh_mu_;  // serialises Refresh()
  mutable Mutex mu_;
  ClusterSnapshot latest_ NPUSHARE_GUARDED_BY(mu_);
  std::string last_error_ NPUSHARE_GUARDED_BY(mu_);
  Mutex loop_mu_;
  CondVar loop_cv_;
  bool stopping_ NPUSHARE_GUARDED_BY(loop_mu_) = false;
  std::thread thread_;
};

}  // namespace npushare::dashboard
