// File: dashboard/metrics_scraper.h
//
// MetricsScraper: reads the per-container series of a device plugin's /metrics
// (deviceplugin/daemon/metrics.h) and turns the counters into percentages:
//
//   hami_vgpu_memory_used_bytes / hami_vgpu_memory_limit_bytes      -> memory used / quota
//   npushare_vnpu_core_share_percent                                -> share
//   npushare_vnpu_core_device_seconds_total                         -> achieved % (a rate)
//   npushare_vnpu_core_granted_seconds_total                        -> granted % (a rate)
//
// A rate needs two scrapes of the same node: achieved% = d(device_seconds) / d(wall) * 100
// between this scrape and the previous one of that node. The first scrape, a counter that
// went down (the container or plugin restarted) or a gap under min_rate_interval leaves the
// rate unknown for that round.
//
// Series are keyed by labels namespace, pod, container and device_uuid (vdevice_index when
// the plugin did not know the chip). Series without namespace/pod (the plugin did not know
// the pod's name yet) cannot be matched to a slice and are dropped.
//
// Seam: MetricsFetcher does the HTTP GET (HttpMetricsFetcher in production, a fake in tests).
//
// Usage:
//   HttpMetricsFetcher fetcher;
//   MetricsScraper scraper(fetcher, {});
//   Result<NodeUsage> u = scraper.Scrape("node-a", "http://10.0.0.5:9395/metrics", now_ms);
//   scraper.Retain({"node-a", ...});    // forget counters of nodes that are gone
//
// Thread safety: MetricsScraper is safe for concurrent use (one internal mutex, not held
// across the fetch). HttpMetricsFetcher is safe for concurrent use.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "dashboard/prometheus_parser.h"

namespace npushare::dashboard {

// MetricsFetcher: GETs a /metrics URL.
class MetricsFetcher {
 public:
  virtual ~MetricsFetcher() = default;
  // Fetch: the body of a 200 answer. kUnavailable when the peer cannot be reached or answers
  // another status; kResourceExhausted when the body exceeds max_bytes (reading stops there);
  // kInvalidArgument for a URL that is not http://host:port/path.
  virtual Result<std::string> Fetch(const std::string& url, size_t max_bytes) = 0;
};

// HttpMetricsFetcher: plain-HTTP GET with cpp-httplib (the plugins' metrics port is plain).
class HttpMetricsFetcher : public MetricsFetcher {
 public:
  // timeout: connect and per-read timeout. Default 2 s (one slow node must not stall a
  // refresh of the whole cluster for long).
  explicit HttpMetricsFetcher(std::chrono::milliseconds timeout = std::chrono::seconds(2))
      : timeout_(timeout) {}
  Result<std::string> Fetch(const std::string& url, size_t max_bytes) override;

 private:
  const std::chrono::milliseconds timeout_;
};

// ContainerUsageKey: which container on which chip a series is about.
struct ContainerUsageKey {
  std::string pod_namespace;
  std::string pod_name;
  std::string container;
  std::string device_uuid;    // "" when the plugin did not say
  std::string vdevice_index;  // logical device index in the container, as written
  auto Tie() const {
    return std::tie(pod_namespace, pod_name, container, device_uuid, vdevice_index);
  }
  bool operator<(const ContainerUsageKey& o) const { return Tie() < o.Tie(); }
};

// ContainerUsage: what one scrape says about one container on one chip.
struct ContainerUsage {
  ContainerUsageKey key;
  std::optional<int64_t> memory_used_bytes;
  std::optional<int64_t> memory_limit_bytes;
  std::optional<double> core_share_percent;
  std::optional<double> device_seconds_total;
  std::optional<double> granted_seconds_total;
  // Rates against the previous scrape of the node (MetricsScraper::Scrape only).
  std::optional<double> compute_achieved_percent;
  std::optional<double> compute_granted_percent;
};

// NodeUsage: one scrape of one node.
struct NodeUsage {
  std::vector<ContainerUsage> containers;  // sorted by key
  size_t skipped_lines = 0;                // malformed lines in the body
  size_t unmatched_series = 0;             // series without namespace/pod/container
};

// ExtractContainerUsage: the per-container series of `metrics`, grouped by key (no rates).
NodeUsage ExtractContainerUsage(const ParsedMetrics& metrics);

// IsContainerSeries: whether `name` is one of the families above (a ParsePrometheusText keep
// filter, so other families' labels are never stored).
bool IsContainerSeries(std::string_view name);

struct ScraperOptions {
  // max_body_bytes: bodies larger than this are refused. Default 8 MiB.
  size_t max_body_bytes = size_t{8} << 20;
  ParseLimits parse_limits;
  // min_rate_interval: scrapes closer together than this give no rate (noise). Default 500 ms.
  int64_t min_rate_interval_ms = 500;
};

class MetricsScraper {
 public:
  // REQUIRES: fetcher outlives the scraper.
  MetricsScraper(MetricsFetcher& fetcher, ScraperOptions options);
  MetricsScraper(const MetricsScraper&) = delete;
  MetricsScraper& operator=(const MetricsScraper&) = delete;

  // Scrape: fetches and parses `url` and returns node `node`'s containers with rates against
  // the previous successful scrape of `node`. Errors: the fetcher's, or ParsePrometheusText's
  // kResourceExhausted; the previous counters are kept on error.
  Result<NodeUsage> Scrape(const std::string& node, const std::string& url, int64_t now_ms);

  // Retain: forgets the counters of every node not in `nodes` (bounded memory).
  void Retain(const std::set<std::string>& nodes) NPUSHARE_EXCLUDES(mu_);

 private:
  struct Counters {
    int64_t at_ms = 0;
    std::optional<double> device_seconds;
    std::optional<double> granted_seconds;
  };

  MetricsFetcher& fetcher_;
  const ScraperOptions options_;
  Mutex mu_;
  std::map<std::string, std::map<ContainerUsageKey, Counters>> previous_ NPUSHARE_GUARDED_BY(mu_);
};

}  // namespace npushare::dashboard
