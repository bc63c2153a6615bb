// kube-local request rules added for issue 12: protected namespaces (403), namespace deletion
// deletes what is in it, a garbage Content-Length is a 400, a non-JSON body is a 415.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "integration/kube/test_server.h"
#include "kube/api_error.h"

namespace npushare::kube {
namespace {

using nlohmann::json;
using testing::MakePod;
using testing::ServerAndClient;

// RawExchange: sends `request` bytes over a fresh connection and returns what comes back
// until the server closes it or 10 s pass.
std::string RawExchange(int port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return "";
  }
  (void)!::write(fd, request.data(), request.size());
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) {
      if (out.find("\r\n\r\n") != std::string::npos) {
        break;  // a full header arrived and nothing more is coming
      }
      continue;
    }
    char buf[4096];
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) {
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

TEST(ProtectedNamespacesTest, DefaultKubeSystemAndKubePublicCannotBeDeleted) {
  ServerAndClient env;
  for (const char* ns : {"default", "kube-system", "kube-public"}) {
    Status del = env.client().Delete(kNamespaces, "", ns);
    ASSERT_FALSE(del.ok()) << ns;
    EXPECT_EQ(del.code(), StatusCode::kPermissionDenied) << del.ToString();
    EXPECT_TRUE(env.client().Get(kNamespaces, "", ns).ok()) << ns;
  }
  httplib::Client cli(env.server()->url());
  auto r = cli.Delete("/api/v1/namespaces/kube-system");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  json st = json::parse(r->body);
  EXPECT_EQ(st["reason"], "Forbidden");
  EXPECT_EQ(st["code"], 403);
  // Other namespaces can be deleted, kube-node-lease included (as kube-apiserver).
  EXPECT_TRUE(env.client().Delete(kNamespaces, "", "kube-node-lease").ok());
}

TEST(NamespaceDeletionTest, DeletesItsObjectsAndThenItself) {
  ServerAndClient env;
  auto& c = env.client();
  ASSERT_TRUE(c.Create(kNamespaces, "", {{"metadata", {{"name", "team"}}}}).ok());
  ASSERT_TRUE(
      c.Create(kConfigMaps, "team", {{"metadata", {{"name", "cm"}}}, {"data", json::object()}})
          .ok());
  ASSERT_TRUE(c.Create(kPods, "team", MakePod("unbound")).ok());
  ASSERT_TRUE(c.Create(kConfigMaps, "default", {{"metadata", {{"name", "elsewhere"}}}}).ok());
  Status del = c.Delete(kNamespaces, "", "team");
  ASSERT_TRUE(del.ok()) << del.ToString();
  EXPECT_EQ(c.Get(kConfigMaps, "team", "cm").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(c.Get(kPods, "team", "unbound").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(c.Get(kNamespaces, "", "team").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(c.Get(kConfigMaps, "default", "elsewhere").ok());
}

TEST(NamespaceDeletionTest, BoundPodsAreDeletedGracefullyAndTheNamespaceWaitsForThem) {
  ServerAndClient env;
  auto& c = env.client();
  ASSERT_TRUE(c.Create(kNamespaces, "", {{"metadata", {{"name", "team"}}}}).ok());
  json pod = MakePod("running", "node-a");
  pod["spec"]["terminationGracePeriodSeconds"] = 1;
  ASSERT_TRUE(c.Create(kPods, "team", pod).ok());
  Status del = c.Delete(kNamespaces, "", "team");
  ASSERT_TRUE(del.ok()) << del.ToString();
  auto ns = c.Get(kNamespaces, "", "team");
  ASSERT_TRUE(ns.ok());
  EXPECT_EQ((*ns)["status"]["phase"], "Terminating");
  auto p = c.Get(kPods, "team", "running");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE((*p)["metadata"].contains("deletionTimestamp"));
  // New content is refused while it terminates.
  auto refused =
      c.Create(kConfigMaps, "team", {{"metadata", {{"name", "late"}}}, {"data", json::object()}});
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied);
  // The grace period ends, the pod goes, then the namespace.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (c.Get(kNamespaces, "", "team").ok() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(c.Get(kPods, "team", "running").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(c.Get(kNamespaces, "", "team").status().code(), StatusCode::kNotFound);
}

TEST(RequestFramingTest, GarbageContentLengthIs400) {
  ServerAndClient env;
  const std::string body = R"({"metadata":{"name":"x"}})";
  for (const std::string& length :
       {std::string("abc"), std::string("12abc"), std::string("-5"), std::string("0x10")}) {
    std::string reply =
        RawExchange(env.port(),
                    "POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\n"
                    "Content-Type: application/json\r\nContent-Length: " +
                        length + "\r\n\r\n" + body);
    EXPECT_TRUE(reply.rfind("HTTP/1.1 400", 0) == 0 || reply.rfind("HTTP/1.1 413", 0) == 0)
        << length << ": " << reply.substr(0, 200);
  }
  EXPECT_EQ(env.client().Get(kConfigMaps, "default", "x").status().code(), StatusCode::kNotFound);
  // A correct one still works on the same server.
  std::string ok =
      RawExchange(env.port(),
                  "POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\n"
                  "Content-Type: application/json\r\nConnection: close\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\n\r\n" + body);
  EXPECT_EQ(ok.rfind("HTTP/1.1 201", 0), 0u) << ok.substr(0, 200);
}

TEST(RequestFramingTest, NonJsonContentTypeOnCreateAndUpdateIs415) {
  ServerAndClient env;
  httplib::Client cli(env.server()->url());
  const std::string body = R"({"metadata":{"name":"x"},"data":{"a":"1"}})";
  for (const char* ct : {"text/plain", "application/yaml", "application/x-www-form-urlencoded"}) {
    auto r = cli.Post("/api/v1/namespaces/default/configmaps", body, ct);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 415) << ct;
    EXPECT_EQ(json::parse(r->body)["reason"], "UnsupportedMediaType") << ct;
  }
  auto created =
      cli.Post("/api/v1/namespaces/default/configmaps", body, "application/json; charset=utf-8");
  ASSERT_TRUE(created);
  EXPECT_EQ(created->status, 201);
  auto put = cli.Put("/api/v1/namespaces/default/configmaps/x", body, "text/plain");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 415);
  // No Content-Type at all means JSON, as in kube-apiserver.
  std::string bare = RawExchange(
      env.port(), "PUT /api/v1/namespaces/default/configmaps/x HTTP/1.1\r\nHost: x\r\n"
                  "Connection: close\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\n\r\n" + body);
  EXPECT_EQ(bare.rfind("HTTP/1.1 200", 0), 0u) << bare.substr(0, 300);
  // Patch content types are unchanged: the three patch types, 415 for the others.
  auto merge = cli.Patch("/api/v1/namespaces/default/configmaps/x", R"({"data":{"b":"2"}})",
                         "application/merge-patch+json");
  ASSERT_TRUE(merge);
  EXPECT_EQ(merge->status, 200);
  auto bad = cli.Patch("/api/v1/namespaces/default/configmaps/x", "{}", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 415);
}

}  // namespace
}  // namespace npushare::kube
