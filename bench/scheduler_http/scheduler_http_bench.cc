// scheduler_http_bench: /filter latency and filter+bind throughput of npushare-scheduler through
// HTTP, the way kube-scheduler calls it (one keep-alive connection, ExtenderArgs with
// nodeCacheCapable node names, one pod at a time), over the real SchedulerService (informer
// caches fed by an in-process kube-local API server) and the real SchedulerHttpServer.
//
// Cluster: N nodes (default 1,000) × 8 Ascend910B3 chips registered with the plugin's
// annotations and a fresh handshake; a usage mix of placed pods (per node: 2 chips with one
// 16 GiB slice, 1 chip with a 32 GiB slice, 1 chip taken whole, the rest free). Each measured
// pod asks for one 16 GiB slice; all N node names are sent (kube-scheduler's in-tree filters
// passed them all).
//
// Becoming leader starts a handshake pass that patches every node (hami-protocol.md §2.2; then
// every 15 s): by default the run starts at once and overlaps it, as a fresh leader would;
// --settle waits for that pass to end first (the steady state between passes).
//
// Besides latency and pods/s it prints the process's CPU time per pod (scheduler, in-process
// API server and client together): a figure that varies less than wall-clock time when other
// work shares the machine.
//
// Usage: scheduler_http_bench [--nodes N] [--pods N] [--tls] [--bind] [--settle]
// Goals (issue 11): /filter p99 < 5 ms; >= 200 pods/s bound end to end.
#include <httplib.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>
#include <thread>
#include <vector>

#include "cli/dev_pki.h"
#include "common/atomic_file.h"
#include "config/config_loader.h"
#include "hami/handshake.h"
#include "hami/node_register.h"
#include "hami/pod_devices.h"
#include "hami/types.h"
#include "kube/http_transport_impl.h"
#include "kube/kube_client.h"
#include "kube/resource.h"
#include "scheduler/http/scheduler_http_server.h"
#include "scheduler/service/scheduler_service.h"
#include "sim/kube/api_server.h"

namespace {

using nlohmann::json;
using namespace npushare;
using Clock = std::chrono::steady_clock;

constexpr char kCw[] = "Ascend910B3";
constexpr int kChips = 8;

const char kDeviceConfig[] = R"(vnpus:
  configs:
  - chipName: 910B3
    commonWord: Ascend910B3
    resourceName: huawei.com/Ascend910B3
    resourceMemoryName: huawei.com/Ascend910B3-memory
    resourceCoreName: huawei.com/Ascend910B3-core
    memoryAllocatable: 65536
    memoryCapacity: 65536
    aiCore: 20
    aiCPU: 7
    templates:
    - name: vir05_1c_16g
      memory: 16384
      aiCore: 5
      aiCPU: 1
    - name: vir10_3c_32g
      memory: 32768
      aiCore: 10
      aiCPU: 3
)";

std::string ChipId(int node, int chip) {
  return "node-" + std::to_string(node) + "-npu-" + std::to_string(chip);
}

json Node(int i) {
  std::vector<hami::DeviceInfo> devices;
  for (int k = 0; k < kChips; ++k) {
    hami::DeviceInfo d;
    d.id = ChipId(i, k);
    d.index = static_cast<uint32_t>(k);
    d.count = 4;
    d.devmem = 65536;
    d.devcore = 20;
    d.type = kCw;
    d.health = true;
    d.has_custom_info = true;
    d.network_id = hami::PluginNetworkId(static_cast<uint32_t>(k), kCw);
    devices.push_back(d);
  }
  return {{"apiVersion", "v1"},
          {"kind", "Node"},
          {"metadata",
           {{"name", "node-" + std::to_string(i)},
            {"labels", {{"kubernetes.io/hostname", "node-" + std::to_string(i)}}},
            {"annotations",
             {{hami::NodeRegisterKey(kCw), hami::EncodeNodeRegister(devices)},
              {hami::NodeHandshakeKey(kCw),
               hami::FormatReportedHandshake(static_cast<int64_t>(std::time(nullptr)))},
              {hami::kHamiVnpuCoreNodeAnnotation, "false"}}}}},
          {"status", {{"allocatable", {{"cpu", "96"}, {"huawei.com/Ascend910B3", "32"}}}}}};
}

