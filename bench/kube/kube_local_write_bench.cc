// kube-local write cost with and without --persist (journal + fdatasync before the answer).
// Usage: kube_local_write_bench [--writes N] [--writers W] [--dir DIR]
// Prints, for in-memory and persisted stores: sequential create latency p50/p99 (one client)
// and the throughput of W concurrent writers (group commit shares one fdatasync). DIR (default
// a directory under /tmp) decides the filesystem whose fdatasync is measured.
#include <httplib.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "sim/kube/api_server.h"

namespace {

using Clock = std::chrono::steady_clock;

std::string Body(const std::string& name) {
  return nlohmann::json{{"metadata", {{"name", name}}}, {"data", {{"k", std::string(200, 'x')}}}}
      .dump();
}

struct Figures {
  double p50_ms = 0, p99_ms = 0, seq_per_s = 0, conc_per_s = 0;
};

Figures Run(const std::string& persist_dir, int writes, int writers) {
  npushare::kube_local::LocalApiServerOptions o;
  o.persist_dir = persist_dir;
  o.admission_webhooks = false;
  npushare::kube_local::LocalApiServer server(o);
  auto port = server.Start("127.0.0.1", 0);
  if (!port.ok()) {
    std::fprintf(stderr, "start: %s\n", port.status().ToString().c_str());
    std::exit(1);
  }
  Figures f;
  {
    httplib::Client cli(server.url());
    std::vector<double> ms;
    auto t0 = Clock::now();
    for (int i = 0; i < writes; ++i) {
      auto s = Clock::now();
      auto r = cli.Post("/api/v1/namespaces/default/configmaps", Body("s" + std::to_string(i)),
                        "application/json");
      if (!r || r->status != 201) {
        std::fprintf(stderr, "write failed\n");
        std::exit(1);
      }
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
    }
    double total = std::chrono::duration<double>(Clock::now() - t0).count();
    std::sort(ms.begin(), ms.end());
    f.p50_ms = ms[ms.size() / 2];
    f.p99_ms = ms[ms.size() * 99 / 100];
    f.seq_per_s = writes / total;
  }
  auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      httplib::Client cli(server.url());
      for (int i = 0; i < writes / writers; ++i) {
        cli.Post("/api/v1/namespaces/default/configmaps",
                 Body("c" + std::to_string(w) + "-" + std::to_string(i)), "application/json");
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  f.conc_per_s =
      (writes / writers) * writers / std::chrono::duration<double>(Clock::now() - t0).count();
  server.Stop();
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  int writes = 2000;
  int writers = 8;
  std::string base = "/tmp";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--writes") {
      writes = std::max(100, std::atoi(argv[i + 1]));
    } else if (a == "--writers") {
      writers = std::max(1, std::atoi(argv[i + 1]));
    } else if (a == "--dir") {
      base = argv[i + 1];
    }
  }
  std::string dir = base + "/kube_local_write_bench_XXXXXX";
  if (mkdtemp(dir.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  Figures mem = Run("", writes, writers);
  Figures disk = Run(dir, writes, writers);
  std::filesystem::remove_all(dir);
  std::printf("%-12s %10s %10s %14s %22s\n", "store", "p50 ms", "p99 ms", "seq writes/s",
              "writes/s (writers)");
  std::printf("%-12s %10.3f %10.3f %14.0f %16.0f (%d)\n", "memory", mem.p50_ms, mem.p99_ms,
              mem.seq_per_s, mem.conc_per_s, writers);
  std::printf("%-12s %10.3f %10.3f %14.0f %16.0f (%d)\n", "--persist", disk.p50_ms, disk.p99_ms,
              disk.seq_per_s, disk.conc_per_s, writers);
  return 0;
}
