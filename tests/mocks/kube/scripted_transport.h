// File: mocks/kube/scripted_transport.h
//
// ScriptedTransport: the test double of kube::HttpTransport (src/kube/http_transport.h). It
// answers each Send()/Stream() with the next canned result pushed by the test and records
// every request for later assertions; an exhausted script answers kInternal.
//
// Thread safety: safe for concurrent use without external synchronization.
#pragma once

#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kube/http_transport.h"

namespace npushare::kube::testing {

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
