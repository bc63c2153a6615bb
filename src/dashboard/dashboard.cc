#include "dashboard/dashboard.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <utility>
#include <vector>

namespace npushare::dashboard {
namespace {

void AddUsage(SliceView& s, const ContainerUsage& u) {
  auto add_i = [](std::optional<int64_t>& dst, const std::optional<int64_t>& v) {
    if (v.has_value()) {
      dst = dst.value_or(0) + *v;
    }
  };
  auto add_d = [](std::optional<double>& dst, const std::optional<double>& v) {
    if (v.has_value()) {
      dst = dst.value_or(0) + *v;
    }
  };
  add_i(s.memory_used_bytes, u.memory_used_bytes);
  add_d(s.compute_granted_percent, u.compute_granted_percent);
  add_d(s.compute_achieved_percent, u.compute_achieved_percent);
}

bool SameContainer(const SliceView& s, const ContainerUsageKey& k) {
  return s.pod_namespace == k.pod_namespace && s.pod_name == k.pod_name &&
         s.container == k.container;
}

}  // namespace

size_t MergeUsage(NodeView& node, const NodeUsage& usage) {
  size_t unmatched = 0;
  for (const ContainerUsage& u : usage.containers) {
    std::vector<SliceView*> found;
    for (ChipView& chip : node.chips) {
      if (!u.key.device_uuid.empty() && chip.uuid != u.key.device_uuid) {
        continue;
      }
      std::vector<SliceView*> by_pod;
      for (SliceView& s : chip.slices) {
        if (SameContainer(s, u.key)) {
          found.push_back(&s);
        } else if (s.container.empty() && s.pod_namespace == u.key.pod_namespace &&
                   s.pod_name == u.key.pod_name) {
          by_pod.push_back(&s);
        }
      }
      if (by_pod.size() == 1) {
        found.push_back(by_pod.front());
      }
    }
    if (found.size() == 1) {
      AddUsage(*found.front(), u);
    } else {
      ++unmatched;
    }
  }
  return unmatched;
}

Dashboard::Dashboard(SnapshotSource& source, MetricsFetcher& fetcher, DashboardOptions options)
    : source_(source),
      options_(std::move(options)),
      scraper_(fetcher, options_.scraper),
      history_(options_.history) {}

Dashboard::~Dashboard() {
  Stop();
}

int64_t Dashboard::Now() const {
  if (options_.now_ms) {
    return options_.now_ms();
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status Dashboard::Refresh() {
  MutexLock refresh_lock(&refresh_mu_);
  Result<ClusterSnapshot> snap = source_.Snapshot();
  if (!snap.ok()) {
    MutexLock lock(&mu_);
    last_error_ = snap.status().message();
    return snap.status();
  }
  ClusterSnapshot s = std::move(snap).value();
  if (s.time_unix_ms == 0) {
    s.time_unix_ms = Now();
  }
  std::set<std::string> names;
  for (const NodeView& n : s.nodes) {
    names.insert(n.name);
  }
  // Scrape nodes in parallel: each worker takes the next node index; a node is touched by one
  // worker only, and MetricsScraper is thread-safe.
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next.fetch_add(1); i < s.nodes.size(); i = next.fetch_add(1)) {
      NodeView& n = s.nodes[i];
      if (n.metrics_url.empty()) {
        continue;
      }
      Result<NodeUsage> usage = scraper_.Scrape(n.name, n.metrics_url, s.time_unix_ms);
      if (!usage.ok()) {
        n.metrics_scraped = false;
        n.metrics_error = usage.status().message();
        continue;
      }
      n.metrics_scraped = true;
      n.metrics_skipped_lines = usage.value().skipped_lines;
      MergeUsage(n, usage.value());
    }
  };
  size_t with_url = 0;
  for (const NodeView& n : s.nodes) {
    with_url += n.metrics_url.empty() ? 0 : 1;
  }
  const size_t workers =
      std::min<size_t>(with_url, static_cast<size_t>(std::max(options_.scrape_parallelism, 1)));
  std::vector<std::thread> threads;
  for (size_t w = 1; w < workers; ++w) {
    threads.emplace_back(work);
  }
  work();
  for (std::thread& t : threads) {
    t.join();
  }
  scraper_.Retain(names);
  history_.Record(s);
  MutexLock lock(&mu_);
  latest_ = std::move(s);
  last_error_.clear();
  return OkStatus();
}

void Dashboard::Start() {
  MutexLock lock(&loop_mu_);
  if (thread_.joinable()) {
    return;
  }
  stopping_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void Dashboard::Stop() {
  {
    MutexLock lock(&loop_mu_);
    stopping_ = true;
  }
  loop_cv_.NotifyAll();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void Dashboard::Loop() {
  MutexLock lock(&loop_mu_);
  while (!stopping_) {
    lock.Unlock();
    // The error is kept in last_error_ and shown by Json(); nothing else to do with it here.
    Refresh().IgnoreError();
    lock.Lock();
    loop_cv_.WaitFor(&loop_mu_, std::chrono::milliseconds(options_.refresh_period_ms),
                     [this]() NPUSHARE_REQUIRES(loop_mu_) { return stopping_; });
  }
}

ClusterSnapshot Dashboard::Latest() const {
  MutexLock lock(&mu_);
  return latest_;
}

nlohmann::json Dashboard::Json(size_t history_points) const {
  ClusterSnapshot s;
  ClusterJsonOptions o;
  o.history_points = history_points;
  {
    MutexLock lock(&mu_);
    s = latest_;
    o.error = last_error_;
  }
  return ClusterJson(s, history_, o);
}

}  // namespace npushare::dashboard
