// Real clients against the local API server: the kube-local binary itself, and kubectl.
// kubectl tests skip (with the reason) when no kubectl is on PATH.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "integration/kube/subprocess.h"
#include "integration/kube/test_server.h"
#include "kube/api_error.h"
#include "kube/objects.h"

namespace npushare::kube {
namespace {

using nlohmann::json;
using testing::FindOnPath;
using testing::MakePod;
using testing::ServerAndClient;
using testing::Subprocess;

constexpr auto kCommandTimeout = std::chrono::seconds(60);

// Words: `line` split on whitespace (std::regex is avoided: GCC 12 warns inside it under ASan).
std::vector<std::string> Words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;)
    out.push_back(w);
  return out;
}

// IsAge: "<digits>s" as printed for a fresh object.
bool IsAge(const std::string& w) {
  return w.size() >= 2 && w.back() == 's' && w.find_first_not_of("0123456789") == w.size() - 1;
}

// PodRow: whether a `kubectl get pods` row shows name, ready, status, restarts and an age.
bool PodRow(const std::string& line, const std::string& name, const std::string& status) {
  auto w = Words(line);
  return w.size() == 5 && w[0] == name && w[1] == "0/1" && w[2] == status && w[3] == "0" &&
         IsAge(w[4]);
}

TEST(KubeLocalBinaryTest, PrintsUrlFirstAndServesUntilTerminated) {
  Subprocess p;
  ASSERT_TRUE(p.Spawn(
      {std::string(NPUSHARE_BIN_DIR) + "/kube-local", "--address", "127.0.0.1", "--port", "0"}));
  auto line = p.ReadLine(std::chrono::seconds(20));
  ASSERT_TRUE(line.has_value());
  const std::string prefix = "http://127.0.0.1:";
  ASSERT_EQ(line->rfind(prefix, 0), 0u) << *line;
  std::string port = line->substr(prefix.size());
  ASSERT_FALSE(port.empty());
  ASSERT_EQ(port.find_first_not_of("0123456789"), std::string::npos) << *line;
  EXPECT_GT(std::stoi(port), 0);
  {  // the client closes its keep-alive connections before the server is told to stop
    RestConfig cfg;
    cfg.server = *line;
    CurlTransport transport(cfg);
    KubeClient client(transport, ClientOptions{});
    HttpRequest r;
    r.target = "/version";
    auto v = transport.Send(r);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_EQ(v->status_code, 200);
    EXPECT_TRUE(client.Create(kPods, "default", MakePod("bin")).ok());
  }
  p.Kill(SIGTERM);
  int status = p.Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

class KubectlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kubectl_ = FindOnPath("kubectl");
    if (kubectl_.empty()) {
      GTEST_SKIP() << "kubectl not found on PATH (Debian package: kubernetes-client)";
    }
    dir_ = std::filesystem::temp_directory_path() /
           ("kube_kubectl_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    env_ = std::make_unique<ServerAndClient>();
    std::ofstream(dir_ / "config")
        << "apiVersion: v1\nkind: Config\n"
        << "clusters:\n- name: local\n  cluster:\n    server: " << env_->server()->url() << "\n"
        << "contexts:\n- name: local\n  context: {cluster: local, "
           "user: me, namespace: default}\n"
        << "users:\n- name: me\n  user: {}\n"
        << "current-context: local\n";
  }
  void TearDown() override {
    env_.reset();
    if (!dir_.empty())
      std::filesystem::remove_all(dir_);
  }
  std::vector<std::string> Env() {
    return {"KUBECONFIG=" + (dir_ / "config").string(), "HOME=" + dir_.string()};
  }
  // Run: kubectl with args; returns {exit code, output}.
  std::pair<int, std::string> Run(std::vector<std::string> args) {
    args.insert(args.begin(), kubectl_);
    Subprocess p;
    if (!p.Spawn(args, Env()))
      return {-1, "spawn failed"};
    std::string out = p.ReadAll(kCommandTimeout);
    p.Kill(SIGKILL);  // no-op when it already exited
    int status = p.Wait();
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
  }
  KubeClient& client() { return env_->client(); }

  std::string kubectl_;
  std::filesystem::path dir_;
  std::unique_ptr<ServerAndClient> env_;
};

TEST_F(KubectlTest, GetNodesAsJson) {
  ASSERT_TRUE(client().Create(kNodes, "", {{"metadata", {{"name", "node-a"}}}}).ok());
  ASSERT_TRUE(client().Create(kNodes, "", {{"metadata", {{"name", "node-b"}}}}).ok());
  auto [code, out] = Run({"get", "nodes", "-o", "json"});
  ASSERT_EQ(code, 0) << out;
  json list = json::parse(out, nullptr, false);
  ASSERT_TRUE(list.is_object()) << out;
  ASSERT_EQ(list["items"].size(), 2u);
  EXPECT_EQ(list["items"][0]["metadata"]["name"], "node-a");
}

