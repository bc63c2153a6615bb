// softslice_share_matrix: soft-slicing accuracy and efficiency over a matrix of tenant mixes on
// npu-sim (issue 15, "Accuracy and efficiency"; docs/softslice.md §8). Run by hand, not a ctest:
//
//   build/bin/softslice_share_matrix [--mix NAME] [--seconds 10] [--alone-seconds 2] [--list]
//       [--tick-us N] [--demand-window-us N] [--slice-ms N]
//
// Tenants are npu-sim-workload processes (public ACL API, full-chip `--kernel-us U` kernels in
// batches of B launches per synchronize, optionally idling I us after each batch), each with
// `--report-every-ms 10` so that its kernels can be counted in any time window. Device truth:
// a tenant's device time in a window = kernels completed in it × U (npu-sim runs every kernel
// for exactly U us on the whole chip).
//
// For every mix, in one fresh temporary directory (a new npu-sim state with one 910B4 through
// `npu-sim init` and NPU_SIM_STATE, the real npushare-arbiter in trust mode with
// --metrics-file):
//   shared:   all tenants at once under LD_PRELOAD=libvnpu.so with their percent (and
//             NPUSHARE_VNPU_CORE_CAP=1 for a hard cap); measured over --seconds from a common
//             start 1 s after they were spawned (time to start and be adopted).
//   unshared: every tenant alone on a chip of its own state, without libvnpu, one after another
//             (--alone-seconds each, once per distinct workload in the whole run): its busy rate
//             u (device time per second with the chip to itself and no idling) and, for a
//             tenant that idles, its demand (the same with its idling).
//
// Printed per mix and tenant: the ask; the expected share of the mix's device time (weighted
// water-filling of one chip: a tenant that idles asks no more than its demand alone, a hard cap
// no more than its percent, the rest is split by percent); the achieved share over the whole
// run and its error; the worst error over the 1 s windows; the tenant's device time as a
// fraction of the chip's time; the arbiter's own shares from its metrics file (granted_ns,
// charged_ns, device_ns, as deltas between the first metrics write after the start and the
// last before the end) against the device truth over the same interval. Per mix: the
// throughput ratio = (Σ device_i / u_i) / seconds, i.e. the time the same work needs with each
// tenant alone on the chip, one after another, over the time it took shared (a tenant that
// idles counts with its own busy rate: its idling is not work). The unshared reference is
// sequential rather than "the same mix without the arbiter" because ungated npu-sim
// interleaves the tenants' kernels and so fills one tenant's host gaps (launch, synchronize)
// with another's kernels, which no exclusive time slice can do; and without the arbiter a hard
// cap does not hold, so that run would not be the same mix.
//
// Exit status: 0 when every mix ran, 1 when something could not be started, 2 usage.
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

#include "unit/sim/run_process.h"

