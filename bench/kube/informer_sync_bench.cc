// informer_sync_bench: how long an informer takes to sync 5,000 nodes and 50,000 pods from the
// local API server, and how much resident memory its cache costs per object beyond the
// object's own JSON size (goals: < 10 s, < 1 KiB/object).
//
// The server runs as a separate kube-local process (so its store does not count against our
// RSS), loaded from a generated --persist file. Usage:
//   informer_sync_bench [--nodes N] [--pods N] [--parsed] [--kube-local PATH]
// --parsed caches parsed trees (InformerOptions::compact = false) instead of the default
// JSON text. Also reports how long one List() of each cache takes (it parses in compact mode).
#include <malloc.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "kube/http_transport_impl.h"
#include "kube/informer.h"
#include "kube/kube_client.h"

namespace {

using nlohmann::json;

int64_t RssBytes() {
  std::ifstream in("/proc/self/statm");
  int64_t size = 0;
  int64_t resident = 0;
  in >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

json MakeNode(int i) {
  std::string name = "node-" + std::to_string(i);
  return {{"apiVersion", "v1"},
          {"kind", "Node"},
          {"metadata",
           {{"name", name},
            {"uid", "6d3c1f2e-0000-4000-a000-" + std::to_string(100000000000 + i)},
            {"resourceVersion", std::to_string(10 + i)},
            {"creationTimestamp", "2024-05-01T10:00:00Z"},
            {"labels",
             {{"kubernetes.io/hostname", name},
              {"kubernetes.io/os", "linux"},
              {"accelerator", "huawei-Ascend910"},
              {"topology.kubernetes.io/zone", "zone-" + std::to_string(i % 3)}}},
            {"annotations",
             {{"hami.io/node-handshake-ascend", "Reported 2024-05-01 10:00:00"},
              {"hami.io/node-register-Ascend910B3",
               "[{\"id\":\"Ascend910B3-0\",\"count\":4,\"devmem\":65536,\"devcore\":20,"
               "\"type\":\"Ascend910B3\",\"health\":true}]"}}}}},
          {"spec", {{"podCIDR", "10.244." + std::to_string(i % 250) + ".0/24"}}},
          {"status",
           {{"capacity",
             {{"cpu", "192"},
              {"memory", "1584000Mi"},
              {"pods", "110"},
              {"huawei.com/Ascend910B3", "8"}}},
            {"allocatable",
             {{"cpu", "190"},
              {"memory", "1580000Mi"},
              {"pods", "110"},
              {"huawei.com/Ascend910B3", "8"}}},
            {"conditions",
             {{{"type", "Ready"},
               {"status", "True"},
               {"reason", "KubeletReady"},
               {"lastHeartbeatTime", "2024-05-01T10:00:00Z"}}}},
            {"addresses",
             {{{"type", "InternalIP"}, {"address", "192.168.1." + std::to_string(i % 250)}},
              {{"type", "Hostname"}, {"address", name}}}},
            {"nodeInfo",
             {{"kubeletVersion", "v1.30.0"},
              {"containerRuntimeVersion", "containerd://1.7.0"},
              {"osImage", "Ubuntu 22.04"},
              {"architecture", "arm64"}}}}}};
}

json MakePod(int i, int nodes) {
  std::string name = "job-" + std::to_string(i);
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata",
           {{"name", name},
            {"namespace", "ns-" + std::to_string(i % 20)},
            {"uid", "9a1b2c3d-0000-4000-a000-" + std::to_string(100000000000 + i)},
            {"resourceVersion", std::to_string(100000 + i)},
            {"creationTimestamp", "2024-05-01T10:00:00Z"},
            {"labels", {{"app", "train-" + std::to_string(i % 100)}, {"team", "ml"}}},
            {"annotations",
             {{"hami.io/vnpu-devices-allocated", "Ascend910B3-0,Ascend910B3,16384,5:;"},
              {"hami.io/bind-phase", "success"}}}}},
          {"spec",
           {{"nodeName", "node-" + std::to_string(i % nodes)},
            {"schedulerName", "hami-scheduler"},
            {"restartPolicy", "Never"},
            {"containers",
             {{{"name", "train"},
               {"image", "swr.example.com/ascend/mindspore:2.3.0"},
               {"command", {"python", "train.py", "--epochs", "10"}},
               {"env", {{{"name", "RANK"}, {"value", std::to_string(i % 8)}}}},
               {"resources",
                {{"limits",
                  {{"huawei.com/Ascend910B3", "1"}, {"huawei.com/Ascend910B3-memory", "16384"}}},
                 {"requests", {{"cpu", "4"}, {"memory", "32Gi"}}}}}}}}}},
          {"status",
           {{"phase", "Running"},
            {"podIP", "10.244.0." + std::to_string(i % 250)},
            {"startTime", "2024-05-01T10:00:05Z"},
            {"conditions", {{{"type", "Ready"}, {"status", "True"}}}}}}};
}

