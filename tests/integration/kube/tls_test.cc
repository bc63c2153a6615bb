// TLS end to end: kube-local serving HTTPS (optionally requiring client certificates) and the
// libcurl transport's TLS options against it over the real wire, with certificates generated
// per test (test_pki.h). Failures must be clear error codes, never crashes or hangs.
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "integration/kube/test_pki.h"
#include "integration/kube/test_server.h"
#include "kube/http_transport_impl.h"
#include "kube/informer.h"
#include "kube/kube_client.h"
#include "kube/rest_config.h"
#include "sim/kube/api_server.h"

namespace npushare::kube {
namespace {

using testing::Base64EncodeForTest;
using testing::MakePod;
using testing::MakeTestPki;
using testing::ReadFileForTest;
using testing::TestPki;

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("kube_tls_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto pki = MakeTestPki(dir_, "a");
    ASSERT_TRUE(pki.ok()) << pki.status().ToString();
    pki_ = *pki;
    auto other = MakeTestPki(dir_, "b");
    ASSERT_TRUE(other.ok()) << other.status().ToString();
    other_ = *other;
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  // StartServer: HTTPS with pki_'s server certificate; client certificates required when
  // `require_client_cert`. Returns the URL ("" after a test failure).
  std::string StartServer(bool require_client_cert) {
    kube_local::LocalApiServerOptions so;
    so.tls.cert_file = pki_.server_cert;
    so.tls.key_file = pki_.server_key;
    if (require_client_cert)
      so.tls.client_ca_file = pki_.ca_cert;
    server_ = std::make_unique<kube_local::LocalApiServer>(so);
    auto port = server_->Start("127.0.0.1", 0);
    EXPECT_TRUE(port.ok()) << port.status().ToString();
    return port.ok() ? server_->url() : "";
  }

  RestConfig Config(const std::string& url) {
    RestConfig cfg;
    cfg.server = url;
    cfg.connect_timeout = std::chrono::seconds(5);
    cfg.request_timeout = std::chrono::seconds(10);
    return cfg;
  }

  // Version: GET /version through a fresh transport: the HTTP status or the transport error.
  static Result<int> Version(const RestConfig& cfg) {
    CurlTransport t(cfg);
    HttpRequest r;
    r.target = "/version";
    auto resp = t.Send(r);
    if (!resp.ok())
      return resp.status();
    return resp->status_code;
  }

  std::filesystem::path dir_;
  TestPki pki_;
  TestPki other_;  // an unrelated CA and its certificates
  std::unique_ptr<kube_local::LocalApiServer> server_;
};

TEST_F(TlsTest, ServerUrlIsHttps) {
  std::string url = StartServer(false);
  EXPECT_EQ(url.rfind("https://127.0.0.1:", 0), 0u) << url;
}

TEST_F(TlsTest, CaFileTrustsTheServer) {
  RestConfig cfg = Config(StartServer(false));
  cfg.ca_file = pki_.ca_cert;
  auto v = Version(cfg);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, 200);
}

TEST_F(TlsTest, CaDataTrustsTheServer) {
  RestConfig cfg = Config(StartServer(false));
  cfg.ca_data = ReadFileForTest(pki_.ca_cert);
  ASSERT_FALSE(cfg.ca_data.empty());
  auto v = Version(cfg);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, 200);
}

TEST_F(TlsTest, UntrustedServerIsFailedPreconditionUnlessVerificationIsSkipped) {
  RestConfig cfg = Config(StartServer(false));
  // No CA configured: the system trust store does not know our throwaway CA.
  EXPECT_EQ(Version(cfg).status().code(), StatusCode::kFailedPrecondition);
  cfg.insecure_skip_tls_verify = true;
  auto v = Version(cfg);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, 200);
}

