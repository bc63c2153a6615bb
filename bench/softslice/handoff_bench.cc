// softslice_handoff: hand-off latency and 1-second share error of npushare-arbiter plus
// libvnpu.so on npu-sim (issue 5 benchmarks; docs/softslice.md §8). Run by hand, not a ctest:
//
//   build/bin/softslice_handoff [--scenario handoff|shares|both] [--seconds 10]
//       [--idle-ms 20] [--burst 4] [--tick-us N] [--demand-window-us N] [--slice-ms N]
//
// Every scenario runs in a fresh temporary directory: a new npu-sim state (one 910B4, through
// `npu-sim init` and NPU_SIM_STATE), the real npushare-arbiter (trust mode; --tick-us,
// --demand-window-us and --slice-ms are passed on when given) and tenants that are this
// executable re-run with `--role tenant` under LD_PRELOAD=libvnpu.so. Kernels are npu-sim's
// 1 ms full-chip kernels launched through the public ACL API, synchronised after each burst.
//
// handoff: tenant A (share 90) alternates a burst of --burst kernels (then a synchronize) and
//   --idle-ms of idleness; tenant B (share 10) is always busy. Each time A goes idle (its
//   synchronize returned), the latency is the time until the next of B's launch calls that
//   blocked in the gate (took over 200 us) returns, i.e. until B passes the gate again. Only
//   idle periods that begin while B is blocked in the gate count (B may be in its own
//   synchronize instead); prints their count, p50, p90, p99 and max in ms, and how many idle
//   periods did not count.
// shares: first one busy tenant alone for --seconds (the reference throughput), then tenants at
//   40 and 60, both always busy, for --seconds. Each counts the kernels whose synchronize
//   returned in each 1-second window from a common start; prints every window's shares, the
//   largest absolute error over the 1 s windows, the error over the whole run and the pair's
//   aggregate throughput relative to the tenant alone.
//
// Timestamps are CLOCK_MONOTONIC, which all processes share. Exit status: 0 when the scenarios
// ran, 1 when something could not be started, 2 usage.
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "acl/acl.h"
#include "unit/sim/run_process.h"

