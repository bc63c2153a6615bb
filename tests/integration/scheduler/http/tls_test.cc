// TLS serving of npushare-scheduler's HTTP layer: the certificate presented is the one on disk;
// when the files are replaced (as cert-manager rotates a Secret) new handshakes get the new
// certificate without a restart; a broken new pair keeps the old one in force (and is counted);
// `npushare certs` output is a CA + serving pair that OpenSSL verifies and the server can serve.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "cli/cli_app.h"
#include "integration/kube/test_pki.h"
#include "scheduler/http/scheduler_http_server.h"
#include "support/temp_dir.h"

namespace npushare::scheduler::http {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

class ReadyService : public ExtenderService {
 public:
  Result<json> Filter(const json& args) override {
    return json{{"NodeNames", args["NodeNames"]}, {"Error", ""}};
  }
  Result<json> Bind(const json&) override { return json{{"Error", ""}}; }
  bool Ready() const override { return true; }
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Fingerprint: hex SHA-256 of the certificate's DER.
std::string Fingerprint(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  X509_digest(cert, EVP_sha256(), md, &n);
  std::string out;
  char buf[3];
  for (unsigned int i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", md[i]);
    out += buf;
  }
  return out;
}

// FingerprintOfPemFile: SHA-256 fingerprint of the first certificate in the file ("" on error).
std::string FingerprintOfPemFile(const std::string& path) {
  const std::string pem = ReadFile(path);
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (cert == nullptr) {
    return "";
  }
  std::string out = Fingerprint(cert);
  X509_free(cert);
  return out;
}

// PresentedFingerprint: connects to 127.0.0.1:port, completes a TLS handshake verifying against
// `ca_file`, and returns the server certificate's SHA-256 fingerprint ("" when the handshake
// fails).
std::string PresentedFingerprint(int port, const std::string& ca_file) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string serial;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    SSL_set_tlsext_host_name(ssl, "localhost");
    if (SSL_connect(ssl) == 1) {
      X509* peer = SSL_get1_peer_certificate(ssl);
      if (peer != nullptr) {
        serial = Fingerprint(peer);
        X509_free(peer);
      }
      SSL_shutdown(ssl);
    }
    SSL_free(ssl);
  }
  ::close(fd);
  SSL_CTX_free(ctx);
  return serial;
}

// ReplaceFile: atomic replacement (write aside, rename), as a Secret volume update does.
void ReplaceFile(const std::string& from, const std::string& to) {
  const std::string tmp = to + ".tmp";
  fs::copy_file(from, tmp, fs::copy_options::overwrite_existing);
  fs::rename(tmp, to);
}

template <typename F>
bool WaitFor(F condition) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    auto a = kube::testing::MakeTestPki(dir_.path(), "a");
    auto b = kube::testing::MakeTestPki(dir_.path(), "b");
    ASSERT_TRUE(a.ok() && b.ok());
    a_ = *a;
    b_ = *b;
    cert_ = dir_.path() + "/tls.crt";
    key_ = dir_.path() + "/tls.key";
    ReplaceFile(a_.server_cert, cert_);
    ReplaceFile(a_.server_key, key_);
  }
  std::unique_ptr<SchedulerHttpServer> StartServer() {
    SchedulerHttpOptions o;
    o.bind_address = "127.0.0.1:0";
    o.cert_file = cert_;
    o.key_file = key_;
    o.cert_poll_period = std::chrono::milliseconds(50);
    auto server = std::make_unique<SchedulerHttpServer>(o, service_, webhook_);
    Status s = server->Start();
    EXPECT_TRUE(s.ok()) << s.ToString();
    return server;
  }

  testing::ScopedTempDir dir_{"npushare-sched-tls"};
  kube::testing::TestPki a_, b_;
  std::string cert_, key_;
  ReadyService service_;
  AdmissionWebhook webhook_{{}, [] { return nullptr; }};
};