TEST_F(TlsTest, WrongCaIsFailedPrecondition) {
  RestConfig cfg = Config(StartServer(false));
  cfg.ca_file = other_.ca_cert;
  EXPECT_EQ(Version(cfg).status().code(), StatusCode::kFailedPrecondition);
  cfg.ca_file.clear();
  cfg.ca_data = ReadFileForTest(other_.ca_cert);
  EXPECT_EQ(Version(cfg).status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(TlsTest, PlainHttpClientAgainstHttpsServerFailsCleanly) {
  std::string url = StartServer(false);
  ASSERT_EQ(url.rfind("https://", 0), 0u);
  RestConfig cfg = Config("http://" + url.substr(8));
  auto v = Version(cfg);
  // The TLS server drops a plaintext request without an HTTP answer.
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kAborted) << v.status().ToString();
}

TEST_F(TlsTest, ClientCertificateFilesAreAccepted) {
  RestConfig cfg = Config(StartServer(true));
  cfg.ca_file = pki_.ca_cert;
  cfg.client_cert_file = pki_.client_cert;
  cfg.client_key_file = pki_.client_key;
  auto v = Version(cfg);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, 200);
}

TEST_F(TlsTest, ClientCertificateDataIsAccepted) {
  RestConfig cfg = Config(StartServer(true));
  cfg.ca_data = ReadFileForTest(pki_.ca_cert);
  cfg.client_cert_data = ReadFileForTest(pki_.client_cert);
  cfg.client_key_data = ReadFileForTest(pki_.client_key);
  auto v = Version(cfg);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, 200);
}

// ExpectUnauthenticated: GET /version is answered 401 (the handshake itself succeeds, see
// TlsServerOptions::client_ca_file), and KubeClient turns that into kUnauthenticated.
void ExpectUnauthenticated(const RestConfig& cfg) {
  CurlTransport t(cfg);
  HttpRequest r;
  r.target = "/version";
  auto resp = t.Send(r);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status_code, 401);
  ClientOptions co;
  co.qps = 0;
  KubeClient client(t, co);
  EXPECT_EQ(client.Get(kNodes, "", "n1").status().code(), StatusCode::kUnauthenticated);
}

TEST_F(TlsTest, MissingClientCertificateIsUnauthenticated) {
  RestConfig cfg = Config(StartServer(true));
  cfg.ca_file = pki_.ca_cert;
  ExpectUnauthenticated(cfg);
}

TEST_F(TlsTest, ClientCertificateFromAnotherCaIsUnauthenticated) {
  RestConfig cfg = Config(StartServer(true));
  cfg.ca_file = pki_.ca_cert;
  cfg.client_cert_file = other_.client_cert;
  cfg.client_key_file = other_.client_key;
  ExpectUnauthenticated(cfg);
}

// A server that rejects the client certificate inside a TLS 1.2 handshake (as kube-apiserver
// does for a certificate from an unknown CA): the alert arrives while the client still reads
// the handshake, so the outcome is deterministic, and the transport reports kUnauthenticated.
TEST_F(TlsTest, HandshakeRejectionOfTheClientCertificateIsUnauthenticated) {
  std::string cert = pki_.server_cert;
  std::string key = pki_.server_key;
  std::string ca = pki_.ca_cert;
  httplib::SSLServer server([&](SSL_CTX& ctx) {
    SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(&ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    return SSL_CTX_use_certificate_chain_file(&ctx, cert.c_str()) == 1 &&
           SSL_CTX_use_PrivateKey_file(&ctx, key.c_str(), SSL_FILETYPE_PEM) == 1 &&
           SSL_CTX_load_verify_locations(&ctx, ca.c_str(), nullptr) == 1;
  });
  ASSERT_TRUE(server.is_valid());
  server.Get("/version", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{}", "application/json");
  });
  int port = server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread serving([&] { server.listen_after_bind(); });
  RestConfig cfg = Config("https://127.0.0.1:" + std::to_string(port));
  cfg.ca_file = pki_.ca_cert;
  cfg.client_cert_file = other_.client_cert;  // signed by a CA the server does not trust
  cfg.client_key_file = other_.client_key;
  auto rejected = Version(cfg);
  cfg.client_cert_file = pki_.client_cert;
  cfg.client_key_file = pki_.client_key;
  auto accepted = Version(cfg);
  server.stop();
  serving.join();
  EXPECT_EQ(rejected.status().code(), StatusCode::kUnauthenticated) << rejected.status().ToString();
  ASSERT_TRUE(accepted.ok()) << accepted.status().ToString();
  EXPECT_EQ(*accepted, 200);
}