namespace {

constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kBlockedNs = 200'000;  // a launch slower than this waited in the gate

uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

void SleepUntil(uint64_t t_ns) {
  timespec ts = {static_cast<time_t>(t_ns / 1'000'000'000ull),
                 static_cast<long>(t_ns % 1'000'000'000ull)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) != 0) {
  }
}

bool ParseU64(std::string_view s, uint64_t max, uint64_t* out) {
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || v > max) {
    return false;
  }
  *out = v;
  return true;
}

struct Options {
  std::string scenario = "both";
  std::string role;
  uint64_t seconds = 10;
  uint64_t idle_ms = 20;
  uint64_t burst = 4;
  uint64_t t0_ns = 0;
  std::vector<std::string> arbiter_flags;  // passed on to npushare-arbiter
};

bool Parse(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) {
      return false;
    }
    std::string v = argv[++i];
    if (a == "--scenario" && (v == "handoff" || v == "shares" || v == "both")) {
      o->scenario = v;
    } else if (a == "--role" && v == "tenant") {
      o->role = v;
    } else if (a == "--seconds") {
      if (!ParseU64(v, 3600, &o->seconds) || o->seconds == 0) {
        return false;
      }
    } else if (a == "--idle-ms") {
      if (!ParseU64(v, 10'000, &o->idle_ms)) {
        return false;
      }
    } else if (a == "--burst") {
      if (!ParseU64(v, 1000, &o->burst) || o->burst == 0) {
        return false;
      }
    } else if (a == "--t0-ns") {
      if (!ParseU64(v, ~0ull, &o->t0_ns)) {
        return false;
      }
    } else if (a == "--tick-us" || a == "--demand-window-us" || a == "--slice-ms") {
      o->arbiter_flags.insert(o->arbiter_flags.end(), {a, v});
    } else {
      return false;
    }
  }
  return true;
}

// ---- the tenant role (runs under libvnpu.so) ----

// RunTenant: warms up (first launch registers the tenant page), waits for t0, then runs bursts
// until t0 + seconds and prints "idle <ns>", "pass <ns> <waited ns>" and "window <i> <kernels>"
// lines, then "done kernels=<n>".
int RunTenant(const Options& o) {
  aclrtStream stream = nullptr;
  aclrtBinHandle bin = nullptr;
  aclrtFuncHandle func = nullptr;
  static const char kBinary[] = "npusim:duration_us=10";
  aclError rc = aclInit(nullptr);
  if (rc == ACL_SUCCESS) {
    rc = aclrtSetDevice(0);
  }
  if (rc == ACL_SUCCESS) {
    rc = aclrtCreateStream(&stream);
  }
  if (rc == ACL_SUCCESS) {
    rc = aclrtBinaryLoadFromData(kBinary, sizeof(kBinary), nullptr, &bin);
  }
  if (rc == ACL_SUCCESS) {
    rc = aclrtBinaryGetFunction(bin, "sim_1000us", &func);
  }
  if (rc == ACL_SUCCESS) {
    rc = aclrtLaunchKernel(func, 1024, nullptr, 0, stream);
  }
  if (rc == ACL_SUCCESS) {
    rc = aclrtSynchronizeStream(stream);
  }
  if (rc != ACL_SUCCESS) {
    printf("error=%d\n", rc);
    return 1;
  }
  SleepUntil(o.t0_ns);
  const uint64_t end = o.t0_ns + o.seconds * 1000 * kMs;
  std::vector<uint64_t> windows(o.seconds, 0);
  std::vector<uint64_t> idles;
  std::vector<std::pair<uint64_t, uint64_t>> passes;
  uint64_t kernels = 0;
  while (rc == ACL_SUCCESS && NowNs() < end) {
    for (uint64_t k = 0; k < o.burst && rc == ACL_SUCCESS; ++k) {
      uint64_t before = NowNs();
      rc = aclrtLaunchKernel(func, 1024, nullptr, 0, stream);
      uint64_t after = NowNs();
      if (after - before > kBlockedNs) {
        passes.emplace_back(after, after - before);
      }
    }
    if (rc == ACL_SUCCESS) {
      rc = aclrtSynchronizeStream(stream);
    }
    uint64_t done = NowNs();
    if (done < end) {
      windows[(done - o.t0_ns) / (1000 * kMs)] += o.burst;
      kernels += o.burst;
    }
    if (o.idle_ms > 0) {
      idles.push_back(done);
      SleepUntil(done + o.idle_ms * kMs);
    }
  }
  for (uint64_t t : idles) {
    printf("idle %llu\n", static_cast<unsigned long long>(t));
  }
  for (const auto& [t, waited] : passes) {
    printf("pass %llu %llu\n", static_cast<unsigned long long>(t),
           static_cast<unsigned long long>(waited));
  }
  for (size_t i = 0; i < windows.size(); ++i) {
    printf("window %zu %llu\n", i, static_cast<unsigned long long>(windows[i]));
  }
  printf("done kernels=%llu error=%d\n", static_cast<unsigned long long>(kernels), rc);
  return rc == ACL_SUCCESS ? 0 : 1;
}

// ---- the coordinator ----

struct Proc {
  pid_t pid = -1;
  int out_fd = -1;
};

// Spawn: runs argv with exactly env (KEY=VALUE); stdout on a pipe, stdin from /dev/null, stderr
// to /dev/null when quiet (the tests' spawner, tests/unit/sim/run_process.h).
Proc Spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env, bool quiet) {
  npushare::sim::testing::SpawnOptions options;
  options.env = env;
  options.pre_exec = [quiet] {
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);  // dup2 copies do not inherit it
    dup2(devnull, 0);
    if (quiet) {
      dup2(devnull, 2);
    }
  };
  npushare::sim::testing::Child c = npushare::sim::testing::Spawn(argv, options);
  if (c.in_fd >= 0) {
    close(c.in_fd);
  }
  return {c.pid, c.out_fd};
}

