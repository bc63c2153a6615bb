// File: cli/dev_pki.h
//
// MakeDevelopmentPki: a self-signed CA and a serving certificate signed by it, made with
// OpenSSL's C API, for running npushare-scheduler's webhook/extender over TLS without
// cert-manager (`npushare certs`). Not for production: nothing rotates these.
//
//   CA      CN "npushare development CA", basicConstraints critical CA:TRUE pathlen:0,
//           keyUsage critical keyCertSign+cRLSign, subjectKeyIdentifier
//   serving CN <first host>, subjectAltName DNS:<name> / IP:<address> for every host,
//           basicConstraints critical CA:FALSE, keyUsage critical digitalSignature,
//           extendedKeyUsage serverAuth, authorityKeyIdentifier
// Keys are ECDSA P-256 (PKCS#8 PEM, unencrypted); serials are 128 random bits; validity
// starts 5 minutes in the past (clock skew) and lasts `days`.
//
// Thread safety: pure function (OpenSSL 3 is thread-safe).
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace npushare::cli {

struct DevelopmentPki {
  std::string ca_cert_pem;
  std::string cert_pem;  // serving certificate (leaf only)
  std::string key_pem;   // serving key
};

// MakeDevelopmentPki: kInvalidArgument when `hosts` is empty, a host is empty/too long or
// `days` is outside 1..3650; kInternal when OpenSSL fails.
Result<DevelopmentPki> MakeDevelopmentPki(const std::vector<std::string>& hosts, int days);

}  // namespace npushare::cli
