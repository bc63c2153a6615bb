// File: integration/kube/test_pki.h
//
// TestPki: throwaway X.509 material for the TLS tests, generated with OpenSSL's C API at test
// time (nothing is checked in, nothing expires between runs). One call makes a CA, a server
// certificate for 127.0.0.1 / localhost and a client certificate, all signed by that CA, with
// P-256 keys, valid from one hour ago for one day.
//
// Usage:
//   auto pki = MakeTestPki(temp_dir, "a");   // a-ca.crt, a-server.crt, a-server.key, ...
//   ASSERT_TRUE(pki.ok()) << pki.status().ToString();
//   server_options.tls.cert_file = pki->server_cert;
//
// Thread safety: MakeTestPki may be called from any thread; it only writes its own files.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace npushare::kube::testing {

// TestPki: absolute paths of PEM files (keys are unencrypted PKCS#8).
struct TestPki {
  std::string ca_cert;
  std::string server_cert;
  std::string server_key;
  std::string client_cert;  // CN=npushare-test, O=system:masters, extendedKeyUsage clientAuth
  std::string client_key;
};

// MakeTestPki: writes <prefix>-{ca.crt,server.crt,server.key,client.crt,client.key} into `dir`
// (which must exist). Two calls with different prefixes give unrelated CAs.
// @return the paths; kInternal when OpenSSL fails, kFailedPrecondition when a file cannot be
//   written.
Result<TestPki> MakeTestPki(const std::filesystem::path& dir, const std::string& prefix);
// MakeTestPki: as above, with `extra_server_dns_names` added to the server certificate's
// subjectAltName (e.g. "webhook.kube-system.svc" for a service-addressed webhook).
Result<TestPki> MakeTestPki(const std::filesystem::path& dir, const std::string& prefix,
                            const std::vector<std::string>& extra_server_dns_names);

// ReadFileForTest: the whole file, or "" when it cannot be read.
std::string ReadFileForTest(const std::string& path);

// Base64EncodeForTest: standard alphabet with padding, no line breaks (kubeconfig *-data).
std::string Base64EncodeForTest(std::string_view in);

}  // namespace npushare::kube::testing
