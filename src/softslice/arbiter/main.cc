// npushare-arbiter: grants compute time on every chip of this node among the soft-sliced
// containers (docs/softslice.md).
//
//   npushare-arbiter --grant-dir DIR --tenants-dir DIR [--shares-dir DIR] [--tick-us 1000]
//                    [--slice-ms 10] [--demand-window-us 1000] [--metrics-file PATH] [--help]
//
// Without --shares-dir the shares are those the tenants declare in their own pages (trust
// mode, a warning on stderr at start): only for nodes whose containers are all trusted.
//
// Runs until SIGTERM/SIGINT. Prints "READY" on stdout once the grant page is published.
// Exit status: 0 after a signal or --help, 2 usage (the message names the flag), 1 setup
// failure. Every exit writes its reason to stderr first, fatal signals included (a damaged
// grant page is rebuilt, not fatal: Arbiter::Tick).
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "softslice/arbiter/arbiter.h"
#include "softslice/arbiter/arbiter_loop.h"
#include "softslice/arbiter/ledger_metrics.h"
#include "softslice/arbiter/metrics_writer.h"
#include "softslice/arbiter/tick_clock_impl.h"

namespace {

std::atomic<int> g_stop{0};  // the signal that asked us to stop, 0 while running

void OnSignal(int sig) {
  g_stop.store(sig);
}

// OnFatalSignal: says why we die (async-signal-safe: write(2) only), then dies of the signal.
void OnFatalSignal(int sig) {
  char msg[64] = "npushare-arbiter: exiting on fatal signal ";
  size_t n = strlen(msg);
  char digits[8];
  int d = 0;
  for (int v = sig; v > 0 && d < 7; v /= 10) {
    digits[d++] = static_cast<char>('0' + v % 10);
  }
  while (d > 0 && n + 2 < sizeof(msg)) {
    msg[n++] = digits[--d];
  }
  msg[n++] = '\n';
  ssize_t ignored = write(2, msg, n);
  (void)ignored;
  signal(sig, SIG_DFL);
  raise(sig);
}

// InstallExitReasons: fatal signals and std::terminate say why on stderr before the process
// dies; SIGPIPE (a closed stdout) is ignored so that it cannot kill us silently. Installed
// before the grant page is opened, so that the page's SIGBUS guard chains to OnFatalSignal
// for faults elsewhere.
void InstallExitReasons() {
  struct sigaction sa = {};
  sa.sa_handler = OnFatalSignal;
  for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT}) {
    sigaction(sig, &sa, nullptr);
  }
  signal(SIGPIPE, SIG_IGN);
  std::set_terminate([] {
    fprintf(stderr, "npushare-arbiter: exiting: unhandled exception\n");
    signal(SIGABRT, SIG_DFL);
    abort();
  });
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

// One row per flag: --help is generated from this table, so it cannot drift from the parser.
struct Flag {
  const char* name;
  const char* value;  // placeholder shown in the usage
  const char* help;
};
constexpr Flag kFlags[] = {
    {"--grant-dir", "DIR", "required: directory of grants.v2 (mounted read-only into containers)"},
    {"--tenants-dir", "DIR", "required: one sub-directory per soft-sliced container"},
    {"--shares-dir", "DIR",
     "node-written <tenant>.share files: weights, caps, pinned chips (default: trust mode)"},
    {"--tick-us", "N", "scheduling period in microseconds, 1..100000 (default 1000)"},
    {"--slice-ms", "N", "time slice in milliseconds, 1..10000 (default 10)"},
    {"--demand-window-us", "N",
     "a launch this recent counts as demand, in microseconds, 1..1000000 (default 1000)"},
    {"--metrics-file", "PATH", "rewritten atomically every second, one line per tenant device"},
    {"--help", "", "print this help and exit"},
};

void PrintUsage(FILE* out) {
  fprintf(out, "usage: npushare-arbiter --grant-dir DIR --tenants-dir DIR [options]\n");
  for (const Flag& f : kFlags) {
    std::string lhs = std::string(f.name) + (f.value[0] != '\0' ? " " : "") + f.value;
    fprintf(out, "  %-24s %s\n", lhs.c_str(), f.help);
  }
}

// Usage: a bad command line; names the flag and what is wrong with it.
int Usage(const std::string& message) {
  fprintf(stderr, "npushare-arbiter: %s\n", message.c_str());
  PrintUsage(stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  npushare::softslice::ArbiterOptions options;
  uint64_t tick_us = 1000;
  uint64_t slice_ms = 10;
  uint64_t demand_window_us = options.demand_window_ns / 1000;
  std::string metrics_file;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help") {
      PrintUsage(stdout);
      return 0;
    }
    bool known = false;
    for (const Flag& f : kFlags) {
      known = known || a == f.name;
    }
    if (!known) {
      return Usage("unknown flag " + a);
    }
    if (i + 1 >= argc) {
      return Usage(a + " needs a value");
    }
    std::string_view v = argv[++i];
    if (a == "--grant-dir") {
      options.grant_dir = v;
    } else if (a == "--tenants-dir") {
      options.tenants_dir = v;
    } else if (a == "--shares-dir") {
      options.shares_dir = v;
      if (options.shares_dir.empty()) {
        return Usage("--shares-dir must not be empty");
      }
    } else if (a == "--tick-us") {
      if (!ParseU64(v, 100'000, &tick_us)) {
        return Usage("--tick-us must be an integer in 1..100000");
      }
    } else if (a == "--slice-ms") {
      if (!ParseU64(v, 10'000, &slice_ms)) {
        return Usage("--slice-ms must be an integer in 1..10000");
      }
    } else if (a == "--demand-window-us") {
      if (!ParseU64(v, 1'000'000, &demand_window_us)) {
        return Usage("--demand-window-us must be an integer in 1..1000000");
      }
    } else if (a == "--metrics-file") {
      metrics_file = v;
    }
  }
  if (options.grant_dir.empty() || options.tenants_dir.empty()) {
    return Usage("--grant-dir and --tenants-dir are required");
  }
  options.demand_window_ns = demand_window_us * 1000;
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
  InstallExitReasons();

  auto arbiter = npushare::softslice::Arbiter::Create(options);
  if (!arbiter.ok()) {
    fprintf(stderr, "npushare-arbiter: exiting: %s\n", arbiter.status().ToString().c_str());
    return 1;
  }
  // Written on its own thread: the loop below must not stall on the disk (metrics_writer.h).
  std::optional<npushare::softslice::MetricsWriter> metrics;
  npushare::softslice::ArbiterLoop::MetricsSink sink;
  if (!metrics_file.empty()) {
    metrics.emplace(metrics_file, [dir = options.tenants_dir] {
      return npushare::softslice::LedgerMetricsText(dir);
    });
    sink = [&metrics](std::string text) { metrics->Publish(std::move(text)); };
  }
  npushare::softslice::MonotonicTickClock clock;
  npushare::softslice::ArbiterLoopOptions loop_options;
  loop_options.tick_ns = tick_us * 1000;
  npushare::softslice::ArbiterLoop loop(**arbiter, clock, loop_options, std::move(sink));
  loop.Start();
  printf("READY\n");
  fflush(stdout);
  loop.RunUntil([] { return g_stop.load() != 0; });
  fprintf(stderr, "npushare-arbiter: exiting on signal %d (%s)\n", g_stop.load(),
          strsignal(g_stop.load()));
  return 0;
}
