#include "dashboard/metrics_scraper.h"

#include <httplib.h>

#include <cmath>
#include <utility>

namespace npushare::dashboard {
namespace {

constexpr std::string_view kMemUsed = "hami_vgpu_memory_used_bytes";
constexpr std::string_view kMemLimit = "hami_vgpu_memory_limit_bytes";
constexpr std::string_view kShare = "npushare_vnpu_core_share_percent";
constexpr std::string_view kDeviceSeconds = "npushare_vnpu_core_device_seconds_total";
constexpr std::string_view kGrantedSeconds = "npushare_vnpu_core_granted_seconds_total";

// ToBytes: a gauge in bytes as int64; nullopt when negative or beyond 2^62 (hostile).
std::optional<int64_t> ToBytes(double v) {
  if (!(v >= 0) || v > 4.6e18) {
    return std::nullopt;
  }
  return static_cast<int64_t>(v);
}

std::optional<double> NonNegative(double v) {
  if (!(v >= 0)) {
    return std::nullopt;
  }
  return v;
}

// Rate: percent of wall time; nullopt unless both counters are known and did not go down.
std::optional<double> Rate(const std::optional<double>& now, const std::optional<double>& before,
                           double seconds) {
  if (!now.has_value() || !before.has_value() || *now < *before || seconds <= 0) {
    return std::nullopt;
  }
  return (*now - *before) / seconds * 100.0;
}

}  // namespace

bool IsContainerSeries(std::string_view name) {
  return name == kMemUsed || name == kMemLimit || name == kShare || name == kDeviceSeconds ||
         name == kGrantedSeconds;
}

NodeUsage ExtractContainerUsage(const ParsedMetrics& metrics) {
  NodeUsage out;
  out.skipped_lines = metrics.skipped_lines;
  std::map<ContainerUsageKey, ContainerUsage> by_key;
  for (const MetricSample& s : metrics.samples) {
    if (!IsContainerSeries(s.name)) {
      continue;
    }
    ContainerUsageKey key{s.Label("namespace"), s.Label("pod"), s.Label("container"),
                          s.Label("device_uuid"), s.Label("vdevice_index")};
    if (key.pod_namespace.empty() || key.pod_name.empty() || key.container.empty()) {
      ++out.unmatched_series;
      continue;
    }
    ContainerUsage& u = by_key[key];
    u.key = key;
    if (s.name == kMemUsed) {
      u.memory_used_bytes = ToBytes(s.value);
    } else if (s.name == kMemLimit) {
      u.memory_limit_bytes = ToBytes(s.value);
    } else if (s.name == kShare) {
      u.core_share_percent = NonNegative(s.value);
    } else if (s.name == kDeviceSeconds) {
      u.device_seconds_total = NonNegative(s.value);
    } else {
      u.granted_seconds_total = NonNegative(s.value);
    }
  }
  out.containers.reserve(by_key.size());
  for (auto& [k, u] : by_key) {
    out.containers.push_back(std::move(u));
  }
  return out;
}

Result<std::string> HttpMetricsFetcher::Fetch(const std::string& url, size_t max_bytes) {
  constexpr std::string_view kScheme = "http://";
  if (url.compare(0, kScheme.size(), kScheme) != 0 || url.size() > 2048) {
    return InvalidArgumentError("metrics URL must be http://host:port/path: " + url.substr(0, 200));
  }
  const size_t slash = url.find('/', kScheme.size());
  const std::string origin = url.substr(0, slash);
  const std::string path = slash == std::string::npos ? "/metrics" : url.substr(slash);
  if (origin.size() == kScheme.size()) {
    return InvalidArgumentError("metrics URL has no host: " + url);
  }
  httplib::Client client(origin);
  if (!client.is_valid()) {
    return InvalidArgumentError("metrics URL is not usable: " + url);
  }
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(timeout_);
  const auto usecs = std::chrono::duration_cast<std::chrono::microseconds>(timeout_ - secs);
  client.set_connection_timeout(secs.count(), usecs.count());
  client.set_read_timeout(secs.count(), usecs.count());
  client.set_keep_alive(false);
  std::string body;
  bool too_big = false;
  httplib::Result res = client.Get(path, [&](const char* data, size_t len) {
    if (body.size() + len > max_bytes) {
      too_big = true;
      return false;
    }
    body.append(data, len);
    return true;
  });
  if (too_big) {
    return ResourceExhaustedError("metrics body from " + url + " is over " +
                                  std::to_string(max_bytes) + " bytes");
  }
  if (!res) {
    return UnavailableError("GET " + url + ": " + httplib::to_string(res.error()));
  }
  if (res->status != 200) {
    return UnavailableError("GET " + url + ": HTTP " + std::to_string(res->status));
  }
  return body;
}

MetricsScraper::MetricsScraper(MetricsFetcher& fetcher, ScraperOptions options)
    : fetcher_(fetcher), options_(std::move(options)) {}

Result<NodeUsage> MetricsScraper::Scrape(const std::string& node, const std::string& url,
                                         int64_t now_ms) {
  NPUSHARE_ASSIGN_OR_RETURN(std::string body, fetcher_.Fetch(url, options_.max_body_bytes));
  NPUSHARE_ASSIGN_OR_RETURN(ParsedMetrics parsed,
                            ParsePrometheusText(body, options_.parse_limits, IsContainerSeries));
  NodeUsage usage = ExtractContainerUsage(parsed);
  MutexLock lock(&mu_);
  std::map<ContainerUsageKey, Counters>& prev = previous_[node];
  std::map<ContainerUsageKey, Counters> next;
  for (ContainerUsage& c : usage.containers) {
    auto it = prev.find(c.key);
    if (it != prev.end()) {
      const int64_t dt_ms = now_ms - it->second.at_ms;
      if (dt_ms >= options_.min_rate_interval_ms && dt_ms > 0) {
        const double secs = static_cast<double>(dt_ms) / 1000.0;
        c.compute_achieved_percent = Rate(c.device_seconds_total, it->second.device_seconds, secs);
        c.compute_granted_percent = Rate(c.granted_seconds_total, it->second.granted_seconds, secs);
      } else if (dt_ms >= 0) {
        // Too close: keep the older baseline so the next scrape measures a longer interval.
        next[c.key] = it->second;
        continue;
      }
    }
    next[c.key] = Counters{now_ms, c.device_seconds_total, c.granted_seconds_total};
  }
  prev = std::move(next);
  return usage;
}

void MetricsScraper::Retain(const std::set<std::string>& nodes) {
  MutexLock lock(&mu_);
  for (auto it = previous_.begin(); it != previous_.end();) {
    if (nodes.count(it->first) == 0) {
      it = previous_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace npushare::dashboard
