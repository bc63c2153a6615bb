// File: scheduler/http/serving_certificate.h
//
// ServingCertificate: the TLS certificate + key that npushare-scheduler serves, read from PEM
// files (cert-manager's tls.crt / tls.key layout: leaf first, then any intermediates) and
// reloaded when they change, because cert-manager rotates them in place (an atomic symlink
// swap of the Secret volume's ..data, so paths stay and inodes change).
//
// How the new pair reaches connections: Install() gives the server's SSL_CTX a certificate
// callback that, at each handshake, puts the pair in force at that moment on the connection
// (SSL_use_cert_and_key). A reload builds a complete new immutable pair (certificate, chain,
// key, checked to match) and swaps a shared_ptr, so a handshake sees either the old or the new
// pair, never a mix, and connections already open keep theirs. A broken new pair (unreadable,
// not PEM, key not matching the certificate, half-written) is rejected: the old pair stays in
// force and the error is returned for the caller to log and count. The next change of either
// file is tried again (so "certificate written before key" heals on the key's write).
//
// Change detection: (device, inode, size, mtime in ns) of both paths, through stat() so
// symlinks are followed.
//
// Usage:
//   NPUSHARE_ASSIGN_OR_RETURN(auto cert, ServingCertificate::Load(cert_file, key_file));
//   httplib::SSLServer server([&](SSL_CTX& ctx) { return cert->Install(&ctx); });
//   ... every few seconds: auto changed = cert->ReloadIfChanged();   // log errors
//
// Thread safety: all methods are safe for concurrent use; the certificate callback runs on
// the server's connection threads. REQUIRES: the ServingCertificate outlives every SSL_CTX it
// was installed on.
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "common/status.h"
#include "common/thread_annotations.h"

namespace npushare::scheduler::http {

class ServingCertificate {
 public:
  // Load: reads and checks the first pair. kFailedPrecondition when a file cannot be read,
  // kInvalidArgument when the PEM is bad or the key does not match the certificate.
  static Result<std::unique_ptr<ServingCertificate>> Load(std::string cert_file,
                                                          std::string key_file);
  ~ServingCertificate();
  ServingCertificate(const ServingCertificate&) = delete;
  ServingCertificate& operator=(const ServingCertificate&) = delete;

  // Install: sets TLS >= 1.2 and the per-handshake certificate callback on `ctx`.
  // Returns true (the signature httplib's SSLServer setup callback expects).
  bool Install(SSL_CTX* ctx);

  // ReloadIfChanged: true when either file changed and the new pair is now in force; false
  // when nothing changed; an error (see Load) when the files changed but the new pair was
  // rejected — the previous pair stays in force.
  Result<bool> ReloadIfChanged() NPUSHARE_EXCLUDES(reload_mu_);

  // Generation: 1 after Load, +1 per successful reload.
  uint64_t Generation() const NPUSHARE_EXCLUDES(mu_);
  // Describe: "sha256=<first 8 bytes of the fingerprint> subject=<DN>" of the certificate in
  // force (for logs).
  std::string Describe() const;

  struct Pair;  // the immutable parsed material (defined in the .cc)
  struct Stamp {
    uint64_t dev = 0, ino = 0, size = 0;
    int64_t mtime_ns = 0;
    bool exists = false;
    friend bool operator==(const Stamp&, const Stamp&) = default;
  };

 private:
  ServingCertificate(std::string cert_file, std::string key_file);
  static int CertCallback(SSL* ssl, void* arg);
  std::shared_ptr<const Pair> Current() const NPUSHARE_EXCLUDES(mu_);

  const std::string cert_file_;
  const std::string key_file_;
  mutable Mutex mu_;
  std::shared_ptr<const Pair> pair_ NPUSHARE_GUARDED_BY(mu_);
  Stamp cert_stamp_ NPUSHARE_GUARDED_BY(mu_);  // of the last attempt
  Stamp key_stamp_ NPUSHARE_GUARDED_BY(mu_);
  uint64_t generation_ NPUSHARE_GUARDED_BY(mu_) = 0;
  Mutex reload_mu_;  // serialises ReloadIfChanged
};

}  // namespace npushare::scheduler::http