TEST_F(TlsTest, ServesTheCertificateOnDiskAndTheRoutesOverHttps) {
  auto server = StartServer();
  ASSERT_TRUE(server->Tls());
  EXPECT_EQ(PresentedFingerprint(server->Port(), a_.ca_cert), FingerprintOfPemFile(a_.server_cert));
  httplib::SSLClient client("localhost", server->Port());
  client.set_ca_cert_path(a_.ca_cert.c_str());
  client.enable_server_certificate_verification(true);
  auto res = client.Post("/filter", R"({"Pod":{},"NodeNames":["n1"]})", "application/json");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(json::parse(res->body)["NodeNames"], json({"n1"}));
}

TEST_F(TlsTest, RotatedFilesAreServedWithoutRestart) {
  auto server = StartServer();
  const std::string serial_a = FingerprintOfPemFile(a_.server_cert);
  const std::string serial_b = FingerprintOfPemFile(b_.server_cert);
  ASSERT_NE(serial_a, serial_b);
  ASSERT_EQ(PresentedFingerprint(server->Port(), a_.ca_cert), serial_a);
  // A keep-alive connection opened before the rotation keeps working.
  httplib::SSLClient old_conn("localhost", server->Port());
  old_conn.set_ca_cert_path(a_.ca_cert.c_str());
  old_conn.enable_server_certificate_verification(true);
  old_conn.set_keep_alive(true);
  ASSERT_TRUE(old_conn.Get("/healthz"));

  ReplaceFile(b_.server_key, key_);
  ReplaceFile(b_.server_cert, cert_);
  EXPECT_TRUE(
      WaitFor([&] { return PresentedFingerprint(server->Port(), b_.ca_cert) == serial_b; }));
  EXPECT_EQ(PresentedFingerprint(server->Port(), a_.ca_cert), "");  // a's CA no longer verifies it
  const std::string metrics = server->MetricsText();
  EXPECT_NE(metrics.find("npushare_scheduler_tls_certificate_generation 2"), std::string::npos)
      << metrics;
}

TEST_F(TlsTest, BrokenNewPairKeepsTheOldOne) {
  auto server = StartServer();
  const std::string serial_a = FingerprintOfPemFile(a_.server_cert);
  // Mismatched pair: b's certificate with a's key.
  ReplaceFile(b_.server_cert, cert_);
  auto r = server->ReloadCertificate();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(PresentedFingerprint(server->Port(), a_.ca_cert), serial_a);
  // Garbage certificate.
  {
    std::ofstream out(cert_ + ".tmp");
    out << "-----BEGIN CERTIFICATE-----\nnot base64\n";
  }
  fs::rename(cert_ + ".tmp", cert_);
  EXPECT_FALSE(server->ReloadCertificate().ok());
  EXPECT_EQ(PresentedFingerprint(server->Port(), a_.ca_cert), serial_a);
  EXPECT_NE(server->MetricsText().find(
                R"(npushare_scheduler_tls_certificate_reloads_total{result="rejected"} 2)"),
            std::string::npos);
  // Healing: b's key arrives after b's certificate.
  ReplaceFile(b_.server_cert, cert_);
  ReplaceFile(b_.server_key, key_);
  EXPECT_TRUE(WaitFor([&] {
    return PresentedFingerprint(server->Port(), b_.ca_cert) == FingerprintOfPemFile(b_.server_cert);
  }));
}

TEST_F(TlsTest, MissingOrMismatchedFilesFailStart) {
  SchedulerHttpOptions o;
  o.bind_address = "127.0.0.1:0";
  o.cert_file = dir_.path() + "/absent.crt";
  o.key_file = key_;
  SchedulerHttpServer missing(o, service_, webhook_);
  EXPECT_EQ(missing.Start().code(), StatusCode::kFailedPrecondition);
  o.cert_file = b_.server_cert;  // with a's key
  SchedulerHttpServer mismatched(o, service_, webhook_);
  EXPECT_EQ(mismatched.Start().code(), StatusCode::kInvalidArgument);
}

