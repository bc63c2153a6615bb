// CurlTransport against the local API server: credentials, token-file rotation, connection
// failures, streaming and cancellation.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "integration/kube/test_server.h"
#include "kube/http_transport_impl.h"
#include "mocks/kube/fake_clock.h"

namespace npushare::kube {
namespace {

using testing::FakeClock;
using testing::ServerAndClient;
using testing::Waitable;

TEST(CurlTransportTest, BearerTokenFileIsReReadAfterThePeriod) {
  Waitable seen;
  kube_local::LocalApiServerOptions so;
  so.request_observer = [&](const std::string&, const std::string& target,
                            const std::string& auth) {
    if (target == "/version")
      seen.Add(auth);
  };
  ServerAndClient env(so);
  auto dir = std::filesystem::temp_directory_path() / ("kube_token_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string token_file = (dir / "token").string();
  std::ofstream(token_file) << "first\n";
  RestConfig cfg;
  cfg.server = env.server()->url();
  cfg.bearer_token_file = token_file;
  FakeClock clock;
  CurlTransport t(cfg, clock);
  HttpRequest r;
  r.target = "/version";
  ASSERT_TRUE(t.Send(r).ok());
  std::ofstream(token_file) << "second\n";
  ASSERT_TRUE(t.Send(r).ok());  // within the reload period: cached token
  clock.Advance(std::chrono::seconds(61));
  ASSERT_TRUE(t.Send(r).ok());
  ASSERT_TRUE(seen.WaitForCount(3));
  EXPECT_EQ(seen.items(),
            (std::vector<std::string>{"Bearer first", "Bearer first", "Bearer second"}));
  std::filesystem::remove_all(dir);
}

TEST(CurlTransportTest, AnOversizedTokenFileKeepsThePreviousToken) {
  Waitable seen;
  kube_local::LocalApiServerOptions so;
  so.request_observer = [&](const std::string&, const std::string& target,
                            const std::string& auth) {
    if (target == "/version") {
      seen.Add(auth);
    }
  };
  ServerAndClient env(so);
  auto dir =
      std::filesystem::temp_directory_path() / ("kube_token_big_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string token_file = (dir / "token").string();
  std::ofstream(token_file) << "first\n";
  RestConfig cfg;
  cfg.server = env.server()->url();
  cfg.bearer_token_file = token_file;
  FakeClock clock;
  CurlTransport t(cfg, clock);
  HttpRequest r;
  r.target = "/version";
  ASSERT_TRUE(t.Send(r).ok());
  std::ofstream(token_file) << std::string(1 << 20, 'x');  // 1 MiB: not a token
  clock.Advance(std::chrono::seconds(61));
  ASSERT_TRUE(t.Send(r).ok());
  std::ofstream(token_file) << "third\n";
  clock.Advance(std::chrono::seconds(61));
  ASSERT_TRUE(t.Send(r).ok());
  ASSERT_TRUE(seen.WaitForCount(3));
  EXPECT_EQ(seen.items(),
            (std::vector<std::string>{"Bearer first", "Bearer first", "Bearer third"}));
  std::filesystem::remove_all(dir);
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
