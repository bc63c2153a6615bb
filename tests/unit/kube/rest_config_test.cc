#include "kube/rest_config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

namespace npushare::kube {
namespace {

class RestConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("kube_rest_config_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    auto p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }
  LoadOptions Opts() {
    LoadOptions o;
    o.getenv = [this](const char* k) {
      auto it = env_.find(k);
      return it == env_.end() ? std::string() : it->second;
    };
    o.service_account_dir = (dir_ / "sa").string();
    return o;
  }
  std::filesystem::path dir_;
  std::map<std::string, std::string> env_;
};

constexpr char kConfig[] = R"(apiVersion: v1
kind: Config
current-context: a
clusters:
- name: ca
  cluster:
    server: https://10.0.0.1:6443/
    certificate-authority: certs/ca.crt
- name: cb
  cluster:
    server: http://127.0.0.1:8080
    insecure-skip-tls-verify: true
    certificate-authority-data: aGVsbG8=
users:
- name: ua
  user:
    token: secret-a
- name: ub
  user:
    client-certificate-data: Y2VydA==
    client-key: /abs/key.pem
contexts:
- name: a
  context: {cluster: ca, user: ua, namespace: team}
- name: b
  context: {cluster: cb, user: ub}
)";

TEST_F(RestConfigTest, CurrentContextResolvesRelativePaths) {
  LoadOptions o = Opts();
  o.kubeconfig = Write("config", kConfig);
  auto cfg = LoadRestConfig(o);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->server, "https://10.0.0.1:6443");
  EXPECT_EQ(cfg->ca_file, (dir_ / "certs/ca.crt").string());
  EXPECT_EQ(cfg->bearer_token, "secret-a");
  EXPECT_EQ(cfg->namespace_name, "team");
}

TEST_F(RestConfigTest, ContextOverrideAndInlineData) {
  LoadOptions o = Opts();
  o.kubeconfig = Write("config", kConfig);
  o.context_override = "b";
  auto cfg = LoadRestConfig(o);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->server, "http://127.0.0.1:8080");
  EXPECT_TRUE(cfg->insecure_skip_tls_verify);
  EXPECT_EQ(cfg->ca_data, "hello");
  EXPECT_EQ(cfg->client_cert_data, "cert");
  EXPECT_EQ(cfg->client_key_file, "/abs/key.pem");
  EXPECT_EQ(cfg->namespace_name, "default");
}

TEST_F(RestConfigTest, KubeconfigEnvListMergesFirstWins) {
  std::string first = Write("first", R"(current-context: x
contexts: [{name: x, context: {cluster: c}}]
clusters: [{name: c, cluster: {server: "http://first"}}]
)");
  std::string second = Write("second", R"(current-context: y
clusters: [{name: c, cluster: {server: "http://second"}}]
)");
  env_["KUBECONFIG"] = first + ":" + (dir_ / "missing").string() + ":" + second;
  auto cfg = LoadRestConfig(Opts());
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->server, "http://first");
}

TEST_F(RestConfigTest, InClusterWhenNoKubeconfig) {
  std::filesystem::create_directories(dir_ / "sa");
  Write("sa/token", "tok\n");
  Write("sa/namespace", "kube-system");
  env_["KUBERNETES_SERVICE_HOST"] = "fd00::1";
  env_["KUBERNETES_SERVICE_PORT"] = "443";
  auto cfg = LoadRestConfig(Opts());
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->server, "https://[fd00::1]:443");
  EXPECT_EQ(cfg->bearer_token_file, (dir_ / "sa/token").string());
  EXPECT_EQ(cfg->ca_file, (dir_ / "sa/ca.crt").string());
  EXPECT_EQ(cfg->namespace_name, "kube-system");
}

TEST_F(RestConfigTest, NothingAvailableIsNotFound) {
  EXPECT_EQ(LoadRestConfig(Opts()).status().code(), StatusCode::kNotFound);
}

TEST_F(RestConfigTest, MalformedInputsAreErrorsNotCrashes) {
  LoadOptions o = Opts();
  o.kubeconfig = Write("bad1", "clusters: {not: a list}\ncurrent-context: a\n");
  EXPECT_EQ(LoadRestConfig(o).status().code(), StatusCode::kInvalidArgument);
  o.kubeconfig = Write("bad2", "[unclosed");
  EXPECT_EQ(LoadRestConfig(o).status().code(), StatusCode::kInvalidArgument);
  o.kubeconfig = Write("bad3", kConfig);
  o.context_override = "nope";
  EXPECT_EQ(LoadRestConfig(o).status().code(), StatusCode::kInvalidArgument);
  o.context_override.clear();
  o.kubeconfig = (dir_ / "absent").string();
  EXPECT_EQ(LoadRestConfig(o).status().code(), StatusCode::kFailedPrecondition);
  o.kubeconfig = Write("bad4", R"(current-context: a
contexts: [{name: a, context: {cluster: c}}]
clusters: [{name: c, cluster: {server: "http://x", certificate-authority-data: "!!"}}]
)");
  EXPECT_EQ(LoadRestConfig(o).status().code(), StatusCode::kInvalidArgument);
}

TEST(Base64Test, Decodes) {
  EXPECT_EQ(*Base64Decode("aGVsbG8gd29ybGQ="), "hello world");
  EXPECT_EQ(*Base64Decode("aGVsbG8gd29ybGQ"), "hello world");
  EXPECT_EQ(Base64Decode("a$==").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace npushare::kube
