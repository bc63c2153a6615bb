#include "integration/kube/test_pki.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdint>
#include <fstream>
#include <memory>
#include <sstream>
#include <utility>
#include <vector>

namespace npushare::kube::testing {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;

// CertSpec: what distinguishes the CA, server and client certificates.
struct CertSpec {
  std::string common_name;
  std::string organization;                             // "" = none
  std::vector<std::pair<int, std::string>> extensions;  // (NID, openssl config value)
  long serial = 1;  // NOLINT(google-runtime-int): OpenSSL's type
};

Status AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr)
    return InternalError("bad X.509 extension " + value);
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return ok == 1 ? OkStatus() : InternalError("X509_add_ext failed");
}

// MakeCert: a certificate for `key` per `spec`, signed by (issuer, issuer_key); self-signed
// when issuer is null.
Result<X509Ptr> MakeCert(const CertSpec& spec, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key) {
  X509Ptr cert(X509_new());
  if (!cert)
    return InternalError("X509_new failed");
  X509* x = cert.get();
  X509_set_version(x, 2);  // v3
  ASN1_INTEGER_set(X509_get_serialNumber(x), spec.serial);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 24 * 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  auto add = [name](const char* field, const std::string& v) {
    return X509_NAME_add_entry_by_txt(name, field, MBSTRING_ASC,
                                      reinterpret_cast<const unsigned char*>(v.c_str()), -1, -1,
                                      0) == 1;
  };
  if (!spec.organization.empty() && !add("O", spec.organization))
    return InternalError("cannot set O");
  if (!add("CN", spec.common_name))
    return InternalError("cannot set CN");
  X509* signer = issuer != nullptr ? issuer : x;
  X509_set_issuer_name(x, X509_get_subject_name(signer));
  for (const auto& [nid, value] : spec.extensions) {
    NPUSHARE_RETURN_IF_ERROR(AddExtension(x, signer, nid, value));
  }
  if (X509_sign(x, issuer_key != nullptr ? issuer_key : key, EVP_sha256()) == 0)
    return InternalError("X509_sign failed");
  return cert;
}

Status WritePem(const std::string& path, X509* cert, EVP_PKEY* key) {
  BIO* bio = BIO_new_file(path.c_str(), "w");
  if (bio == nullptr)
    return FailedPreconditionError("cannot write " + path);
  bool ok = cert != nullptr
                ? PEM_write_bio_X509(bio, cert) == 1
                : PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  BIO_free(bio);
  return ok ? OkStatus() : InternalError("PEM write failed for " + path);
}

Result<PkeyPtr> NewKey() {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key)
    return InternalError("EC key generation failed");
  return key;
}

}  // namespace

Result<TestPki> MakeTestPki(const std::filesystem::path& dir, const std::string& prefix) {
  return MakeTestPki(dir, prefix, {});
}

Result<TestPki> MakeTestPki(const std::filesystem::path& dir, const std::string& prefix,
                            const std::vector<std::string>& extra_server_dns_names) {
  std::string sans = "IP:127.0.0.1,DNS:localhost";
  for (const auto& name : extra_server_dns_names) {
    sans += ",DNS:" + name;
  }
  NPUSHARE_ASSIGN_OR_RETURN(PkeyPtr ca_key, NewKey());
  NPUSHARE_ASSIGN_OR_RETURN(PkeyPtr server_key, NewKey());
  NPUSHARE_ASSIGN_OR_RETURN(PkeyPtr client_key, NewKey());
  CertSpec ca_spec{prefix + "-test-ca",
                   "",
                   {{NID_basic_constraints, "critical,CA:TRUE"},
                    {NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature"},
                    {NID_subject_key_identifier, "hash"}},
                   1};
  NPUSHARE_ASSIGN_OR_RETURN(X509Ptr ca, MakeCert(ca_spec, ca_key.get(), nullptr, nullptr));
  CertSpec server_spec{"kube-local",
                       "",
                       {{NID_basic_constraints, "critical,CA:FALSE"},
                        {NID_key_usage, "critical,digitalSignature,keyEncipherment"},
                        {NID_ext_key_usage, "serverAuth"},
                        {NID_subject_key_identifier, "hash"},
                        {NID_authority_key_identifier, "keyid:always"},
                        {NID_subject_alt_name, sans}},
                       2};
  NPUSHARE_ASSIGN_OR_RETURN(X509Ptr server,
                            MakeCert(server_spec, server_key.get(), ca.get(), ca_key.get()));
  CertSpec client_spec{"npushare-test",
                       "system:masters",
                       {{NID_basic_constraints, "critical,CA:FALSE"},
                        {NID_key_usage, "critical,digitalSignature,keyEncipherment"},
                        {NID_ext_key_usage, "clientAuth"},
                        {NID_authority_key_identifier, "keyid:always"}},
                       3};
  NPUSHARE_ASSIGN_OR_RETURN(X509Ptr client,
                            MakeCert(client_spec, client_key.get(), ca.get(), ca_key.get()));
  TestPki pki;
  auto path = [&](const char* suffix) { return (dir / (prefix + suffix)).string(); };
  pki.ca_cert = path("-ca.crt");
  pki.server_cert = path("-server.crt");
  pki.server_key = path("-server.key");
  pki.client_cert = path("-client.crt");
  pki.client_key = path("-client.key");
  NPUSHARE_RETURN_IF_ERROR(WritePem(pki.ca_cert, ca.get(), nullptr));
  NPUSHARE_RETURN_IF_ERROR(WritePem(pki.server_cert, server.get(), nullptr));
  NPUSHARE_RETURN_IF_ERROR(WritePem(pki.server_key, nullptr, server_key.get()));
  NPUSHARE_RETURN_IF_ERROR(WritePem(pki.client_cert, client.get(), nullptr));
  NPUSHARE_RETURN_IF_ERROR(WritePem(pki.client_key, nullptr, client_key.get()));
  return pki;
}

std::string ReadFileForTest(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Base64EncodeForTest(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8) |
                 static_cast<uint8_t>(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  size_t rest = in.size() - i;
  if (rest > 0) {
    uint32_t v = static_cast<uint32_t>(static_cast<uint8_t>(in[i]) << 16);
    if (rest == 2)
      v |= static_cast<uint32_t>(static_cast<uint8_t>(in[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace npushare::kube::testing
