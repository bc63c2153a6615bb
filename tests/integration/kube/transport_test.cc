// CurlTransport against the local API server: credentials, token-file rotation, connection
// failures, streaming and cancellation.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "integration/kube/test_server.h"
#include "kube/http_transport_impl.h"
#include "mocks/kube/fake_clock.h"

namespace npushare::kube {
namespace {

using testing::FakeClock;
using testing::ServerAndClient;
using testing::Waitable;

// TokenFileEnv: a local API server that records the Authorization header of each /version
// request, a token file holding "first", and a transport reading it on a fake clock.
class TokenFileEnv {
 public:
  explicit TokenFileEnv(const std::string& name)
      : env_(Options(&seen_)),
        dir_(std::filesystem::temp_directory_path() / (name + std::to_string(::getpid()))) {
    std::filesystem::create_directories(dir_);
    token_file_ = (dir_ / "token").string();
    Write("first\n");
    RestConfig cfg;
    cfg.server = env_.server()->url();
    cfg.bearer_token_file = token_file_;
    transport_ = std::make_unique<CurlTransport>(cfg, clock_);
  }
  ~TokenFileEnv() { std::filesystem::remove_all(dir_); }

  void Write(const std::string& text) { std::ofstream(token_file_) << text; }
  bool SendVersion() {
    HttpRequest r;
    r.target = "/version";
    return transport_->Send(r).ok();
  }
  FakeClock& clock() { return clock_; }
  Waitable& seen() { return seen_; }

 private:
  static kube_local::LocalApiServerOptions Options(Waitable* seen) {
    kube_local::LocalApiServerOptions so;
    so.request_observer = [seen](const std::string&, const std::string& target,
                                 const std::string& auth) {
      if (target == "/version") {
        seen->Add(auth);
      }
    };
    return so;
  }

  Waitable seen_;
  ServerAndClient env_;
  std::filesystem::path dir_;
  std::string token_file_;
  FakeClock clock_;
  std::unique_ptr<CurlTransport> transport_;
};

TEST(CurlTransportTest, BearerTokenFileIsReReadAfterThePeriod) {
  TokenFileEnv e("kube_token_");
  ASSERT_TRUE(e.SendVersion());
  e.Write("second\n");
  ASSERT_TRUE(e.SendVersion());  // within the reload period: cached token
  e.clock().Advance(std::chrono::seconds(61));
  ASSERT_TRUE(e.SendVersion());
  ASSERT_TRUE(e.seen().WaitForCount(3));
  EXPECT_EQ(e.seen().items(),
            (std::vector<std::string>{"Bearer first", "Bearer first", "Bearer second"}));
}

TEST(CurlTransportTest, AnOversizedTokenFileKeepsThePreviousToken) {
  TokenFileEnv e("kube_token_big_");
  ASSERT_TRUE(e.SendVersion());
  e.Write(std::string(1 << 20, 'x'));  // 1 MiB: not a token
  e.clock().Advance(std::chrono::seconds(61));
  ASSERT_TRUE(e.SendVersion());
  e.Write("third\n");
  e.clock().Advance(std::chrono::seconds(61));
  ASSERT_TRUE(e.SendVersion());
  ASSERT_TRUE(e.seen().WaitForCount(3));
  EXPECT_EQ(e.seen().items(),
            (std::vector<std::string>{"Bearer first", "Bearer first", "Bearer third"}));
}

TEST(CurlTransportTest, ConnectionRefusedIsUnavailable) {
  int port;
  {
    ServerAndClient env;
    port = env.port();
  }  // server gone: nothing listens on the port any more
  RestConfig cfg;
  cfg.server = "http://127.0.0.1:" + std::to_string(port);
  CurlTransport t(cfg);
  HttpRequest r;
  r.target = "/version";
  EXPECT_EQ(t.Send(r).status().code(), StatusCode::kUnavailable);
  r.target = "no-slash";
  EXPECT_EQ(t.Send(r).status().code(), StatusCode::kInvalidArgument);
}

TEST(CurlTransportTest, CancelEndsAnIdleStreamPromptly) {
  Waitable server_saw;
  kube_local::LocalApiServerOptions so;
  so.request_observer = [&](const std::string&, const std::string& target, const std::string&) {
    if (target.find("watch=1") != std::string::npos)
      server_saw.Add(target);
  };
  ServerAndClient env(so);
  StreamCancel cancel;
  Waitable finished;
  Status result;
  std::thread watcher([&] {
    WatchOptions wo;
    wo.allow_bookmarks = false;
    result = env.client().Watch(
        kPods, "", wo, [&](WatchEvent&&) { return true; }, &cancel);
    finished.Add("done");
  });
  ASSERT_TRUE(server_saw.WaitForCount(1));  // the stream is open and idle
  cancel.Cancel();
  ASSERT_TRUE(finished.WaitForCount(1));
  watcher.join();
  EXPECT_EQ(result.code(), StatusCode::kCancelled);
}

}  // namespace
}  // namespace npushare::kube
