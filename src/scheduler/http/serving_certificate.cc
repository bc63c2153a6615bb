#include "scheduler/http/serving_certificate.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <vector>

namespace npushare::scheduler::http {

// Pair: one parsed certificate chain and key; freed when the last handshake using it is done.
struct ServingCertificate::Pair {
  X509* cert = nullptr;
  STACK_OF(X509) * chain = nullptr;
  EVP_PKEY* key = nullptr;
  std::string description;
  Pair() = default;
  Pair(const Pair&) = delete;
  Pair& operator=(const Pair&) = delete;
  ~Pair() {
    X509_free(cert);
    sk_X509_pop_free(chain, X509_free);
    EVP_PKEY_free(key);
  }
};

namespace {

constexpr size_t kMaxPemBytes = 1 << 20;

std::string OpenSslError() {
  std::string out;
  unsigned long e = 0;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) {
      out += "; ";
    }
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

Result<std::string> ReadPem(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return FailedPreconditionError("cannot read " + path);
  }
  std::string data;
  data.resize(kMaxPemBytes + 1);
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  data.resize(static_cast<size_t>(in.gcount()));
  if (data.size() > kMaxPemBytes) {
    return InvalidArgumentError(path + " is larger than 1 MiB");
  }
  return data;
}

ServingCertificate::Stamp StampOf(const std::string& path) {
  ServingCertificate::Stamp s;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    s.exists = true;
    s.dev = static_cast<uint64_t>(st.st_dev);
    s.ino = static_cast<uint64_t>(st.st_ino);
    s.size = static_cast<uint64_t>(st.st_size);
    s.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  }
  return s;
}

Result<std::shared_ptr<const ServingCertificate::Pair>> ParsePair(const std::string& cert_file,
                                                                  const std::string& key_file) {
  NPUSHARE_ASSIGN_OR_RETURN(std::string cert_pem, ReadPem(cert_file));
  NPUSHARE_ASSIGN_OR_RETURN(std::string key_pem, ReadPem(key_file));
  ERR_clear_error();
  auto pair = std::make_shared<ServingCertificate::Pair>();
  {
    BIO* bio = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
    if (bio == nullptr) {
      return InternalError("BIO_new_mem_buf failed");
    }
    pair->cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    if (pair->cert != nullptr) {
      pair->chain = sk_X509_new_null();
      while (X509* extra = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
        sk_X509_push(pair->chain, extra);
      }
      ERR_clear_error();  // the loop ends on "no start line"
    }
    BIO_free(bio);
    if (pair->cert == nullptr) {
      return InvalidArgumentError(cert_file + " holds no PEM certificate: " + OpenSslError());
    }
  }
  {
    BIO* bio = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
    if (bio == nullptr) {
      return InternalError("BIO_new_mem_buf failed");
    }
    pair->key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    OPENSSL_cleanse(key_pem.data(), key_pem.size());
    if (pair->key == nullptr) {
      return InvalidArgumentError(key_file + " holds no PEM private key: " + OpenSslError());
    }
  }
  if (X509_check_private_key(pair->cert, pair->key) != 1) {
    ERR_clear_error();
    return InvalidArgumentError(key_file + " does not match the certificate in " + cert_file);
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (X509_digest(pair->cert, EVP_sha256(), md, &md_len) == 1) {
    static constexpr char kHex[] = "0123456789abcdef";
    pair->description = "sha256=";
    for (unsigned int i = 0; i < md_len && i < 8; ++i) {
      pair->description += kHex[md[i] >> 4];
      pair->description += kHex[md[i] & 15];
    }
  }
  char subject[256] = "";
  X509_NAME_oneline(X509_get_subject_name(pair->cert), subject, sizeof subject);
  pair->description += std::string(" subject=") + subject;
  return std::shared_ptr<const ServingCertificate::Pair>(std::move(pair));
}

}  // namespace

ServingCertificate::ServingCertificate(std::string cert_file, std::string key_file)
    : cert_file_(std::move(cert_file)), key_file_(std::move(key_file)) {}

ServingCertificate::~ServingCertificate() = default;

Result<std::unique_ptr<ServingCertificate>> ServingCertificate::Load(std::string cert_file,
                                                                     std::string key_file) {
  std::unique_ptr<ServingCertificate> out(
      new ServingCertificate(std::move(cert_file), std::move(key_file)));
  const Stamp cert_stamp = StampOf(out->cert_file_);
  const Stamp key_stamp = StampOf(out->key_file_);
  NPUSHARE_ASSIGN_OR_RETURN(auto pair, ParsePair(out->cert_file_, out->key_file_));
  MutexLock lock(&out->mu_);
  out->pair_ = std::move(pair);
  out->cert_stamp_ = cert_stamp;
  out->key_stamp_ = key_stamp;
  out->generation_ = 1;
  return out;
}

std::shared_ptr<const ServingCertificate::Pair> ServingCertificate::Current() const {
  MutexLock lock(&mu_);
  return pair_;
}

uint64_t ServingCertificate::Generation() const {
  MutexLock lock(&mu_);
  return generation_;
}

std::string ServingCertificate::Describe() const {
  auto p = Current();
  return p ? p->description : "";
}

int ServingCertificate::CertCallback(SSL* ssl, void* arg) {
  auto* self = static_cast<ServingCertificate*>(arg);
  std::shared_ptr<const Pair> pair = self->Current();
  if (!pair) {
    return 0;
  }
  // SSL_use_cert_and_key takes its own references (override = 1 replaces any earlier pair).
  return SSL_use_cert_and_key(ssl, pair->cert, pair->key, pair->chain, 1) == 1 ? 1 : 0;
}

bool ServingCertificate::Install(SSL_CTX* ctx) {
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_cert_cb(ctx, &ServingCertificate::CertCallback, this);
  return true;
}

Result<bool> ServingCertificate::ReloadIfChanged() {
  MutexLock reload_lock(&reload_mu_);
  const Stamp cert_stamp = StampOf(cert_file_);
  const Stamp key_stamp = StampOf(key_file_);
  {
    MutexLock lock(&mu_);
    if (cert_stamp == cert_stamp_ && key_stamp == key_stamp_) {
      return false;
    }
    // Remember the attempt either way: a rejected pair is retried on the next change.
    cert_stamp_ = cert_stamp;
    key_stamp_ = key_stamp;
  }
  NPUSHARE_ASSIGN_OR_RETURN(auto pair, ParsePair(cert_file_, key_file_));
  MutexLock lock(&mu_);
  pair_ = std::move(pair);
  ++generation_;
  return true;
}

}  // namespace npushare::scheduler::http
