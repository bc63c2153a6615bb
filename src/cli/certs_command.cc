#include "cli/certs_command.h"

#include <sys/stat.h>

#include <cerrno>
#include <filesystem>
#include <ostream>

#include "cli/dev_pki.h"
#include "common/atomic_file.h"

namespace npushare::cli {

int RunCerts(const CertsArgs& args, std::ostream& out, std::ostream& err) {
  if (args.out_dir.empty()) {
    err << "npushare certs: --out is required\n";
    return 1;
  }
  namespace fs = std::filesystem;
  const fs::path dir(args.out_dir);
  const fs::path ca = dir / "ca.crt";
  const fs::path crt = dir / "tls.crt";
  const fs::path key = dir / "tls.key";
  std::error_code ec;
  if (!args.force) {
    for (const auto& p : {ca, crt, key}) {
      if (fs::symlink_status(p, ec).type() != fs::file_type::not_found) {
        err << "npushare certs: " << p.string()
            << " already exists; use --force to replace the pair\n";
        return 1;
      }
    }
  }
  if (!fs::exists(dir, ec)) {
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      err << "npushare certs: cannot create " << dir.string() << ": "
          << FileSystemError(errno, "mkdir").message() << "\n";
      return 1;
    }
  }
  std::vector<std::string> hosts = args.hosts;
  if (hosts.empty()) {
    hosts = {"localhost", "127.0.0.1"};
  }
  auto pki = MakeDevelopmentPki(hosts, args.days);
  if (!pki.ok()) {
    err << "npushare certs: " << pki.status().message() << "\n";
    return 1;
  }
  // Key first: a reader polling tls.crt never sees a new certificate without its key.
  for (const auto& [path, content, mode] :
       {std::tuple{key, &pki->key_pem, mode_t{0600}}, std::tuple{crt, &pki->cert_pem, mode_t{0644}},
        std::tuple{ca, &pki->ca_cert_pem, mode_t{0644}}}) {
    if (Status s = WriteFileAtomically(path.string(), *content, mode); !s.ok()) {
      err << "npushare certs: " << s.message() << "\n";
      return 1;
    }
    out << "wrote " << path.string() << "\n";
  }
  out << "serving certificate for";
  for (const auto& h : hosts) {
    out << " " << h;
  }
  out << ", valid " << args.days << " days\n";
  return 0;
}

}  // namespace npushare::cli