// RunCliArgs: `npushare <args>` in process.
int RunCliArgs(std::vector<std::string> args, std::string* err_text = nullptr) {
  args.insert(args.begin(), "npushare");
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  std::ostringstream out, err;
  const int rc = cli::RunCli(static_cast<int>(argv.size()), argv.data(), out, err);
  if (err_text != nullptr) {
    *err_text = err.str();
  }
  return rc;
}

TEST(CertsCommandTest, WritesAVerifiableCaAndServingPair) {
  testing::ScopedTempDir dir("npushare-certs");
  const std::string out = dir.path() + "/pki";
  ASSERT_EQ(
      RunCliArgs({"certs", "--out", out, "--host", "localhost", "--host",
                  "npushare-scheduler.kube-system.svc", "--host", "127.0.0.1", "--days", "30"}),
      0);
  struct stat st {};
  ASSERT_EQ(::stat((out + "/tls.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((out + "/tls.crt").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0022, 0u);

  // Verify the chain and the names with OpenSSL's verifier.
  const std::string ca_pem = ReadFile(out + "/ca.crt");
  const std::string crt_pem = ReadFile(out + "/tls.crt");
  BIO* ca_bio = BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size()));
  BIO* crt_bio = BIO_new_mem_buf(crt_pem.data(), static_cast<int>(crt_pem.size()));
  X509* ca = PEM_read_bio_X509(ca_bio, nullptr, nullptr, nullptr);
  X509* crt = PEM_read_bio_X509(crt_bio, nullptr, nullptr, nullptr);
  ASSERT_NE(ca, nullptr);
  ASSERT_NE(crt, nullptr);
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca);
  X509_STORE_CTX* vctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(vctx, store, crt, nullptr);
  X509_STORE_CTX_set_purpose(vctx, X509_PURPOSE_SSL_SERVER);
  EXPECT_EQ(X509_verify_cert(vctx), 1)
      << X509_verify_cert_error_string(X509_STORE_CTX_get_error(vctx));
  EXPECT_EQ(X509_check_host(crt, "npushare-scheduler.kube-system.svc", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(crt, "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(crt, "127.0.0.1", 0), 1);
  EXPECT_NE(X509_check_host(crt, "other.example", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ca(ca), 1);
  EXPECT_EQ(X509_check_ca(crt), 0);
  X509_STORE_CTX_free(vctx);
  X509_STORE_free(store);
  X509_free(ca);
  X509_free(crt);
  BIO_free(ca_bio);
  BIO_free(crt_bio);

  // The pair is servable and a client verifying against ca.crt and the host name accepts it.
  ReadyService service;
  AdmissionWebhook webhook({}, [] { return nullptr; });
  SchedulerHttpOptions o;
  o.bind_address = "127.0.0.1:0";
  o.cert_file = out + "/tls.crt";
  o.key_file = out + "/tls.key";
  SchedulerHttpServer server(o, service, webhook);
  ASSERT_TRUE(server.Start().ok());
  httplib::SSLClient client("localhost", server.Port());
  client.set_ca_cert_path((out + "/ca.crt").c_str());
  client.enable_server_certificate_verification(true);
  auto res = client.Get("/healthz");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
}

TEST(CertsCommandTest, RefusesToOverwriteWithoutForce) {
  testing::ScopedTempDir dir("npushare-certs");
  const std::string out = dir.path() + "/pki";
  ASSERT_EQ(RunCliArgs({"certs", "--out", out}), 0);
  const std::string before = ReadFile(out + "/tls.crt");
  std::string err;
  EXPECT_EQ(RunCliArgs({"certs", "--out", out}, &err), 1);
  EXPECT_FALSE(err.empty());
  EXPECT_EQ(ReadFile(out + "/tls.crt"), before);
  EXPECT_EQ(RunCliArgs({"certs", "--out", out, "--force"}), 0);
  EXPECT_NE(ReadFile(out + "/tls.crt"), before);
  EXPECT_NE(RunCliArgs({"certs", "--out", out, "--force", "--days", "0"}), 0);
}

}  // namespace
}  // namespace npushare::scheduler::http