TEST_F(KubectlTest, ApplyAnnotateLabelDeleteSeedPods) {
  std::string examples = std::string(NPUSHARE_SOURCE_DIR) + "/examples/pods.yaml";
  std::ifstream in(examples);
  ASSERT_TRUE(in.good()) << examples;
  size_t pod_docs = 0;
  for (std::string line; std::getline(in, line);) {
    if (line == "kind: Pod")
      ++pod_docs;
  }
  ASSERT_GT(pod_docs, 0u);
  auto [code, out] = Run({"apply", "--validate=false", "-f", examples});
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(env_->store().Count("pods"), pod_docs) << out;

  auto pod = client().Get(kPods, "default", "whole-card");
  ASSERT_TRUE(pod.ok());
  EXPECT_EQ((*pod)["spec"]["containers"][0]["resources"]["limits"]["huawei.com/Ascend910B3"], "1");

  std::tie(code, out) = Run({"annotate", "pod", "whole-card", "hami.io/test=yes"});
  ASSERT_EQ(code, 0) << out;
  std::tie(code, out) = Run({"label", "pod", "whole-card", "tier=gold"});
  ASSERT_EQ(code, 0) << out;
  pod = client().Get(kPods, "default", "whole-card");
  ASSERT_TRUE(pod.ok());
  EXPECT_EQ((*pod)["metadata"]["annotations"]["hami.io/test"], "yes");
  EXPECT_EQ((*pod)["metadata"]["labels"]["tier"], "gold");

  std::tie(code, out) = Run({"get", "pods", "-l", "tier=gold", "-o", "name"});
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(out, "pod/whole-card\n");

  // Re-applying unchanged manifests is a no-op patch, not an error.
  std::tie(code, out) = Run({"apply", "--validate=false", "-f", examples});
  EXPECT_EQ(code, 0) << out;

  std::tie(code, out) = Run({"delete", "pod", "whole-card"});
  ASSERT_EQ(code, 0) << out;
  EXPECT_TRUE(IsNotFound(client().Get(kPods, "default", "whole-card").status()));
  EXPECT_EQ(env_->store().Count("pods"), pod_docs - 1);
}

TEST_F(KubectlTest, GetPodsWatchPrintsNewPods) {
  ASSERT_TRUE(client().Create(kPods, "default", MakePod("first")).ok());
  Subprocess watch;
  ASSERT_TRUE(watch.Spawn({kubectl_, "get", "pods", "--watch", "-o", "name"}, Env()));
  auto line = watch.ReadLine(kCommandTimeout);
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(*line, "pod/first");
  ASSERT_TRUE(client().Create(kPods, "default", MakePod("second")).ok());
  line = watch.ReadLine(kCommandTimeout);
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(*line, "pod/second");
  watch.Kill(SIGTERM);
  watch.Wait();
}

TEST_F(KubectlTest, GetPodsWatchPrintsServerSideTableRows) {
  ASSERT_TRUE(client().Create(kPods, "default", MakePod("first")).ok());
  Subprocess watch;
  ASSERT_TRUE(watch.Spawn({kubectl_, "get", "pods", "--watch"}, Env()));
  auto header = watch.ReadLine(kCommandTimeout);
  ASSERT_TRUE(header.has_value());
  EXPECT_EQ(Words(*header),
            (std::vector<std::string>{"NAME", "READY", "STATUS", "RESTARTS", "AGE"}))
      << *header;
  auto row = watch.ReadLine(kCommandTimeout);
  ASSERT_TRUE(row.has_value());
  EXPECT_TRUE(PodRow(*row, "first", "Pending")) << *row;
  ASSERT_TRUE(client().Create(kPods, "default", MakePod("second", "node-a")).ok());
  row = watch.ReadLine(kCommandTimeout);
  ASSERT_TRUE(row.has_value());
  EXPECT_TRUE(PodRow(*row, "second", "Pending")) << *row;
  DeleteOptions grace;
  grace.grace_period_seconds = 30;
  ASSERT_TRUE(client().Delete(kPods, "default", "second", grace).ok());
  row = watch.ReadLine(kCommandTimeout);
  ASSERT_TRUE(row.has_value());
  EXPECT_TRUE(PodRow(*row, "second", "Terminating")) << *row;
  watch.Kill(SIGTERM);
  watch.Wait();
}

}  // namespace
}  // namespace npushare::kube
