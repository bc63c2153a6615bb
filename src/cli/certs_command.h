// File: cli/certs_command.h
//
// `npushare certs --out DIR [--host NAME...] [--days N] [--force]`: writes a development CA
// and serving pair (cli/dev_pki.h) in cert-manager's Secret layout, so the files can be
// mounted where npushare-scheduler's --cert_file/--key_file point, and ca.crt pasted (base64)
// into the MutatingWebhookConfiguration's caBundle:
//   DIR/ca.crt   0644   the CA certificate (the CA key is not kept: nothing else is signed)
//   DIR/tls.crt  0644   serving certificate
//   DIR/tls.key  0600   serving key
// Files are written atomically. If any of them exists the command refuses (exit 1) unless
// --force. DIR is created (0755) when missing.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace npushare::cli {

struct CertsArgs {
  std::string out_dir;
  // hosts: DNS names / IP addresses for subjectAltName; the first is the CN. Default
  // localhost and 127.0.0.1 (add <service>.<namespace>.svc for an in-cluster webhook).
  std::vector<std::string> hosts;
  int days = 365;
  bool force = false;
};

// RunCerts: returns the process exit code (0 written, 1 refused or failed); messages go to
// `err`, the list of files written to `out`.
int RunCerts(const CertsArgs& args, std::ostream& out, std::ostream& err);

}  // namespace npushare::cli