using npushare::sim::testing::ReadAll;
using npushare::sim::testing::ReadLine;
using npushare::sim::testing::Wait;

// TenantOutput: what one tenant role printed.
struct TenantOutput {
  std::vector<uint64_t> idles;
  std::vector<std::pair<uint64_t, uint64_t>> passes;  // (return time, time waited)
  std::vector<uint64_t> windows;
  std::string done;
};

TenantOutput ParseTenant(const std::string& text) {
  TenantOutput t;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream l(line);
    std::string kind;
    l >> kind;
    uint64_t a = 0;
    uint64_t b = 0;
    if (kind == "idle" && (l >> a)) {
      t.idles.push_back(a);
    } else if (kind == "pass" && (l >> a >> b)) {
      t.passes.emplace_back(a, b);
    } else if (kind == "window" && (l >> a >> b)) {
      t.windows.push_back(b);
    } else if (kind == "done") {
      t.done = line;
    }
  }
  return t;
}

// Bench: one fresh npu-sim state and arbiter per scenario.
class Bench {
 public:
  explicit Bench(const Options& o) : o_(o) {
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    exe_ = std::string(exe, n > 0 ? static_cast<size_t>(n) : 0);
    bin_dir_ = exe_.substr(0, exe_.rfind('/'));
    lib_dir_ = bin_dir_ + "/../lib";
  }
  ~Bench() { Stop(); }

  bool Start() {
    const char* tmp = getenv("TMPDIR");
    std::string tmpl = std::string(tmp != nullptr ? tmp : "/tmp") + "/softslice-handoff-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) {
      return false;
    }
    root_ = tmpl;
    FILE* f = fopen((root_ + "/node.yaml").c_str(), "w");
    if (f == nullptr) {
      return false;
    }
    fputs("model: 910B4\ncards: 1\n", f);
    fclose(f);
    Proc init = Spawn({bin_dir_ + "/npu-sim", "init", root_ + "/node.yaml"},
                      {"NPU_SIM_STATE=" + root_ + "/sim"}, false);
    ReadAll(init.out_fd);  // its one-line report; closing early would kill it with SIGPIPE
    close(init.out_fd);
    if (init.pid < 0 || Wait(init.pid) != 0 || mkdir((root_ + "/tenants").c_str(), 0700) != 0) {
      fprintf(stderr, "softslice_handoff: npu-sim init failed in %s\n", root_.c_str());
      return false;
    }
    std::vector<std::string> argv = {bin_dir_ + "/npushare-arbiter", "--grant-dir",
                                     root_ + "/arbiter", "--tenants-dir", root_ + "/tenants"};
    argv.insert(argv.end(), o_.arbiter_flags.begin(), o_.arbiter_flags.end());
    arbiter_ = Spawn(argv, {}, /*quiet=*/true);  // quiet: the trust-mode warning
    if (arbiter_.pid < 0 || ReadLine(arbiter_.out_fd) != "READY") {
      fprintf(stderr, "softslice_handoff: npushare-arbiter did not start\n");
      return false;
    }
    return true;
  }

  // RunTenants: starts one tenant per (name, percent, idle_ms), all beginning at a common t0,
  // and returns their outputs (empty on failure).
  std::vector<TenantOutput> RunTenants(
      const std::vector<std::tuple<std::string, int, uint64_t>>& tenants) {
    // Time for the tenants to start, register and be adopted (rescan every 20 ms).
    const uint64_t t0 = NowNs() + 700 * kMs;
    std::vector<Proc> procs;
    for (const auto& [name, pct, idle_ms] : tenants) {
      std::vector<std::string> env = {"NPU_SIM_STATE=" + root_ + "/sim",
                                      "LD_LIBRARY_PATH=" + lib_dir_,
                                      "LD_PRELOAD=" + lib_dir_ + "/libvnpu.so",
                                      "NPUSHARE_VNPU_QUIET=1",
                                      "NPUSHARE_VNPU_STATE_DIR=" + root_ + "/tenants/" + name,
                                      "NPUSHARE_VNPU_ARBITER_DIR=" + root_ + "/arbiter",
                                      "NPUSHARE_VNPU_CORE_PCT=" + std::to_string(pct)};
      procs.push_back(Spawn({exe_, "--role", "tenant", "--t0-ns", std::to_string(t0), "--seconds",
                             std::to_string(o_.seconds), "--idle-ms", std::to_string(idle_ms),
                             "--burst", std::to_string(o_.burst)},
                            env, false));
    }
    std::vector<TenantOutput> outs;
    bool ok = true;
    for (Proc& p : procs) {
      outs.push_back(ParseTenant(ReadAll(p.out_fd)));
      close(p.out_fd);
      ok = Wait(p.pid) == 0 && ok;
    }
    if (!ok) {
      fprintf(stderr, "softslice_handoff: a tenant failed\n");
      return {};
    }
    return outs;
  }

  void Stop() {
    if (arbiter_.pid > 0) {
      kill(arbiter_.pid, SIGTERM);
      Wait(arbiter_.pid);
      close(arbiter_.out_fd);
      arbiter_ = {};
    }
    if (!root_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(root_, ignored);
      root_.clear();
    }
  }

 private:
  const Options& o_;
  std::string exe_;
  std::string bin_dir_;
  std::string lib_dir_;
  std::string root_;
  Proc arbiter_;
};