json Pod(const std::string& name, const std::string& memory) {
  return {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata", {{"name", name}, {"namespace", "default"}, {"uid", "uid-" + name}}},
      {"spec",
       {{"schedulerName", "hami-scheduler"},
        {"containers",
         {{{"name", "main"},
           {"image", "busybox"},
           {"resources",
            {{"limits",
              {{"huawei.com/Ascend910B3", "1"}, {"huawei.com/Ascend910B3-memory", memory}}},
             {"requests",
              {{"huawei.com/Ascend910B3", "1"}, {"huawei.com/Ascend910B3-memory", memory}}}}}}}}}},
      {"status", {{"phase", "Pending"}}}};
}

json PlacedPod(int node, int chip, int slot, int memory) {
  json pod = Pod(
      "placed-" + std::to_string(node) + "-" + std::to_string(chip) + "-" + std::to_string(slot),
      std::to_string(memory));
  hami::PodDevices devices = {{{ChipId(node, chip), kCw, memory, memory == 65536 ? 100 : 0}}};
  pod["metadata"]["annotations"] = {
      {hami::kAssignedNodeAnnotation, "node-" + std::to_string(node)},
      {hami::DevicesAllocatedKey(kCw), hami::EncodePodDevices(devices)},
      {hami::kBindPhaseAnnotation, "success"}};
  pod["spec"]["nodeName"] = "node-" + std::to_string(node);
  pod["status"]["phase"] = "Running";
  return pod;
}

// ProcessCpuSeconds: user + system CPU time of the whole process so far.
double ProcessCpuSeconds() {
  struct rusage u {};
  getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) {
    return 0;
  }
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  return v[i];
}

}  // namespace

