// Test double of container_sim::ContainerRuntime: containers are scripted by their argv, run no
// process, and every Start/Kill is recorded so tests can assert order and grace periods.
//   exit N            exits at once with code N
//   sequence A,B,C    the k-th start of the same container (same log_path) exits with the k-th
//                     code (the last one repeats)
//   echo W1 W2 ...    writes each word on its own line to log_path, exits 0
//   block             runs until Kill (exit 143 when grace > 0, 137 when grace is 0) or Finish
//   fail-start        Start fails (kFailedPrecondition)
// Every started container first appends "start <argv joined>\n" to log_path... except `echo`,
// whose log is exactly its words, so log tests compare whole bodies.
#pragma once

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "sim/container/container_runtime.h"

namespace npushare::kubelet_sim::testing {

class FakeRuntime;

class FakeContainer final : public container_sim::Container {
 public:
  FakeContainer(FakeRuntime* runtime, std::string id) : runtime_(runtime), id_(std::move(id)) {}
  ~FakeContainer() override;
  int pid() const override { return 4242; }
  std::optional<int> ExitCode() const override {
    std::lock_guard g(mu_);
    return code_;
  }
  Result<int> Wait(std::chrono::milliseconds timeout) override {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, timeout, [this] { return code_.has_value(); })) {
      return Status(StatusCode::kDeadlineExceeded, "still running");
    }
    return *code_;
  }
  Status Kill(std::chrono::milliseconds grace) override;
  // Exit: the process ends with `code` (no effect once ended).
  void Exit(int code) {
    std::lock_guard g(mu_);
    if (!code_.has_value()) {
      code_ = code;
    }
    cv_.notify_all();
  }

 private:
  FakeRuntime* runtime_;
  const std::string id_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::optional<int> code_;
};

class FakeRuntime final : public container_sim::ContainerRuntime {
 public:
  struct KillCall {
    std::string id;
    std::chrono::milliseconds grace;
  };

  std::string name() const override { return "fake"; }

  Result<std::unique_ptr<container_sim::Container>> Start(
      const container_sim::ContainerSpec& spec) override {
    std::lock_guard g(mu_);
    if (!spec.args.empty() && spec.args[0] == "fail-start") {
      return FailedPreconditionError("fake: refused to start");
    }
    started_.push_back(spec);
    int nth = starts_by_log_[spec.log_path]++;
    std::filesystem::create_directories(std::filesystem::path(spec.log_path).parent_path());
    std::ofstream log(spec.log_path, std::ios::app);
    auto c = std::make_unique<FakeContainer>(this, spec.id);
    const std::string cmd = spec.args.empty() ? "" : spec.args[0];
    if (cmd == "echo") {
      for (size_t i = 1; i < spec.args.size(); ++i) {
        log << spec.args[i] << "\n";
      }
      c->Exit(0);
    } else {
      log << "start";
      for (const auto& a : spec.args) {
        log << " " << a;
      }
      log << "\n";
      if (cmd == "exit" && spec.args.size() > 1) {
        c->Exit(std::stoi(spec.args[1]));
      } else if (cmd == "sequence" && spec.args.size() > 1) {
        std::vector<int> codes;
        std::stringstream ss(spec.args[1]);
        std::string item;
        while (std::getline(ss, item, ',')) {
          codes.push_back(std::stoi(item));
        }
        c->Exit(codes[std::min<size_t>(static_cast<size_t>(nth), codes.size() - 1)]);
      } else {
        live_[spec.id] = {c.get(), spec.log_path};  // block: until Kill or Finish
      }
    }
    cv_.notify_all();
    return std::unique_ptr<container_sim::Container>(std::move(c));
  }

  // Finish: ends the running container whose id starts with `prefix` with `code`.
  bool Finish(const std::string& prefix, int code) {
    std::lock_guard g(mu_);
    for (auto& [id, c] : live_) {
      if (id.rfind(prefix, 0) == 0) {
        c.first->Exit(code);
        return true;
      }
    }
    return false;
  }
  // AppendLog: the running container whose id starts with `prefix` writes `text`.
  bool AppendLog(const std::string& prefix, const std::string& text) {
    std::lock_guard g(mu_);
    for (auto& [id, c] : live_) {
      if (id.rfind(prefix, 0) == 0) {
        std::ofstream log(c.second, std::ios::app);
        log << text;
        return true;
      }
    }
    return false;
  }

  std::vector<container_sim::ContainerSpec> started() {
    std::lock_guard g(mu_);
    return started_;
  }
  std::vector<KillCall> kills() {
    std::lock_guard g(mu_);
    return kills_;
  }
  // WaitForStarts: true once at least n containers were started.
  bool WaitForStarts(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return started_.size() >= n; });
  }

  void RecordKill(const std::string& id, std::chrono::milliseconds grace) {
    std::lock_guard g(mu_);
    kills_.push_back({id, grace});
  }
  void Forget(const std::string& id) {
    std::lock_guard g(mu_);
    live_.erase(id);
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<container_sim::ContainerSpec> started_;
  std::map<std::string, int> starts_by_log_;
  std::map<std::string, std::pair<FakeContainer*, std::string>> live_;  // id -> (c, log)
  std::vector<KillCall> kills_;
};

inline FakeContainer::~FakeContainer() {
  runtime_->Forget(id_);
}

inline Status FakeContainer::Kill(std::chrono::milliseconds grace) {
  bool was_running;
  {
    std::lock_guard g(mu_);
    was_running = !code_.has_value();
  }
  if (was_running) {
    runtime_->RecordKill(id_, grace);
    Exit(grace.count() > 0 ? 143 : 137);
  }
  return OkStatus();
}

}  // namespace npushare::kubelet_sim::testing