double Ms(uint64_t ns) {
  return static_cast<double>(ns) / 1e6;
}

uint64_t Percentile(const std::vector<uint64_t>& sorted, double p) {
  size_t i = static_cast<size_t>(std::ceil(p * static_cast<double>(sorted.size()))) - 1;
  return sorted[std::min(i, sorted.size() - 1)];
}

int Handoff(const Options& o) {
  Bench bench(o);
  if (!bench.Start()) {
    return 1;
  }
  auto outs = bench.RunTenants({{"a", 90, o.idle_ms}, {"b", 10, 0}});
  bench.Stop();
  if (outs.size() != 2) {
    return 1;
  }
  const TenantOutput& a = outs[0];
  std::vector<std::pair<uint64_t, uint64_t>> b_passes = outs[1].passes;
  std::sort(b_passes.begin(), b_passes.end());
  std::vector<uint64_t> latencies;
  size_t not_waiting = 0;
  // Only idle periods during which B was already blocked in the gate count: B's launches are
  // sequential, so the first blocked launch returning after A's idle start is the candidate,
  // and it must have started before it.
  for (uint64_t idle : a.idles) {
    auto it =
        std::upper_bound(b_passes.begin(), b_passes.end(), std::make_pair(idle, ~uint64_t{0}));
    if (it != b_passes.end() && it->first - it->second < idle) {
      latencies.push_back(it->first - idle);
    } else {
      ++not_waiting;
    }
  }
  std::sort(latencies.begin(), latencies.end());
  printf("handoff: A 90%% bursts of %llu x 1 ms then %llu ms idle, B 10%% busy, %llu s\n",
         static_cast<unsigned long long>(o.burst), static_cast<unsigned long long>(o.idle_ms),
         static_cast<unsigned long long>(o.seconds));
  printf("  A: %s\n  B: %s\n", a.done.c_str(), outs[1].done.c_str());
  if (latencies.empty()) {
    printf("  no hand-off observed (B never waiting when A went idle: %zu times)\n", not_waiting);
    return 0;
  }
  printf(
      "  hand-off latency: count=%zu (B not waiting: %zu) p50=%.3f p90=%.3f p99=%.3f "
      "max=%.3f ms\n",
      latencies.size(), not_waiting, Ms(Percentile(latencies, 0.50)),
      Ms(Percentile(latencies, 0.90)), Ms(Percentile(latencies, 0.99)), Ms(latencies.back()));
  return 0;
}

