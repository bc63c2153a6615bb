// File: scheduler/http/http_metrics.h
//
// HttpMetrics: the series npushare-scheduler's HTTP layer exports, declared once here:
//
//   npushare_scheduler_http_requests_total{route,code}        counter
//   npushare_scheduler_http_request_duration_seconds{route}   histogram (handled requests)
//   npushare_scheduler_webhook_admissions_total{decision}     counter
//   (allowed|mutated|denied|errored) npushare_scheduler_tls_certificate_reloads_total{result}
//   counter (ok|rejected) npushare_scheduler_tls_certificate_generation             gauge (1 +
//   successful reloads)
//
// `route` is a registered path or "other", so a scanner cannot grow the label set.
//
// Thread safety: safe for concurrent use.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "common/prometheus_text.h"
#include "common/thread_annotations.h"

namespace npushare::scheduler::http {

class HttpMetrics {
 public:
  void CountRequest(const std::string& route, int code) NPUSHARE_EXCLUDES(mu_);
  void ObserveLatency(const std::string& route, double seconds);
  void CountAdmission(const std::string& decision) NPUSHARE_EXCLUDES(mu_);
  void CountCertificateReload(bool ok) NPUSHARE_EXCLUDES(mu_);
  void SetCertificateGeneration(uint64_t generation) NPUSHARE_EXCLUDES(mu_);

  // Render: appends every family (each with its HELP/TYPE, even when empty).
  void Render(PrometheusText& out) const NPUSHARE_EXCLUDES(mu_);

 private:
  LatencyHistogram& Histogram(const std::string& route) NPUSHARE_EXCLUDES(mu_);

  mutable Mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_ NPUSHARE_GUARDED_BY(mu_);
  std::map<std::string, std::unique_ptr<LatencyHistogram>> latency_ NPUSHARE_GUARDED_BY(mu_);
  std::map<std::string, uint64_t> admissions_ NPUSHARE_GUARDED_BY(mu_);
  uint64_t reloads_ok_ NPUSHARE_GUARDED_BY(mu_) = 0;
  uint64_t reloads_rejected_ NPUSHARE_GUARDED_BY(mu_) = 0;
  uint64_t generation_ NPUSHARE_GUARDED_BY(mu_) = 0;
};

}  // namespace npushare::scheduler::http
