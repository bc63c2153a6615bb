#include "scheduler/http/http_metrics.h"

namespace npushare::scheduler::http {

void HttpMetrics::CountRequest(const std::string& route, int code) {
  MutexLock lock(&mu_);
  ++requests_[{route, code}];
}

LatencyHistogram& HttpMetrics::Histogram(const std::string& route) {
  MutexLock lock(&mu_);
  auto& h = latency_[route];
  if (!h) {
    h = std::make_unique<LatencyHistogram>();
  }
  return *h;  // stable: entries are never erased
}

void HttpMetrics::ObserveLatency(const std::string& route, double seconds) {
  Histogram(route).Observe(seconds);
}

void HttpMetrics::CountAdmission(const std::string& decision) {
  MutexLock lock(&mu_);
  ++admissions_[decision];
}

void HttpMetrics::CountCertificateReload(bool ok) {
  MutexLock lock(&mu_);
  ++(ok ? reloads_ok_ : reloads_rejected_);
}

void HttpMetrics::SetCertificateGeneration(uint64_t generation) {
  MutexLock lock(&mu_);
  generation_ = generation;
}

void HttpMetrics::Render(PrometheusText& out) const {
  MutexLock lock(&mu_);
  out.Family("npushare_scheduler_http_requests_total", "counter",
             "HTTP requests answered, by route and status code.");
  for (const auto& [key, n] : requests_) {
    out.Sample("npushare_scheduler_http_requests_total",
               {{"route", key.first}, {"code", std::to_string(key.second)}},
               static_cast<double>(n));
  }
  out.Family("npushare_scheduler_http_request_duration_seconds", "histogram",
             "Time from a parsed request to its response, by route.");
  for (const auto& [route, h] : latency_) {
    out.Histogram("npushare_scheduler_http_request_duration_seconds", {{"route", route}},
                  h->Snapshot());
  }
  out.Family("npushare_scheduler_webhook_admissions_total", "counter",
             "Admission reviews answered, by decision (allowed, mutated, denied, errored).");
  for (const auto& [decision, n] : admissions_) {
    out.Sample("npushare_scheduler_webhook_admissions_total", {{"decision", decision}},
               static_cast<double>(n));
  }
  out.Family("npushare_scheduler_tls_certificate_reloads_total", "counter",
             "Serving certificate changes seen on disk, by result (ok, rejected: the old pair "
             "stayed in force).");
  out.Sample("npushare_scheduler_tls_certificate_reloads_total", {{"result", "ok"}},
             static_cast<double>(reloads_ok_));
  out.Sample("npushare_scheduler_tls_certificate_reloads_total", {{"result", "rejected"}},
             static_cast<double>(reloads_rejected_));
  out.Family("npushare_scheduler_tls_certificate_generation", "gauge",
             "1 + the number of certificate reloads in force (0 without TLS).");
  out.Sample("npushare_scheduler_tls_certificate_generation", {}, static_cast<double>(generation_));
}

}  // namespace npushare::scheduler::http