int Shares(const Options& o) {
  Bench bench(o);
  if (!bench.Start()) {
    return 1;
  }
  auto outs = bench.RunTenants({{"a", 40, 0}, {"b", 60, 0}});
  bench.Stop();
  Bench solo_bench(o);
  if (!solo_bench.Start()) {
    return 1;
  }
  auto solo = solo_bench.RunTenants({{"solo", 40, 0}});
  solo_bench.Stop();
  if (solo.size() != 1 || outs.size() != 2) {
    return 1;
  }
  // The reference for the aggregate: one busy tenant alone (work conserving: it gets the
  // whole chip), same harness, a fresh state and arbiter.
  uint64_t total_solo = 0;
  for (uint64_t k : solo[0].windows) {
    total_solo += k;
  }
  printf("shares: A 40%% and B 60%% busy, bursts of %llu x 1 ms, %llu s\n",
         static_cast<unsigned long long>(o.burst), static_cast<unsigned long long>(o.seconds));
  double max_err = 0;
  uint64_t total_a = 0;
  uint64_t total_b = 0;
  for (size_t i = 0; i < outs[0].windows.size() && i < outs[1].windows.size(); ++i) {
    uint64_t ka = outs[0].windows[i];
    uint64_t kb = outs[1].windows[i];
    total_a += ka;
    total_b += kb;
    double share =
        ka + kb > 0 ? 100.0 * static_cast<double>(ka) / static_cast<double>(ka + kb) : 0.0;
    max_err = std::max(max_err, std::fabs(share - 40.0));
    printf("  window %2zu: A %4llu B %4llu kernels -> %.1f / %.1f %%\n", i,
           static_cast<unsigned long long>(ka), static_cast<unsigned long long>(kb), share,
           100.0 - share);
  }
  double overall = total_a + total_b > 0 ? 100.0 * static_cast<double>(total_a) /
                                               static_cast<double>(total_a + total_b)
                                         : 0.0;
  double pair_rate = static_cast<double>(total_a + total_b) / static_cast<double>(o.seconds);
  double solo_rate = static_cast<double>(total_solo) / static_cast<double>(o.seconds);
  printf(
      "  1 s windows: max |error| = %.1f pp; whole run: %.1f / %.1f %% (error %.1f pp), "
      "%.0f kernels/s\n",
      max_err, overall, 100.0 - overall, std::fabs(overall - 40.0), pair_rate);
  printf(
      "  aggregate: %.0f kernels/s for the pair = %.1f %% of one tenant alone (%.0f kernels/s)\n",
      pair_rate, solo_rate > 0 ? 100.0 * pair_rate / solo_rate : 0.0, solo_rate);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  Options o;
  if (!Parse(argc, argv, &o)) {
    fprintf(stderr,
            "usage: softslice_handoff [--scenario handoff|shares|both] [--seconds N] "
            "[--idle-ms N] [--burst N] [--tick-us N] [--demand-window-us N] [--slice-ms N]\n");
    return 2;
  }
  if (o.role == "tenant") {
    return RunTenant(o);
  }
  std::string flags;
  for (const auto& f : o.arbiter_flags) {
    flags += " " + f;
  }
  printf("arbiter flags:%s\n", flags.empty() ? " (defaults)" : flags.c_str());
  int rc = 0;
  if (o.scenario != "shares") {
    rc = Handoff(o);
  }
  if (rc == 0 && o.scenario != "handoff") {
    rc = Shares(o);
  }
  return rc;
}