int RunBench(int argc, char** argv) {
  CLI::App app{"informer sync benchmark"};
  int nodes = 5000;
  int pods = 50000;
  bool parsed = false;
  std::string kube_local = std::string(NPUSHARE_BENCH_BIN_DIR) + "/kube-local";
  app.add_option("--nodes", nodes);
  app.add_option("--pods", pods);
  app.add_flag("--parsed", parsed, "cache parsed objects (InformerOptions::compact = false)");
  app.add_option("--kube-local", kube_local);
  CLI11_PARSE(app, argc, argv);

  auto dir =
      std::filesystem::temp_directory_path() / ("informer_bench_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  // kube-local --persist takes a directory; a snapshot.json in it is loaded at start.
  std::string state = (dir / "snapshot.json").string();
  size_t json_bytes = 0;
  {
    json doc = {{"resourceVersion", 200000 + pods}, {"resources", json::object()}};
    json nlist = json::array();
    json plist = json::array();
    json nslist = json::array();
    for (const char* ns : {"default", "kube-system"}) {
      nslist.push_back({{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}});
    }
    for (int i = 0; i < 20; ++i) {
      nslist.push_back({{"apiVersion", "v1"},
                        {"kind", "Namespace"},
                        {"metadata", {{"name", "ns-" + std::to_string(i)}}}});
    }
    for (int i = 0; i < nodes; ++i) {
      nlist.push_back(MakeNode(i));
      json_bytes += nlist.back().dump().size();
    }
    for (int i = 0; i < pods; ++i) {
      plist.push_back(MakePod(i, nodes));
      json_bytes += plist.back().dump().size();
    }
    doc["resources"]["nodes"] = std::move(nlist);
    doc["resources"]["pods"] = std::move(plist);
    doc["resources"]["namespaces"] = std::move(nslist);
    std::ofstream(state) << doc.dump();
  }
  malloc_trim(0);

  int fds[2];
  if (pipe(fds) != 0)
    return 1;
  pid_t child = fork();
  if (child == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    execl(kube_local.c_str(), kube_local.c_str(), "--port", "0", "--persist", dir.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  std::string url;
  char c;
  while (read(fds[0], &c, 1) == 1 && c != '\n')
    url.push_back(c);
  if (url.rfind("http://", 0) != 0) {
    std::cerr << "kube-local did not start: " << url << "\n";
    return 1;
  }

  int64_t rss_before = RssBytes();
  npushare::kube::RestConfig cfg;
  cfg.server = url;
  cfg.request_timeout = std::chrono::seconds(60);
  npushare::kube::CurlTransport transport(cfg);
  npushare::kube::ClientOptions co;
  co.qps = 0;
  npushare::kube::KubeClient client(transport, co);
  npushare::kube::InformerOptions io;
  io.compact = !parsed;
  auto start = std::chrono::steady_clock::now();
  npushare::kube::Informer node_inf(client, npushare::kube::kNodes, io);
  npushare::kube::Informer pod_inf(client, npushare::kube::kPods, io);
  node_inf.Start();
  pod_inf.Start();
  bool synced = node_inf.WaitForSync(std::chrono::seconds(120)) &&
                pod_inf.WaitForSync(std::chrono::seconds(120));
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  malloc_trim(0);
  int64_t rss_after = RssBytes();
  size_t objects = node_inf.Size() + pod_inf.Size();
  double per_object = static_cast<double>(rss_after - rss_before) / static_cast<double>(objects);
  double json_per_object = static_cast<double>(json_bytes) / static_cast<double>(nodes + pods);
  std::printf("informer_sync: synced=%d nodes=%zu pods=%zu time=%.2fs\n", synced ? 1 : 0,
              node_inf.Size(), pod_inf.Size(), secs);
  std::printf(
      "informer_sync: cache RSS=%.1f MiB, %.0f B/object, object JSON %.0f B/object, "
      "overhead %.0f B/object (compact=%d)\n",
      static_cast<double>(rss_after - rss_before) / (1 << 20), per_object, json_per_object,
      per_object - json_per_object, io.compact ? 1 : 0);
  auto list_start = std::chrono::steady_clock::now();
  size_t listed = node_inf.List().size() + pod_inf.List().size();
  double list_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - list_start)
          .count();
  std::printf("informer_sync: List() of both caches: %zu objects in %.0f ms\n", listed, list_ms);
  node_inf.Stop();
  pod_inf.Stop();
  kill(child, SIGTERM);
  waitpid(child, nullptr, 0);
  std::filesystem::remove_all(dir);
  return synced && objects == static_cast<size_t>(nodes + pods) ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  return RunBench(argc, argv);
}
