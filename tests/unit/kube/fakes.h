// Fakes for the kube seams (Clock, HttpTransport), shared by the kube unit tests.
// (They belong in tests/mocks/kube/ once that directory exists.)
#pragma once

#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "kube/clock.h"
#include "kube/http_transport.h"

namespace npushare::kube::testing {

// FakeClock: time moves only when SleepFor() or Advance() is called; sleeps are recorded.
class FakeClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point Now() override {
    std::lock_guard<std::mutex> lock(mu_);
    return now_;
  }
  std::chrono::system_clock::time_point WallNow() override {
    std::lock_guard<std::mutex> lock(mu_);
    return wall_ + (now_ - std::chrono::steady_clock::time_point{});
  }
  void SleepFor(std::chrono::nanoseconds d) override {
    std::lock_guard<std::mutex> lock(mu_);
    sleeps_.push_back(d);
    now_ += d;
  }
  void Advance(std::chrono::nanoseconds d) {
    std::lock_guard<std::mutex> lock(mu_);
    now_ += d;
  }
  std::vector<std::chrono::nanoseconds> sleeps() {
    std::lock_guard<std::mutex> lock(mu_);
    return sleeps_;
  }

 private:
  std::mutex mu_;
  std::chrono::steady_clock::time_point now_{};
  std::chrono::system_clock::time_point wall_ =
      std::chrono::system_clock::from_time_t(1714557600);  // 2024-05-01T10:00:00Z
  std::vector<std::chrono::nanoseconds> sleeps_;
};

// ScriptedTransport: answers requests from a queue of canned results and records requests.
class ScriptedTransport final : public HttpTransport {
 public:
  void Push(Result<HttpResponse> r) {
    std::lock_guard<std::mutex> lock(mu_);
    script_.push_back(std::move(r));
  }
  void PushResponse(int code, std::string body, HttpHeaders headers = {}) {
    HttpResponse r;
    r.status_code = code;
    r.body = std::move(body);
    r.headers = std::move(headers);
    Push(std::move(r));
  }
  Result<HttpResponse> Send(const HttpRequest& request) override {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(request);
    if (script_.empty())
      return InternalError("script exhausted");
    auto r = std::move(script_.front());
    script_.pop_front();
    return r;
  }
  // Stream: feeds the next scripted response's body to `on_line`, split on '\n', when 2xx.
  Result<HttpResponse> Stream(const HttpRequest& request, const LineHandler& on_line,
                              StreamCancel* /*cancel*/, size_t max_line_bytes) override {
    auto r = Send(request);
    if (!r.ok() || r->status_code < 200 || r->status_code > 299)
      return r;
    std::string body = std::move(r->body);
    r->body.clear();
    size_t start = 0;
    while (start < body.size()) {
      size_t nl = body.find('\n', start);
      if (nl == std::string::npos)
        nl = body.size();
      std::string_view line(body.data() + start, nl - start);
      if (line.size() > max_line_bytes)
        return ResourceExhaustedError("line too long");
      if (!line.empty() && !on_line(line))
        break;
      start = nl + 1;
    }
    return r;
  }
  std::vector<HttpRequest> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  std::mutex mu_;
  std::deque<Result<HttpResponse>> script_;
  std::vector<HttpRequest> requests_;
};

}  // namespace npushare::kube::testing