int main(int argc, char** argv) {
  int nodes = 1000;
  int pods = 1000;
  bool tls = false;
  bool bind = true;
  bool direct = false;
  bool settle = false;
  CLI::App app{"scheduler_http_bench: /filter p99 and filter+bind pods/s through HTTP"};
  app.add_option("--nodes", nodes, "nodes (8 chips each)")->capture_default_str();
  app.add_option("--pods", pods, "pods filtered (and bound) one after another")
      ->capture_default_str();
  app.add_flag("--tls", tls, "serve HTTPS (as HAMi's chart: enableHTTPS + insecure)");
  app.add_flag("--bind,!--no-bind", bind, "bind each pod after its filter")->capture_default_str();
  app.add_flag("--direct", direct,
               "call SchedulerService::Filter in process instead of over HTTP (to attribute "
               "time to the HTTP layer)");
  app.add_flag("--settle", settle,
               "start measuring once the new leader's first handshake pass has patched every "
               "node (default: overlap it)");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);

  namespace fs = std::filesystem;
  const fs::path dir =
      fs::temp_directory_path() / ("npushare-http-bench-" + std::to_string(getpid()));
  fs::create_directories(dir);
  if (!WriteFileAtomically((dir / "device-config.yaml").string(), kDeviceConfig, 0644).ok()) {
    std::fprintf(stderr, "cannot write the device config\n");
    return 1;
  }

  auto store = std::make_shared<kube_local::ObjectStore>();
  kube_local::LocalApiServer api({}, store);
  auto api_port = api.Start("127.0.0.1", 0);
  if (!api_port.ok()) {
    std::fprintf(stderr, "kube-local: %s\n", api_port.status().ToString().c_str());
    return 1;
  }
  kube::RestConfig rc;
  rc.server = api.url();
  kube::CurlTransport transport(rc);
  kube::ClientOptions co;
  co.qps = 0;  // no client-side limit: the bench measures the scheduler, not the rate limiter
  kube::KubeClient client(transport, co);

  const auto t_load = Clock::now();
  int placed = 0;
  for (int i = 0; i < nodes; ++i) {
    if (!client.Create(kube::kNodes, "", Node(i)).ok()) {
      std::fprintf(stderr, "creating node %d failed\n", i);
      return 1;
    }
    // Usage mix: chips 0,1 one 16 GiB slice each, chip 2 a 32 GiB slice, chip 3 whole.
    for (auto [chip, mem] :
         {std::pair{0, 16384}, std::pair{1, 16384}, std::pair{2, 32768}, std::pair{3, 65536}}) {
      if (!client.Create(kube::kPods, "default", PlacedPod(i, chip, 0, mem)).ok()) {
        std::fprintf(stderr, "creating a placed pod failed\n");
        return 1;
      }
      ++placed;
    }
  }
  std::vector<std::string> uids;
  for (int p = 0; p < pods; ++p) {
    auto created =
        client.Create(kube::kPods, "default", Pod("bench-" + std::to_string(p), "16384"));
    if (!created.ok()) {
      std::fprintf(stderr, "creating a pending pod failed\n");
      return 1;
    }
    uids.push_back((*created)["metadata"].value("uid", ""));
  }
  std::printf("cluster: %d nodes x %d chips, %d placed pods, %d pending pods (%.1f s to load)\n",
              nodes, kChips, placed, pods,
              std::chrono::duration<double>(Clock::now() - t_load).count());

  scheduler::SchedulerServiceOptions so;
  so.device_config_file = (dir / "device-config.yaml").string();
  so.event_namespace = "default";
  auto service = scheduler::SchedulerService::Create(client, kube::RealClock(), so);
  if (!service.ok()) {
    std::fprintf(stderr, "service: %s\n", service.status().ToString().c_str());
    return 1;
  }
  const auto t_sync = Clock::now();
  if (Status s = (*service)->Start(); !s.ok()) {
    std::fprintf(stderr, "service start: %s\n", s.ToString().c_str());
    return 1;
  }
  (*service)->SetLeader(true);
  std::printf("service synced in %.2f s\n",
              std::chrono::duration<double>(Clock::now() - t_sync).count());
  if (settle) {
    // The pass stamps Requesting_ over every node's Reported_ handshake; done when no node
    // still shows Reported_ (the bench plays no device plugin that would answer).
    const auto t_settle = Clock::now();
    const auto deadline = t_settle + std::chrono::seconds(120);
    while (Clock::now() < deadline) {
      auto list = client.List(kube::kNodes, "", {});
      bool pending = !list.ok();
      if (list.ok()) {
        for (const auto& n : (*list)["items"]) {
          const json& a = n["metadata"]["annotations"];
          auto it = a.find(hami::NodeHandshakeKey(kCw));
          pending = pending || it == a.end() || !it->is_string() ||
                    it->get<std::string>().rfind("Requesting", 0) != 0;
        }
      }
      if (!pending) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // watch events drain
    std::printf("handshake pass settled in %.2f s\n",
                std::chrono::duration<double>(Clock::now() - t_settle).count());
  }

  scheduler::http::SchedulerHttpOptions ho;
  ho.bind_address = "127.0.0.1:0";
  if (tls) {
    auto pki = cli::MakeDevelopmentPki({"localhost", "127.0.0.1"}, 1);
    if (!pki.ok() || !WriteFileAtomically((dir / "tls.crt").string(), pki->cert_pem, 0644).ok() ||
        !WriteFileAtomically((dir / "tls.key").string(), pki->key_pem, 0600).ok()) {
      std::fprintf(stderr, "cannot make the TLS pair\n");
      return 1;
    }
    ho.cert_file = (dir / "tls.crt").string();
    ho.key_file = (dir / "tls.key").string();
  }
  scheduler::http::AdmissionWebhook webhook({}, [] { return nullptr; });
  scheduler::http::SchedulerHttpServer server(ho, **service, webhook);
  if (Status s = server.Start(); !s.ok()) {
    std::fprintf(stderr, "http: %s\n", s.ToString().c_str());
    return 1;
  }

  std::unique_ptr<httplib::Client> http;
  if (tls) {
    http = std::make_unique<httplib::Client>("https://127.0.0.1:" + std::to_string(server.Port()));
    http->enable_server_certificate_verification(false);  // HAMi chart: tlsConfig.insecure
  } else {
    http = std::make_unique<httplib::Client>("127.0.0.1", server.Port());
  }
  http->set_keep_alive(true);
  http->set_tcp_nodelay(true);  // as Go's net/http (kube-scheduler) does
  http->set_read_timeout(30, 0);

  json names = json::array();
  for (int i = 0; i < nodes; ++i) {
    names.push_back("node-" + std::to_string(i));
  }
  std::vector<double> filter_ms;
  std::vector<double> bind_ms;
  int filtered_ok = 0;
  int bound_ok = 0;
  std::string first_error;
  double plugin_s = 0;  // time spent playing the device plugin, excluded from pods/s
  const auto t_run = Clock::now();
  const double cpu_run = ProcessCpuSeconds();
  for (int p = 0; p < pods; ++p) {
    json pod = Pod("bench-" + std::to_string(p), "16384");
    pod["metadata"]["uid"] = uids[static_cast<size_t>(p)];
    json args = {{"Pod", pod}, {"Nodes", nullptr}, {"NodeNames", names}};
    const std::string body = args.dump();
    const auto t0 = Clock::now();
    json out;
    if (direct) {
      auto r = (*service)->Filter(args);
      filter_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      out = r.ok() ? *r : json{{"Error", r.status().ToString()}};
    } else {
      auto res = http->Post("/filter", body, "application/json");
      filter_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      if (!res || res->status != 200) {
        first_error = first_error.empty() ? "filter transport/status error" : first_error;
        continue;
      }
      out = json::parse(res->body, nullptr, false);
    }
    if (out.is_discarded() || !out["Error"].get<std::string>().empty() ||
        !out["NodeNames"].is_array() || out["NodeNames"].size() != 1) {
      if (first_error.empty()) {
        first_error = out.dump().substr(0, 300);
      }
      continue;
    }
    ++filtered_ok;
    if (!bind) {
      continue;
    }
    json bargs = {{"PodName", "bench-" + std::to_string(p)},
                  {"PodNamespace", "default"},
                  {"PodUID", uids[static_cast<size_t>(p)]},
                  {"Node", out["NodeNames"][0]}};
    const auto t1 = Clock::now();
    auto bres = http->Post("/bind", bargs.dump(), "application/json");
    bind_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t1).count());
    if (bres && bres->status == 200 &&
        json::parse(bres->body, nullptr, false).value("Error", "x").empty()) {
      ++bound_ok;
      // The device plugin releases the node lock after Allocate; play its part (untimed).
      const auto t2 = Clock::now();
      json unlock = {{"metadata", {{"annotations", {{hami::kNodeLockAnnotation, nullptr}}}}}};
      client
          .Patch(kube::kNodes, "", out["NodeNames"][0].get<std::string>(), kube::PatchType::kMerge,
                 unlock)
          .status()
          .IgnoreError();
      plugin_s += std::chrono::duration<double>(Clock::now() - t2).count();
    } else if (first_error.empty() && bres) {
      first_error = bres->body.substr(0, 300);
    }
  }
  const double run_s = std::chrono::duration<double>(Clock::now() - t_run).count() - plugin_s;
  const double cpu_s = ProcessCpuSeconds() - cpu_run;

  std::printf("transport: %s, request body %zu bytes\n", tls ? "HTTPS" : "HTTP",
              json({{"Pod", Pod("bench-0", "16384")}, {"Nodes", nullptr}, {"NodeNames", names}})
                  .dump()
                  .size());
  std::printf("/filter: %d/%d ok; p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
              filtered_ok, pods, Percentile(filter_ms, 0.5), Percentile(filter_ms, 0.9),
              Percentile(filter_ms, 0.99), Percentile(filter_ms, 1.0));
  if (bind) {
    std::printf("/bind:   %d/%d ok; p50 %.2f ms, p99 %.2f ms\n", bound_ok, pods,
                Percentile(bind_ms, 0.5), Percentile(bind_ms, 0.99));
    std::printf("end to end (filter + bind, one pod at a time): %.0f pods/s\n", bound_ok / run_s);
  }
  std::printf("process CPU (scheduler + API server + client, all threads): %.2f ms per pod\n",
              pods > 0 ? cpu_s * 1000.0 / pods : 0.0);
  if (!first_error.empty()) {
    std::printf("first error: %s\n", first_error.c_str());
  }
  server.Stop();
  (*service)->Stop();
  api.Stop();
  std::error_code ec;
  fs::remove_all(dir, ec);
  return filtered_ok == pods ? 0 : 1;
}
