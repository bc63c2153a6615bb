#include "cli/dev_pki.h"

#include <arpa/inet.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

namespace npushare::cli {
namespace {

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Free>;
using CertPtr = std::unique_ptr<X509, Free>;
using BioPtr = std::unique_ptr<BIO, Free>;

Status OpenSslError(const std::string& what) {
  char buf[256] = "unknown error";
  if (unsigned long e = ERR_get_error(); e != 0) {
    ERR_error_string_n(e, buf, sizeof buf);
  }
  ERR_clear_error();
  return InternalError(what + ": " + buf);
}

bool IsIpAddress(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

Status AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, Free> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return OpenSslError("adding extension " + std::string(OBJ_nid2sn(nid)) + "=" + value);
  }
  return OkStatus();
}

Result<KeyPtr> NewKey() {
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) {
    return OpenSslError("generating a P-256 key");
  }
  return key;
}

Status RandomSerial(X509* cert) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    return OpenSslError("RAND_bytes");
  }
  bytes[0] &= 0x7f;  // positive
  std::unique_ptr<BIGNUM, Free> bn(BN_bin2bn(bytes, sizeof bytes, nullptr));
  if (!bn || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) == nullptr) {
    return OpenSslError("setting the serial number");
  }
  return OkStatus();
}

Result<CertPtr> NewCert(EVP_PKEY* key, const std::string& cn, int days) {
  CertPtr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), 2) != 1) {
    return OpenSslError("X509_new");
  }
  NPUSHARE_RETURN_IF_ERROR(RandomSerial(cert.get()));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -300);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 86400);
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                 0) != 1 ||
      X509_set_pubkey(cert.get(), key) != 1) {
    return OpenSslError("setting subject/public key");
  }
  return cert;
}

Result<std::string> Pem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
    return OpenSslError("PEM_write_bio_X509");
  }
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

Result<std::string> Pem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpenSslError("PEM_write_bio_PrivateKey");
  }
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

}  // namespace

Result<DevelopmentPki> MakeDevelopmentPki(const std::vector<std::string>& hosts, int days) {
  if (hosts.empty()) {
    return InvalidArgumentError("at least one --host is needed");
  }
  if (days < 1 || days > 3650) {
    return InvalidArgumentError("--days must be between 1 and 3650");
  }
  std::string san;
  for (const auto& h : hosts) {
    if (h.empty() || h.size() > 253 || h.find_first_of(",\n\r ") != std::string::npos) {
      return InvalidArgumentError("host \"" + h + "\" is not a DNS name or IP address");
    }
    san += (san.empty() ? "" : ",") + std::string(IsIpAddress(h) ? "IP:" : "DNS:") + h;
  }
  ERR_clear_error();

  NPUSHARE_ASSIGN_OR_RETURN(KeyPtr ca_key, NewKey());
  NPUSHARE_ASSIGN_OR_RETURN(CertPtr ca, NewCert(ca_key.get(), "npushare development CA", days));
  X509_set_issuer_name(ca.get(), X509_get_subject_name(ca.get()));
  NPUSHARE_RETURN_IF_ERROR(
      AddExtension(ca.get(), ca.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0"));
  NPUSHARE_RETURN_IF_ERROR(
      AddExtension(ca.get(), ca.get(), NID_key_usage, "critical,keyCertSign,cRLSign"));
  NPUSHARE_RETURN_IF_ERROR(AddExtension(ca.get(), ca.get(), NID_subject_key_identifier, "hash"));
  if (X509_sign(ca.get(), ca_key.get(), EVP_sha256()) == 0) {
    return OpenSslError("signing the CA certificate");
  }

  NPUSHARE_ASSIGN_OR_RETURN(KeyPtr key, NewKey());
  NPUSHARE_ASSIGN_OR_RETURN(CertPtr cert, NewCert(key.get(), hosts.front(), days));
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca.get()));
  NPUSHARE_RETURN_IF_ERROR(
      AddExtension(cert.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE"));
  NPUSHARE_RETURN_IF_ERROR(
      AddExtension(cert.get(), ca.get(), NID_key_usage, "critical,digitalSignature"));
  NPUSHARE_RETURN_IF_ERROR(AddExtension(cert.get(), ca.get(), NID_ext_key_usage, "serverAuth"));
  NPUSHARE_RETURN_IF_ERROR(AddExtension(cert.get(), ca.get(), NID_subject_alt_name, san));
  NPUSHARE_RETURN_IF_ERROR(
      AddExtension(cert.get(), ca.get(), NID_authority_key_identifier, "keyid:always"));
  if (X509_sign(cert.get(), ca_key.get(), EVP_sha256()) == 0) {
    return OpenSslError("signing the serving certificate");
  }

  DevelopmentPki out;
  NPUSHARE_ASSIGN_OR_RETURN(out.ca_cert_pem, Pem(ca.get()));
  NPUSHARE_ASSIGN_OR_RETURN(out.cert_pem, Pem(cert.get()));
  NPUSHARE_ASSIGN_OR_RETURN(out.key_pem, Pem(key.get()));
  return out;
}

}  // namespace npushare::cli
