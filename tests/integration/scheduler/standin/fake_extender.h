// File: integration/scheduler/standin/fake_extender.h
//
// FakeExtender: a scheduler extender for the kube-scheduler stand-in's tests (cpp-httplib on
// 127.0.0.1:0, plain HTTP or HTTPS with a test_pki certificate). It records every call
// (verb, parsed body) and answers with the test's handlers. The default filter passes every
// node it is given; the default bind POSTs the binding itself through `client`, as a real
// extender (HAMi's, ours) must.
//
// Thread safety: safe for concurrent use; set handlers before the scheduler starts.
#pragma once

#include <httplib.h>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "kube/kube_client.h"

namespace npushare::kube_scheduler_sim::testing {

struct ExtenderCall {
  std::string verb;
  nlohmann::json body;
};

class FakeExtender {
 public:
  using Handler = std::function<nlohmann::json(const nlohmann::json& body, int* http_status)>;

  // FakeExtender: HTTPS when cert/key are given. REQUIRES: client outlives this.
  explicit FakeExtender(kube::KubeClient& client, const std::string& cert_file = "",
                        const std::string& key_file = "")
      : client_(client) {
    if (cert_file.empty()) {
      server_ = std::make_unique<httplib::Server>();
    } else {
      server_ = std::make_unique<httplib::SSLServer>(cert_file.c_str(), key_file.c_str());
    }
    filter_ = [](const nlohmann::json& args, int*) {
      return nlohmann::json{{"Nodes", nullptr},
                            {"NodeNames", args["NodeNames"]},
                            {"FailedNodes", nullptr},
                            {"FailedAndUnresolvableNodes", nullptr},
                            {"Error", ""}};
    };
    bind_ = [this](const nlohmann::json& args, int*) {
      Status st =
          client_.Bind(args["PodNamespace"].get<std::string>(), args["PodName"].get<std::string>(),
                       args["Node"].get<std::string>(), {{"npushare.test/bound-by", "extender"}},
                       args["PodUID"].get<std::string>());
      return nlohmann::json{{"Error", st.ok() ? "" : st.message()}};
    };
    server_->Post("/(filter|bind|prioritize)",
                  [this](const httplib::Request& req, httplib::Response& res) {
                    std::string verb = req.matches[1];
                    nlohmann::json body = nlohmann::json::parse(req.body, nullptr, false);
                    Handler h;
                    {
                      std::lock_guard<std::mutex> lock(mu_);
                      calls_.push_back({verb, body});
                      h = verb == "filter" ? filter_ : verb == "bind" ? bind_ : prioritize_;
                    }
                    int status = 200;
                    nlohmann::json answer = h ? h(body, &status) : nlohmann::json::array();
                    res.status = status;
                    res.set_content(answer.dump(), "application/json");
                  });
    port_ = server_->bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!server_->is_running() && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::yield();
    }
  }
  ~FakeExtender() {
    server_->stop();
    thread_.join();
  }
  FakeExtender(const FakeExtender&) = delete;
  FakeExtender& operator=(const FakeExtender&) = delete;

  int port() const { return port_; }
  void SetFilter(Handler h) {
    std::lock_guard<std::mutex> lock(mu_);
    filter_ = std::move(h);
  }
  void SetBind(Handler h) {
    std::lock_guard<std::mutex> lock(mu_);
    bind_ = std::move(h);
  }
  void SetPrioritize(Handler h) {
    std::lock_guard<std::mutex> lock(mu_);
    prioritize_ = std::move(h);
  }
  std::vector<ExtenderCall> calls(const std::string& verb) {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<ExtenderCall> out;
    for (const auto& c : calls_) {
      if (c.verb == verb) {
        out.push_back(c);
      }
    }
    return out;
  }

 private:
  kube::KubeClient& client_;
  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  Handler filter_;                   // guarded by mu_
  Handler bind_;                     // guarded by mu_
  Handler prioritize_;               // guarded by mu_
  std::vector<ExtenderCall> calls_;  // guarded by mu_
};

}  // namespace npushare::kube_scheduler_sim::testing