TEST_F(TlsTest, ClientKeyNotMatchingTheCertificateIsFailedPrecondition) {
  RestConfig cfg = Config(StartServer(true));
  cfg.ca_file = pki_.ca_cert;
  cfg.client_cert_file = pki_.client_cert;
  cfg.client_key_file = other_.client_key;
  EXPECT_EQ(Version(cfg).status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(TlsTest, KubeconfigWithInlineDataDrivesCrudAndWatch) {
  std::string url = StartServer(true);
  std::string kubeconfig = (dir_ / "kubeconfig").string();
  std::ofstream(kubeconfig)
      << "apiVersion: v1\nkind: Config\ncurrent-context: tls\n"
      << "clusters:\n- name: local\n  cluster:\n    server: " << url
      << "\n    certificate-authority-data: " << Base64EncodeForTest(ReadFileForTest(pki_.ca_cert))
      << "\nusers:\n- name: admin\n  user:\n    client-certificate-data: "
      << Base64EncodeForTest(ReadFileForTest(pki_.client_cert))
      << "\n    client-key-data: " << Base64EncodeForTest(ReadFileForTest(pki_.client_key))
      << "\ncontexts:\n- name: tls\n  context:\n    cluster: local\n    user: admin\n";
  LoadOptions lo;
  lo.kubeconfig = kubeconfig;
  lo.getenv = [](const char*) { return std::string(); };
  auto cfg = LoadRestConfig(lo);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->server, url);
  EXPECT_FALSE(cfg->ca_data.empty());
  EXPECT_FALSE(cfg->insecure_skip_tls_verify);
  cfg->request_timeout = std::chrono::seconds(10);
  CurlTransport transport(*cfg);
  ClientOptions co;
  co.qps = 0;
  KubeClient client(transport, co);
  ASSERT_TRUE(client.Create(kPods, "default", MakePod("tls-a", "node-a")).ok());
  auto got = client.Get(kPods, "default", "tls-a");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ((*got)["spec"]["nodeName"], "node-a");

  // A watch (a long-lived chunked stream) over TLS, through an informer.
  Informer inf(client, kPods, {});
  testing::Waitable adds;
  InformerHandlers h;
  h.on_add = [&adds](const nlohmann::json& o) { adds.Add(o["metadata"]["name"]); };
  inf.AddHandlers(h);
  inf.Start();
  ASSERT_TRUE(inf.WaitForSync(std::chrono::seconds(20)));
  ASSERT_TRUE(client.Create(kPods, "default", MakePod("tls-b")).ok());
  ASSERT_TRUE(adds.WaitFor([](const std::vector<std::string>& v) {
    return std::find(v.begin(), v.end(), "tls-b") != v.end();
  }));
  inf.Stop();
  EXPECT_EQ(inf.Size(), 2u);
}

TEST_F(TlsTest, ServerRejectsBadTlsSettings) {
  struct Case {
    std::string cert, key, client_ca;
  };
  std::string garbage = (dir_ / "garbage.pem").string();
  std::ofstream(garbage) << "not a certificate\n";
  std::string missing = (dir_ / "missing.pem").string();
  const Case cases[] = {
      {pki_.server_cert, "", ""},                    // certificate without key
      {"", pki_.server_key, ""},                     // key without certificate
      {"", "", pki_.ca_cert},                        // client CA without certificate
      {missing, pki_.server_key, ""},                // unreadable certificate
      {garbage, pki_.server_key, ""},                // malformed certificate
      {pki_.server_cert, garbage, ""},               // malformed key
      {pki_.server_cert, other_.server_key, ""},     // key of another certificate
      {pki_.server_cert, pki_.server_key, missing},  // unreadable client CA
  };
  for (const auto& c : cases) {
    kube_local::LocalApiServerOptions so;
    so.tls.cert_file = c.cert;
    so.tls.key_file = c.key;
    so.tls.client_ca_file = c.client_ca;
    kube_local::LocalApiServer server(so);
    EXPECT_EQ(server.Start("127.0.0.1", 0).status().code(), StatusCode::kInvalidArgument)
        << c.cert << " " << c.key << " " << c.client_ca;
  }
}

}  // namespace
}  // namespace npushare::kube