namespace {

constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kSec = 1'000'000'000;
constexpr uint64_t kStartupNs = 1000 * kMs;  // spawn to the common start (start, adoption)
constexpr uint64_t kTailNs = 500 * kMs;      // tenants run on this long after the end
constexpr uint64_t kReportMs = 10;           // npu-sim-workload --report-every-ms

uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * kSec + static_cast<uint64_t>(ts.tv_nsec);
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

// ---- the matrix ----

struct TenantSpec {
  std::string name;
  int pct = 0;
  bool cap = false;
  uint64_t kernel_us = 1000;
  uint64_t batch = 1;
  uint64_t idle_us = 0;  // after each batch: > 0 makes a bursty (or idle) tenant
};

struct Mix {
  std::string name;
  std::string what;
  std::vector<TenantSpec> tenants;
};

std::vector<Mix> Matrix() {
  return {
      {"alike-40-60",
       "reference: alike 1 ms kernels, batches of 4",
       {{"a", 40, false, 1000, 4, 0}, {"b", 60, false, 1000, 4, 0}}},
      {"short-long-50-50",
       "50x: 100 us kernels one per synchronize vs 5 ms kernels",
       {{"short", 50, false, 100, 1, 0}, {"long", 50, false, 5000, 1, 0}}},
      {"short-long-30-70",
       "10x, different depths: 200 us x 8 vs 2 ms x 2",
       {{"short", 30, false, 200, 8, 0}, {"long", 70, false, 2000, 2, 0}}},
      {"long-short-20-80",
       "50x, the short tenant asks most: 5 ms x 1 vs 100 us x 16",
       {{"long", 20, false, 5000, 1, 0}, {"short", 80, false, 100, 16, 0}}},
      {"three-20-30-50",
       "3 tenants: 100 us x 16, 1 ms x 1, 5 ms x 2",
       {{"s100", 20, false, 100, 16, 0},
        {"m1000", 30, false, 1000, 1, 0},
        {"l5000", 50, false, 5000, 2, 0}}},
      {"four-10-20-30-40",
       "4 tenants: 100 us x 4, 500 us x 8, 2 ms x 1, 5 ms x 1",
       {{"s100", 10, false, 100, 4, 0},
        {"m500", 20, false, 500, 8, 0},
        {"m2000", 30, false, 2000, 1, 0},
        {"l5000", 40, false, 5000, 1, 0}}},
      {"capped-bursty",
       "hard cap 30 %, busy 50 %, bursty 20 % (4 x 1 ms then 30 ms idle)",
       {{"capped", 30, true, 1000, 4, 0},
        {"busy", 50, false, 500, 4, 0},
        {"bursty", 20, false, 1000, 4, 30'000}}},
      {"bursty-90-busy-10",
       "bursty 90 % (4 x 1 ms then 20 ms idle) vs busy 10 % of 100 us x 8",
       {{"bursty", 90, false, 1000, 4, 20'000}, {"busy", 10, false, 100, 8, 0}}},
      {"idle-neighbour",
       "busy 40 % next to a 60 % tenant idle but for one 100 us kernel every 200 ms",
       {{"busy", 40, false, 1000, 4, 0}, {"idle", 60, false, 100, 1, 200'000}}},
  };
}

// ---- options ----

struct Options {
  std::string mix;  // empty: all
  uint64_t seconds = 10;
  uint64_t alone_seconds = 2;
  bool list = false;
  std::vector<std::string> arbiter_flags;
};

bool Parse(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--list") {
      o->list = true;
      continue;
    }
    if (i + 1 >= argc) {
      return false;
    }
    std::string v = argv[++i];
    if (a == "--mix") {
      o->mix = v;
    } else if (a == "--seconds") {
      if (!ParseU64(v, 3600, &o->seconds) || o->seconds == 0) {
        return false;
      }
    } else if (a == "--alone-seconds") {
      if (!ParseU64(v, 3600, &o->alone_seconds) || o->alone_seconds == 0) {
        return false;
      }
    } else if (a == "--tick-us" || a == "--demand-window-us" || a == "--slice-ms") {
      uint64_t ignored = 0;
      if (!ParseU64(v, 10'000'000, &ignored)) {
        return false;
      }
      o->arbiter_flags.insert(o->arbiter_flags.end(), {a, v});
    } else {
      return false;
    }
  }
  return true;
}

// ---- processes ----

using npushare::sim::testing::ReadAll;
using npushare::sim::testing::ReadLine;
using npushare::sim::testing::Wait;

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

// Fields: "a=1 b=2" as a map (words without '=' are skipped).
std::map<std::string, std::string> Fields(const std::string& line) {
  std::map<std::string, std::string> out;
  std::istringstream in(line);
  std::string word;
  while (in >> word) {
    size_t eq = word.find('=');
    if (eq != std::string::npos) {
      out[word.substr(0, eq)] = word.substr(eq + 1);
    }
  }
  return out;
}

uint64_t FieldU64(const std::map<std::string, std::string>& f, const std::string& key) {
  auto it = f.find(key);
  uint64_t v = 0;
  return it != f.end() && ParseU64(it->second, ~uint64_t{0}, &v) ? v : 0;
}

double FieldDouble(const std::map<std::string, std::string>& f, const std::string& key) {
  auto it = f.find(key);
  if (it == f.end()) {
    return 0;
  }
  char* end = nullptr;
  double v = strtod(it->second.c_str(), &end);
  return end != nullptr && *end == '\0' && std::isfinite(v) ? v : 0;
}

// WorkloadRun: what one npu-sim-workload printed: its progress curve (time, cumulative
// kernels) and its final report.
struct WorkloadRun {
  std::vector<std::pair<uint64_t, uint64_t>> progress;
  uint64_t kernels = 0;
  double wall_s = 0;
  int error = -1;
  int exit_code = -1;

  // KernelsAt: completed kernels at time t, interpolated between progress lines.
  double KernelsAt(uint64_t t) const {
    if (progress.empty() || t <= progress.front().first) {
      return progress.empty() ? 0 : static_cast<double>(progress.front().second);
    }
    if (t >= progress.back().first) {
      return static_cast<double>(progress.back().second);
    }
    auto it = std::lower_bound(progress.begin(), progress.end(), std::make_pair(t, uint64_t{0}));
    const auto& [t1, k1] = *it;
    const auto& [t0, k0] = *(it - 1);
    double f = t1 > t0 ? static_cast<double>(t - t0) / static_cast<double>(t1 - t0) : 1.0;
    return static_cast<double>(k0) + f * (static_cast<double>(k1) - static_cast<double>(k0));
  }
};

WorkloadRun ParseWorkload(const std::string& text) {
  WorkloadRun r;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    auto f = Fields(line);
    if (line.rfind("progress ", 0) == 0) {
      uint64_t t = FieldU64(f, "mono_ns");
      uint64_t k = FieldU64(f, "kernels");
      if (t > 0 &&
          (r.progress.empty() || (t >= r.progress.back().first && k >= r.progress.back().second))) {
        r.progress.emplace_back(t, k);
      }
    } else if (f.count("kernels") != 0 && f.count("error") != 0) {
      r.kernels = FieldU64(f, "kernels");
      r.wall_s = FieldDouble(f, "wall_s");
      r.error = static_cast<int>(FieldU64(f, "error"));  // a negative code reads as 0: see exit
    }
  }
  return r;
}

// ArbiterSample: one version of the arbiter's metrics file, as first seen.
struct ArbiterSample {
  uint64_t seen_ns = 0;
  struct Usage {
    uint64_t granted = 0;
    uint64_t charged = 0;
    uint64_t device = 0;
  };
  std::map<std::string, Usage> tenants;  // dev 0 of each tenant
};

std::optional<ArbiterSample> ReadMetrics(const std::string& path, uint64_t now) {
  std::ifstream in(path);
  if (!in) {
    return std::nullopt;
  }
  ArbiterSample s;
  s.seen_ns = now;
  std::string line;
  while (std::getline(in, line)) {
    auto f = Fields(line);
    if (f.count("tenant") == 0 || f["dev"] != "0" || f.count("granted_ns") == 0) {
      continue;
    }
    s.tenants[f["tenant"]] = {FieldU64(f, "granted_ns"), FieldU64(f, "charged_ns"),
                              FieldU64(f, "device_ns")};
  }
  return s;
}

// ---- the run ----

class Bench {
 public:
  explicit Bench(const Options& o) : o_(o) {
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    std::string self(exe, n > 0 ? static_cast<size_t>(n) : 0);
    bin_dir_ = self.substr(0, self.rfind('/'));
    lib_dir_ = bin_dir_ + "/../lib";
  }
  ~Bench() { Stop(); }

  // Start: a fresh directory and npu-sim state; the arbiter too when with_arbiter.
  bool Start(bool with_arbiter) {
    const char* tmp = getenv("TMPDIR");
    std::string tmpl = std::string(tmp != nullptr ? tmp : "/tmp") + "/softslice-matrix-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) {
      return false;
    }
    root_ = tmpl;
    std::ofstream(root_ + "/node.yaml") << "model: 910B4\ncards: 1\n";
    Proc init = Spawn({bin_dir_ + "/npu-sim", "init", root_ + "/node.yaml"},
                      {"NPU_SIM_STATE=" + root_ + "/sim"}, false);
    ReadAll(init.out_fd);  // its one-line report; closing early would kill it with SIGPIPE
    close(init.out_fd);
    if (init.pid < 0 || Wait(init.pid) != 0 || mkdir((root_ + "/tenants").c_str(), 0700) != 0) {
      fprintf(stderr, "softslice_share_matrix: npu-sim init failed in %s\n", root_.c_str());
      return false;
    }
    if (!with_arbiter) {
      return true;
    }
    std::vector<std::string> argv = {bin_dir_ + "/npushare-arbiter",
                                     "--grant-dir",
                                     root_ + "/arbiter",
                                     "--tenants-dir",
                                     root_ + "/tenants",
                                     "--metrics-file",
                                     metrics_path()};
    argv.insert(argv.end(), o_.arbiter_flags.begin(), o_.arbiter_flags.end());
    arbiter_ = Spawn(argv, {}, /*quiet=*/true);  // quiet: the trust-mode warning
    if (arbiter_.pid < 0 || ReadLine(arbiter_.out_fd) != "READY") {
      fprintf(stderr, "softslice_share_matrix: npushare-arbiter did not start\n");
      return false;
    }
    return true;
  }

  std::string metrics_path() const { return root_ + "/metrics.txt"; }

  std::vector<std::string> WorkloadArgv(const TenantSpec& t, double seconds, bool idle) const {
    std::vector<std::string> argv = {bin_dir_ + "/npu-sim-workload", "--kernel-us",
                                     std::to_string(t.kernel_us),    "--batch",
                                     std::to_string(t.batch),        "--seconds",
                                     std::to_string(seconds),        "--report-every-ms",
                                     std::to_string(kReportMs)};
    if (idle && t.idle_us > 0) {
      argv.insert(argv.end(), {"--idle-us", std::to_string(t.idle_us)});
    }
    return argv;
  }

  // RunAlone: one tenant's workload alone on the chip, no libvnpu.
  WorkloadRun RunAlone(const TenantSpec& t, bool idle) {
    Proc p = Spawn(WorkloadArgv(t, static_cast<double>(o_.alone_seconds), idle),
                   {"NPU_SIM_STATE=" + root_ + "/sim", "LD_LIBRARY_PATH=" + lib_dir_}, false);
    WorkloadRun r = ParseWorkload(ReadAll(p.out_fd));
    close(p.out_fd);
    r.exit_code = Wait(p.pid);
    return r;
  }

  // RunShared: every tenant of the mix at once under libvnpu; samples the arbiter's metrics
  // file while they run. Returns false if a tenant failed.
  bool RunShared(const Mix& mix, double seconds, std::vector<WorkloadRun>* runs,
                 std::vector<ArbiterSample>* samples, uint64_t* spawned_ns) {
    std::vector<Proc> procs;
    *spawned_ns = NowNs();
    for (const TenantSpec& t : mix.tenants) {
      std::vector<std::string> env = {"NPU_SIM_STATE=" + root_ + "/sim",
                                      "LD_LIBRARY_PATH=" + lib_dir_,
                                      "LD_PRELOAD=" + lib_dir_ + "/libvnpu.so",
                                      "NPUSHARE_VNPU_QUIET=1",
                                      "NPUSHARE_VNPU_STATE_DIR=" + root_ + "/tenants/" + t.name,
                                      "NPUSHARE_VNPU_ARBITER_DIR=" + root_ + "/arbiter",
                                      "NPUSHARE_VNPU_CORE_PCT=" + std::to_string(t.pct)};
      if (t.cap) {
        env.push_back("NPUSHARE_VNPU_CORE_CAP=1");
      }
      procs.push_back(Spawn(WorkloadArgv(t, seconds, true), env, false));
    }
    // Readers drain the pipes while this thread samples the metrics file.
    std::vector<std::string> texts(procs.size());
    std::atomic<size_t> finished{0};
    std::vector<std::thread> readers;
    for (size_t i = 0; i < procs.size(); ++i) {
      readers.emplace_back([&, i] {
        texts[i] = procs[i].out_fd >= 0 ? ReadAll(procs[i].out_fd) : "";
        finished.fetch_add(1);
      });
    }
    struct stat last = {};
    while (finished.load() < procs.size()) {
      struct stat st;
      uint64_t now = NowNs();
      if (stat(metrics_path().c_str(), &st) == 0 &&
          (st.st_ino != last.st_ino || st.st_mtim.tv_nsec != last.st_mtim.tv_nsec ||
           st.st_mtim.tv_sec != last.st_mtim.tv_sec)) {
        last = st;
        if (auto s = ReadMetrics(metrics_path(), now); s.has_value()) {
          samples->push_back(std::move(*s));
        }
      }
      usleep(5'000);  // polling: the file is replaced by rename, without notification
    }
    for (auto& r : readers) {
      r.join();
    }
    bool ok = true;
    for (size_t i = 0; i < procs.size(); ++i) {
      close(procs[i].out_fd);
      WorkloadRun r = ParseWorkload(texts[i]);
      r.exit_code = Wait(procs[i].pid);
      if (r.exit_code != 0 || r.progress.empty()) {
        fprintf(stderr, "softslice_share_matrix: tenant %s failed (exit %d)\n",
                mix.tenants[i].name.c_str(), r.exit_code);
        ok = false;
      }
      runs->push_back(std::move(r));
    }
    return ok;
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
  std::string bin_dir_;
  std::string lib_dir_;
  std::string root_;
  Proc arbiter_;
};

// ---- analysis ----

// Rates: a workload alone (device time per second of the chip's time).
struct Rates {
  double busy = 0;    // no idling: u
  double demand = 0;  // with its idling (busy for a tenant that never idles)
};

std::string AloneKey(const TenantSpec& t, bool idle) {
  return std::to_string(t.kernel_us) + "x" + std::to_string(t.batch) + "/" +
         std::to_string(idle ? t.idle_us : 0);
}

// ExpectedShares: weighted water-filling of one chip; demand_i is at most the tenant's own
// rate alone (when it idles) and its percent (hard cap). Returned as fractions of the sum.
std::vector<double> ExpectedShares(const Mix& mix, const std::vector<Rates>& rates) {
  const size_t n = mix.tenants.size();
  std::vector<double> demand(n, std::numeric_limits<double>::infinity());
  for (size_t i = 0; i < n; ++i) {
    if (mix.tenants[i].idle_us > 0) {
      demand[i] = rates[i].demand;
    }
    if (mix.tenants[i].cap) {
      demand[i] = std::min(demand[i], mix.tenants[i].pct / 100.0);
    }
  }
  std::vector<double> alloc(n, 0);
  std::vector<bool> fixed(n, false);
  double left = 1.0;
  for (size_t round = 0; round < n; ++round) {
    double weights = 0;
    for (size_t i = 0; i < n; ++i) {
      weights += fixed[i] ? 0 : mix.tenants[i].pct;
    }
    if (weights <= 0) {
      break;
    }
    bool any = false;
    for (size_t i = 0; i < n; ++i) {
      if (!fixed[i] && demand[i] <= left * mix.tenants[i].pct / weights) {
        fixed[i] = true;
        alloc[i] = demand[i];
        left -= demand[i];
        any = true;
      }
    }
    if (!any) {
      for (size_t i = 0; i < n; ++i) {
        if (!fixed[i]) {
          alloc[i] = left * mix.tenants[i].pct / weights;
        }
      }
      break;
    }
  }
  double sum = 0;
  for (double a : alloc) {
    sum += a;
  }
  for (double& a : alloc) {
    a = sum > 0 ? a / sum : 0;
  }
  return alloc;
}

double Pct(double part, double whole) {
  return whole > 0 ? 100.0 * part / whole : 0.0;
}

// Worst: the worst figure of each goal over the whole matrix.
struct Worst {
  double err10 = 0;
  double err1 = 0;
  double ratio = 1e9;
  double arbiter = 0;
  std::string err10_at, err1_at, ratio_at, arbiter_at;
};

void Note(double v, bool larger_is_worse, double* worst, std::string* at, const std::string& w) {
  if (larger_is_worse ? v > *worst : v < *worst) {
    *worst = v;
    *at = w;
  }
}

int RunMix(const Options& o, const Mix& mix, const std::map<std::string, Rates>& alone,
           Worst* worst) {
  Bench bench(o);
  if (!bench.Start(true)) {
    return 1;
  }
  const double run_s =
      static_cast<double>(o.seconds) + static_cast<double>(kStartupNs + kTailNs) / kSec;
  std::vector<WorkloadRun> runs;
  std::vector<ArbiterSample> samples;
  uint64_t spawned = 0;
  bool ok = bench.RunShared(mix, run_s, &runs, &samples, &spawned);
  bench.Stop();
  if (!ok) {
    return 1;
  }
  const size_t n = mix.tenants.size();
  const uint64_t t0 = spawned + kStartupNs;
  const uint64_t t1 = t0 + o.seconds * kSec;
  std::vector<Rates> rates(n);
  for (size_t i = 0; i < n; ++i) {
    rates[i].busy = alone.at(AloneKey(mix.tenants[i], false)).busy;
    rates[i].demand = alone.at(AloneKey(mix.tenants[i], true)).demand;
  }
  std::vector<double> expected = ExpectedShares(mix, rates);

  // Device truth in ms over [a, b] per tenant.
  auto device_ms = [&](size_t i, uint64_t a, uint64_t b) {
    return (runs[i].KernelsAt(b) - runs[i].KernelsAt(a)) *
           static_cast<double>(mix.tenants[i].kernel_us) / 1000.0;
  };
  std::vector<double> whole(n);
  double whole_sum = 0;
  for (size_t i = 0; i < n; ++i) {
    whole[i] = device_ms(i, t0, t1);
    whole_sum += whole[i];
    if (runs[i].progress.front().first > t0) {
      printf("  note: %s started %.0f ms after the common start\n", mix.tenants[i].name.c_str(),
             static_cast<double>(runs[i].progress.front().first - t0) / kMs);
    }
  }
  std::vector<double> worst1(n, 0);
  for (uint64_t w = 0; w < o.seconds; ++w) {
    std::vector<double> d(n);
    double sum = 0;
    for (size_t i = 0; i < n; ++i) {
      d[i] = device_ms(i, t0 + w * kSec, t0 + (w + 1) * kSec);
      sum += d[i];
    }
    for (size_t i = 0; i < n; ++i) {
      worst1[i] = std::max(worst1[i], std::fabs(Pct(d[i], sum) - 100.0 * expected[i]));
    }
  }
  // The arbiter's view: first sample after t0, last before t1.
  const ArbiterSample* s0 = nullptr;
  const ArbiterSample* s1 = nullptr;
  for (const ArbiterSample& s : samples) {
    if (s.seen_ns >= t0 && s0 == nullptr) {
      s0 = &s;
    }
    if (s.seen_ns <= t1) {
      s1 = &s;
    }
  }
  bool have_arbiter = s0 != nullptr && s1 != nullptr && s1->seen_ns > s0->seen_ns;
  std::vector<double> granted(n, 0), charged(n, 0), devns(n, 0), truth(n, 0);
  double sum_g = 0, sum_c = 0, sum_d = 0, sum_t = 0;
  if (have_arbiter) {
    for (size_t i = 0; i < n; ++i) {
      auto a = s0->tenants.find(mix.tenants[i].name);
      auto b = s1->tenants.find(mix.tenants[i].name);
      if (a == s0->tenants.end() || b == s1->tenants.end()) {
        have_arbiter = false;
        break;
      }
      granted[i] = static_cast<double>(b->second.granted - a->second.granted) / kMs;
      charged[i] = static_cast<double>(b->second.charged - a->second.charged) / kMs;
      devns[i] = static_cast<double>(b->second.device - a->second.device) / kMs;
      truth[i] = device_ms(i, s0->seen_ns, s1->seen_ns);
      sum_g += granted[i];
      sum_c += charged[i];
      sum_d += devns[i];
      sum_t += truth[i];
    }
  }
  const double span_ms = have_arbiter ? static_cast<double>(s1->seen_ns - s0->seen_ns) / kMs : 0;

  // Throughput: time the same work needs with each tenant alone, over the time it took.
  double unshared_s = 0;
  for (size_t i = 0; i < n; ++i) {
    unshared_s += rates[i].busy > 0 ? whole[i] / 1000.0 / rates[i].busy : 0;
  }
  const double ratio = 100.0 * unshared_s / static_cast<double>(o.seconds);

  printf("\n%s: %s\n", mix.name.c_str(), mix.what.c_str());
  printf("  %-8s %5s %-14s %6s %6s %6s %6s %6s %6s | %6s %6s %6s %6s %5s\n", "tenant", "ask",
         "workload", "exp%", "got%", "err10", "err1s", "chip%", "alone%", "grant%", "chrg%",
         "devns%", "truth%", "arbpp");
  for (size_t i = 0; i < n; ++i) {
    const TenantSpec& t = mix.tenants[i];
    char work[64];
    snprintf(work, sizeof(work), "%lluus x%llu%s", static_cast<unsigned long long>(t.kernel_us),
             static_cast<unsigned long long>(t.batch), t.idle_us > 0 ? " +idle" : "");
    char ask[16];
    snprintf(ask, sizeof(ask), "%d%s", t.pct, t.cap ? "c" : "");
    double got = Pct(whole[i], whole_sum);
    double err10 = got - 100.0 * expected[i];
    double chip = whole[i] / (static_cast<double>(o.seconds) * 10.0);
    std::string where = mix.name + "/" + t.name;
    Note(std::fabs(err10), true, &worst->err10, &worst->err10_at, where);
    Note(worst1[i], true, &worst->err1, &worst->err1_at, where);
    printf("  %-8s %5s %-14s %6.1f %6.1f %+6.1f %6.1f %6.1f %6.1f |", t.name.c_str(), ask, work,
           100.0 * expected[i], got, err10, worst1[i], chip, 100.0 * rates[i].demand);
    if (have_arbiter) {
      double g = Pct(granted[i], sum_g);
      double c = Pct(charged[i], sum_c);
      double d = Pct(devns[i], sum_d);
      double tr = Pct(truth[i], sum_t);
      double off = std::max({std::fabs(g - tr), std::fabs(c - tr), std::fabs(d - tr)});
      Note(off, true, &worst->arbiter, &worst->arbiter_at, where);
      printf(" %6.1f %6.1f %6.1f %6.1f %5.1f\n", g, c, d, tr, off);
    } else {
      printf(" (no arbiter metrics over the run)\n");
    }
  }
  printf("  throughput: %.1f %% of the same work unshared (chip busy %.1f %% shared)", ratio,
         whole_sum / (static_cast<double>(o.seconds) * 10.0));
  if (have_arbiter) {
    printf(
        "; arbiter over %.0f ms: granted %.1f %%, charged %.1f %%, device_ns %.1f %% of the chip, "
        "truth %.1f %%",
        span_ms, Pct(sum_g, span_ms), Pct(sum_c, span_ms), Pct(sum_d, span_ms),
        Pct(sum_t, span_ms));
  }
  printf("\n");
  Note(ratio, false, &worst->ratio, &worst->ratio_at, mix.name);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  Options o;
  if (!Parse(argc, argv, &o)) {
    fprintf(stderr,
            "usage: softslice_share_matrix [--mix NAME] [--seconds N] [--alone-seconds N] "
            "[--list] [--tick-us N] [--demand-window-us N] [--slice-ms N]\n");
    return 2;
  }
  std::vector<Mix> mixes;
  for (const Mix& m : Matrix()) {
    if (o.list) {
      printf("%-18s %s\n", m.name.c_str(), m.what.c_str());
    } else if (o.mix.empty() || o.mix == m.name) {
      mixes.push_back(m);
    }
  }
  if (o.list) {
    return 0;
  }
  if (mixes.empty()) {
    fprintf(stderr, "softslice_share_matrix: no mix named %s (--list)\n", o.mix.c_str());
    return 2;
  }
  std::string flags;
  for (const auto& f : o.arbiter_flags) {
    flags += " " + f;
  }
  printf(
      "softslice_share_matrix: %zu mix(es), %llu s shared each, %llu s per workload alone; "
      "arbiter flags:%s\n",
      mixes.size(), static_cast<unsigned long long>(o.seconds),
      static_cast<unsigned long long>(o.alone_seconds),
      flags.empty() ? " (defaults)" : flags.c_str());

  // Unshared: every distinct workload alone (busy, and with its idling when it has some).
  std::map<std::string, Rates> alone;
  {
    Bench bench(o);
    if (!bench.Start(false)) {
      return 1;
    }
    for (const Mix& m : mixes) {
      for (const TenantSpec& t : m.tenants) {
        for (bool idle : {false, true}) {
          std::string key = AloneKey(t, idle);
          if (alone.count(key) != 0) {
            continue;
          }
          WorkloadRun r = bench.RunAlone(t, idle);
          if (r.exit_code != 0 || r.wall_s <= 0) {
            fprintf(stderr, "softslice_share_matrix: workload %s alone failed (exit %d)\n",
                    key.c_str(), r.exit_code);
            return 1;
          }
          double rate =
              static_cast<double>(r.kernels) * static_cast<double>(t.kernel_us) / 1e6 / r.wall_s;
          alone[key] = {rate, rate};
        }
      }
    }
  }
  printf("unshared (alone on the chip, no libvnpu), device time per second:\n");
  for (const auto& [key, r] : alone) {
    printf("  %-16s %.1f %%\n", key.c_str(), 100.0 * r.busy);
  }
  printf(
      "\ncolumns: ask (c = hard cap); exp%%/got%% = expected/achieved share of the mix's device "
      "time over the whole run, err10 = got - exp (pp), err1s = worst |error| over the 1 s "
      "windows (pp); chip%% = device time / run time; alone%% = its own demand alone; grant%% "
      "chrg%% devns%% = the arbiter's shares (granted_ns, charged_ns, device_ns) vs truth%% "
      "(device truth over the same interval), arbpp = the largest difference (pp)\n");

  Worst worst;
  for (const Mix& m : mixes) {
    if (RunMix(o, m, alone, &worst) != 0) {
      return 1;
    }
  }
  printf("\nworst over the matrix (goal):\n");
  printf("  10 s share error  %5.1f pp (2 pp)   %s\n", worst.err10, worst.err10_at.c_str());
  printf("  1 s share error   %5.1f pp (5 pp)   %s\n", worst.err1, worst.err1_at.c_str());
  printf("  throughput ratio  %5.1f %% (97 %%)   %s\n", worst.ratio, worst.ratio_at.c_str());
  printf("  arbiter vs truth  %5.1f pp (1 pp)   %s\n", worst.arbiter, worst.arbiter_at.c_str());
  return 0;
}
