// The kube-local binary serving HTTPS with client certificates required, driven by our client
// and by kubectl through a kubeconfig with file references (kubectl parts skip, with the
// reason, when no kubectl is on PATH).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "integration/kube/subprocess.h"
#include "integration/kube/test_pki.h"
#include "integration/kube/test_server.h"
#include "kube/http_transport_impl.h"
#include "kube/kube_client.h"

namespace npushare::kube {
namespace {

using testing::FindOnPath;
using testing::MakePod;
using testing::MakeTestPki;
using testing::Subprocess;
using testing::TestPki;

constexpr auto kTimeout = std::chrono::seconds(60);

class KubeLocalTlsBinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("kube_tls_bin_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto pki = MakeTestPki(dir_, "a");
    ASSERT_TRUE(pki.ok()) << pki.status().ToString();
    pki_ = *pki;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string KubeLocal() const { return std::string(NPUSHARE_BIN_DIR) + "/kube-local"; }

  // WriteKubeconfig: file-referenced CA and (when `with_client_cert`) client credentials.
  std::string WriteKubeconfig(const std::string& url, bool with_client_cert) {
    std::string path = (dir_ / (with_client_cert ? "config" : "config-nocert")).string();
    std::ofstream out(path);
    out << "apiVersion: v1\nkind: Config\ncurrent-context: local\n"
        << "clusters:\n- name: local\n  cluster:\n    server: " << url
        << "\n    certificate-authority: " << pki_.ca_cert << "\n"
        << "contexts:\n- name: local\n  context: {cluster: local, user: me, namespace: default}\n";
    if (with_client_cert) {
      out << "users:\n- name: me\n  user:\n    client-certificate: " << pki_.client_cert
          << "\n    client-key: " << pki_.client_key << "\n";
    } else {
      out << "users:\n- name: me\n  user: {}\n";
    }
    return path;
  }

  // RunKubectl: {exit code, combined output}.
  std::pair<int, std::string> RunKubectl(const std::string& kubectl, const std::string& config,
                                         std::vector<std::string> args) {
    args.insert(args.begin(), kubectl);
    Subprocess p;
    if (!p.Spawn(args, {"KUBECONFIG=" + config, "HOME=" + dir_.string()}))
      return {-1, "spawn failed"};
    std::string out = p.ReadAll(kTimeout);
    p.Kill(SIGKILL);  // no-op when it already exited
    int status = p.Wait();
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
  }

  std::filesystem::path dir_;
  TestPki pki_;
};

TEST_F(KubeLocalTlsBinaryTest, ServesHttpsToOurClientAndKubectl) {
  Subprocess server;
  ASSERT_TRUE(server.Spawn({KubeLocal(), "--address", "127.0.0.1", "--port", "0", "--tls-cert-file",
                            pki_.server_cert, "--tls-private-key-file", pki_.server_key,
                            "--client-ca-file", pki_.ca_cert}));
  auto line = server.ReadLine(std::chrono::seconds(20));
  ASSERT_TRUE(line.has_value());
  const std::string prefix = "https://127.0.0.1:";
  ASSERT_EQ(line->rfind(prefix, 0), 0u) << *line;
  std::string port = line->substr(prefix.size());
  ASSERT_FALSE(port.empty());
  ASSERT_EQ(port.find_first_not_of("0123456789"), std::string::npos) << *line;

  std::string config = WriteKubeconfig(*line, /*with_client_cert=*/true);
  {  // our client, configured from the same kubeconfig (file references)
    LoadOptions lo;
    lo.kubeconfig = config;
    lo.getenv = [](const char*) { return std::string(); };
    auto cfg = LoadRestConfig(lo);
    ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
    CurlTransport transport(*cfg);
    ClientOptions co;
    co.qps = 0;
    KubeClient client(transport, co);
    auto created = client.Create(kPods, "default", MakePod("over-tls"));
    ASSERT_TRUE(created.ok()) << created.status().ToString();
  }

  std::string kubectl = FindOnPath("kubectl");
  if (!kubectl.empty()) {
    auto [code, out] = RunKubectl(kubectl, config, {"get", "pods", "-o", "json"});
    ASSERT_EQ(code, 0) << out;
    auto list = nlohmann::json::parse(out, nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(list.is_object()) << out;
    ASSERT_EQ(list["items"].size(), 1u) << out;
    EXPECT_EQ(list["items"][0]["metadata"]["name"], "over-tls");
    // Without a client certificate the server answers 401 and kubectl fails.
    auto [code2, out2] =
        RunKubectl(kubectl, WriteKubeconfig(*line, /*with_client_cert=*/false), {"get", "pods"});
    EXPECT_NE(code2, 0) << out2;
  }

  server.Kill(SIGTERM);
  int status = server.Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  if (kubectl.empty())
    GTEST_SKIP() << "kubectl not found on PATH (Debian package: kubernetes-client)";
}

TEST_F(KubeLocalTlsBinaryTest, RejectsIncompleteOrBadTlsFlags) {
  std::string garbage = (dir_ / "garbage.pem").string();
  std::ofstream(garbage) << "not a certificate\n";
  const std::vector<std::vector<std::string>> cases = {
      {"--tls-cert-file", pki_.server_cert},                                    // no key
      {"--tls-private-key-file", pki_.server_key},                              // no certificate
      {"--client-ca-file", pki_.ca_cert},                                       // client CA alone
      {"--tls-cert-file", garbage, "--tls-private-key-file", pki_.server_key},  // bad cert
  };
  for (const auto& flags : cases) {
    std::vector<std::string> argv = {KubeLocal(), "--port", "0"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    Subprocess p;
    ASSERT_TRUE(p.Spawn(argv));
    std::string out = p.ReadAll(kTimeout);
    int status = p.Wait();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0) << ::testing::PrintToString(flags);
    EXPECT_EQ(out.find("https://"), std::string::npos) << out;
  }
}

}  // namespace
}  // namespace npushare::kube
