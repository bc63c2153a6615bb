// File: integration/kube/fake_webhook.h
//
// FakeWebhook: a tiny HTTPS admission webhook for kube-local's webhook tests (cpp-httplib
// SSLServer on 127.0.0.1:0 with a test_pki server certificate). Every POST is recorded (path
// with query, parsed body) and answered by the test's handler; Block() makes the handler wait
// until Release() (a webhook slower than its timeout), without sleeping.
//
// Thread safety: safe for concurrent use; set the handler before requests arrive.
#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "integration/kube/test_pki.h"

namespace npushare::kube::testing {

struct WebhookCall {
  std::string target;  // path + query
  nlohmann::json review;
};

class FakeWebhook {
 public:
  // Handler: the AdmissionReview received -> the full response body to send (200).
  using Handler = std::function<nlohmann::json(const nlohmann::json& review)>;

  FakeWebhook(const TestPki& pki, Handler handler)
      : server_(pki.server_cert.c_str(), pki.server_key.c_str()), handler_(std::move(handler)) {
    server_.Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
      nlohmann::json review = nlohmann::json::parse(req.body, nullptr, false);
      {
        std::unique_lock<std::mutex> lock(mu_);
        calls_.push_back({req.target, review});
        cv_.notify_all();
        cv_.wait_for(lock, std::chrono::seconds(30), [this] { return !blocked_; });
      }
      res.set_content(handler_(review).dump(), "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!server_.is_running() && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::yield();
    }
  }
  ~FakeWebhook() {
    Release();
    server_.stop();
    thread_.join();
  }
  FakeWebhook(const FakeWebhook&) = delete;
  FakeWebhook& operator=(const FakeWebhook&) = delete;

  int port() const { return port_; }
  std::string url(const std::string& path) const {
    return "https://127.0.0.1:" + std::to_string(port_) + path;
  }
  void Block() {
    std::lock_guard<std::mutex> lock(mu_);
    blocked_ = true;
  }
  void Release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      blocked_ = false;
    }
    cv_.notify_all();
  }
  std::vector<WebhookCall> calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }

 private:
  httplib::SSLServer server_;
  Handler handler_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool blocked_ = false;            // guarded by mu_
  std::vector<WebhookCall> calls_;  // guarded by mu_
};

// AllowWithPatch: a v1 (or the request's version) answer allowing with a JSON Patch (none when
// `ops` is empty).
inline nlohmann::json AllowWithPatch(const nlohmann::json& review, const nlohmann::json& ops) {
  nlohmann::json response = {{"uid", review["request"]["uid"]}, {"allowed", true}};
  if (!ops.empty()) {
    response["patchType"] = "JSONPatch";
    response["patch"] = Base64EncodeForTest(ops.dump());
  }
  return {
      {"apiVersion", review["apiVersion"]}, {"kind", "AdmissionReview"}, {"response", response}};
}

// Deny: an answer refusing with `code` and `message`.
inline nlohmann::json Deny(const nlohmann::json& review, int code, const std::string& message) {
  return {{"apiVersion", review["apiVersion"]},
          {"kind", "AdmissionReview"},
          {"response",
           {{"uid", review["request"]["uid"]},
            {"allowed", false},
            {"status", {{"code", code}, {"message", message}}}}}};
}

}  // namespace npushare::kube::testing
