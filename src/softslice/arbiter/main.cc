// npushare-arbiter: grants compute time on every chip of this node among the soft-sliced
// containers (docs/softslice.md).
//
//   npushare-arbiter --grant-dir DIR --tenants-dir DIR [--shares-dir DIR] [--tick-us 1000]
//                    [--slice-ms 10] [--metrics-file PATH]
//
// Without --shares-dir the shares are those the tenants declare in their own pages (trust
// mode, a warning on stderr at start): only for nodes whose containers are all trusted.
//
// Runs until SIGTERM/SIGINT. Prints "READY" on stdout once the grant page is published.
// Exit status: 0 after a signal, 2 usage, 1 setup failure.
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <string>
#include <string_view>

#include "softslice/arbiter/arbiter.h"

namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int) {
  g_stop.store(true);
}

uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

bool ParseU64(std::string_view s, uint64_t max, uint64_t* out) {
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || v == 0 || v > max) {
    return false;
  }
  *out = v;
  return true;
}

int Usage() {
  fprintf(stderr,
          "usage: npushare-arbiter --grant-dir DIR --tenants-dir DIR [--shares-dir DIR] "
          "[--tick-us N] [--slice-ms N] [--metrics-file PATH]\n");
  return 2;
}

void WriteMetrics(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  FILE* f = fopen(tmp.c_str(), "w");
  if (f == nullptr) {
    return;
  }
  bool ok = fwrite(text.data(), 1, text.size(), f) == text.size();
  ok = fclose(f) == 0 && ok;
  if (ok) {
    rename(tmp.c_str(), path.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  npushare::softslice::ArbiterOptions options;
  uint64_t tick_us = 1000;
  uint64_t slice_ms = 10;
  std::string metrics_file;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (i + 1 >= argc) {
      return Usage();
    }
    std::string_view v = argv[++i];
    if (a == "--grant-dir") {
      options.grant_dir = v;
    } else if (a == "--tenants-dir") {
      options.tenants_dir = v;
    } else if (a == "--shares-dir") {
      options.shares_dir = v;
      if (options.shares_dir.empty()) {
        return Usage();
      }
    } else if (a == "--tick-us") {
      if (!ParseU64(v, 100'000, &tick_us)) {
        return Usage();
      }
    } else if (a == "--slice-ms") {
      if (!ParseU64(v, 10'000, &slice_ms)) {
        return Usage();
      }
    } else if (a == "--metrics-file") {
      metrics_file = v;
    } else {
      return Usage();
    }
  }
  if (options.grant_dir.empty() || options.tenants_dir.empty()) {
    return Usage();
  }
  options.slice_ns = slice_ms * 1'000'000;
  if (options.shares_dir.empty()) {
    fprintf(stderr,
            "npushare-arbiter: warning: no --shares-dir, compute shares are tenant-declared "
            "(trust mode): a container can raise its own share\n");
  }
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);

  auto arbiter = npushare::softslice::Arbiter::Create(options);
  if (!arbiter.ok()) {
    fprintf(stderr, "npushare-arbiter: %s\n", arbiter.status().ToString().c_str());
    return 1;
  }
  uint64_t next = NowNs();
  (*arbiter)->Tick(next);
  printf("READY\n");
  fflush(stdout);
  uint64_t next_metrics = next;
  while (!g_stop.load()) {
    next += tick_us * 1000;
    timespec ts = {static_cast<time_t>(next / 1000000000ull),
                   static_cast<long>(next % 1000000000ull)};
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
    uint64_t now = NowNs();
    if (now > next + 100 * tick_us * 1000) {
      next = now;  // fell far behind (suspended): do not try to catch up tick by tick
    }
    (*arbiter)->Tick(now);
    if (!metrics_file.empty() && now >= next_metrics) {
      next_metrics = now + 1'000'000'000;
      WriteMetrics(metrics_file, (*arbiter)->MetricsText());
    }
  }
  return 0;
}
