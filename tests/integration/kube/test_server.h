// Test fixture pieces: an in-process local API server on 127.0.0.1:0 and a real client
// (libcurl transport) pointed at it, plus a small awaitable event recorder.
#pragma once

#include <gtest/gtest.h>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "kube/http_transport_impl.h"
#include "kube/kube_client.h"
#include "sim/kube/api_server.h"

namespace npushare::kube::testing {

// Waitable: a mutex-protected log of strings that tests await with a bounded timeout.
class Waitable {
 public:
  void Add(std::string s) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      items_.push_back(std::move(s));
    }
    cv_.notify_all();
  }
  // WaitFor: true once pred(items) holds; false after `timeout` (the test then fails).
  bool WaitFor(const std::function<bool(const std::vector<std::string>&)>& pred,
               std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return pred(items_); });
  }
  bool WaitForCount(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    return WaitFor([n](const std::vector<std::string>& v) { return v.size() >= n; }, timeout);
  }
  std::vector<std::string> items() {
    std::lock_guard<std::mutex> lock(mu_);
    return items_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> items_;
};

// ServerAndClient: owns a store, a server on an ephemeral port and a client for it.
class ServerAndClient {
 public:
  explicit ServerAndClient(kube_local::LocalApiServerOptions options = {},
                           std::chrono::milliseconds request_timeout = std::chrono::seconds(10))
      : options_(std::move(options)), store_(std::make_shared<kube_local::ObjectStore>()) {
    server_ = std::make_unique<kube_local::LocalApiServer>(options_, store_);
    auto port = server_->Start("127.0.0.1", 0);
    EXPECT_TRUE(port.ok()) << port.status().ToString();
    port_ = port.ok() ? *port : 0;
    RestConfig cfg;
    cfg.server = server_->url();
    cfg.request_timeout = request_timeout;
    cfg.connect_timeout = std::chrono::seconds(2);
    transport_ = std::make_unique<CurlTransport>(cfg);
    ClientOptions co;
    co.qps = 0;
    co.initial_backoff = std::chrono::milliseconds(10);
    co.max_backoff = std::chrono::milliseconds(200);
    client_ = std::make_unique<KubeClient>(*transport_, co);
  }
  ~ServerAndClient() {
    // Close the client's pooled keep-alive connections first so the server stops promptly.
    client_.reset();
    transport_.reset();
    StopServer();
  }

  void StopServer() {
    if (server_)
      server_->Stop();
    server_.reset();
  }
  // RestartServer: a new server on the same port over the same store (history kept).
  bool RestartServer() {
    StopServer();
    server_ = std::make_unique<kube_local::LocalApiServer>(options_, store_);
    auto port = server_->Start("127.0.0.1", port_);
    return port.ok();
  }

  KubeClient& client() { return *client_; }
  HttpTransport& transport() { return *transport_; }
  kube_local::ObjectStore& store() { return *store_; }
  kube_local::ObjectApi api() { return kube_local::ObjectApi(*store_); }
  kube_local::LocalApiServer* server() { return server_.get(); }
  int port() const { return port_; }

 private:
  kube_local::LocalApiServerOptions options_;
  std::shared_ptr<kube_local::ObjectStore> store_;
  std::unique_ptr<kube_local::LocalApiServer> server_;
  std::unique_ptr<CurlTransport> transport_;
  std::unique_ptr<KubeClient> client_;
  int port_ = 0;
};

inline nlohmann::json MakePod(const std::string& name, const std::string& node = "",
                              const std::map<std::string, std::string>& labels = {}) {
  nlohmann::json pod = {{"apiVersion", "v1"},
                        {"kind", "Pod"},
                        {"metadata", {{"name", name}}},
                        {"spec", {{"containers", {{{"name", "main"}, {"image", "busybox"}}}}}}};
  if (!labels.empty())
    pod["metadata"]["labels"] = labels;
  if (!node.empty())
    pod["spec"]["nodeName"] = node;
  return pod;
}

}  // namespace npushare::kube::testing
