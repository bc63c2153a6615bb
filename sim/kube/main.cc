// kube-local: the local Kubernetes API server for tests and the demo (see docs/kube-local.md).
//   kube-local --address 127.0.0.1 --port 0 [--persist DIR]
//              [--tls-cert-file CRT --tls-private-key-file KEY [--client-ca-file CA]]
//              [--service-endpoint NS/NAME[:PORT]=HOST:PORT ...]
// prints "http://127.0.0.1:NNNNN" (or "https://…" with TLS) as its first line, then serves
// until SIGINT/SIGTERM.
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <iostream>

#include "sim/kube/api_server.h"

namespace {

int RunKubeLocal(int argc, char** argv) {
  CLI::App app{"kube-local: a small Kubernetes API server for tests and demos"};
  std::string address = "127.0.0.1";
  int port = 0;
  std::string persist;
  int bookmark_ms = 5000;
  npushare::kube_local::TlsServerOptions tls;
  app.add_option("--address", address, "listen address (default 127.0.0.1)");
  app.add_option("--port", port, "listen port; 0 picks a free one")->check(CLI::Range(0, 65535));
  app.add_option("--persist", persist,
                 "keep the store durable in this existing, writable directory (snapshot + "
                 "journal; every write is fsync'ed before it is answered)");
  app.add_option("--bookmark-interval-ms", bookmark_ms, "watch bookmark period (default 5000)")
      ->check(CLI::Range(10, 3600000));
  auto* cert = app.add_option("--tls-cert-file", tls.cert_file,
                              "serve HTTPS with this PEM certificate (chain)");
  auto* key =
      app.add_option("--tls-private-key-file", tls.key_file, "PEM private key for --tls-cert-file");
  app.add_option("--client-ca-file", tls.client_ca_file,
                 "require client certificates signed by a CA in this PEM bundle")
      ->needs(cert);
  std::vector<std::string> service_endpoints;
  app.add_option("--service-endpoint", service_endpoints,
                 "where a webhook's clientConfig.service is dialled: NS/NAME[:PORT]=HOST:PORT "
                 "(repeatable; kube-local has no cluster network)");
  cert->needs(key);
  key->needs(cert);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  // Block the stop signals before any thread starts so only sigwait() sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  npushare::kube_local::LocalApiServerOptions options;
  options.persist_dir = persist;
  options.bookmark_interval = std::chrono::milliseconds(bookmark_ms);
  options.tls = tls;
  for (const auto& flag : service_endpoints) {
    auto entry = npushare::kube_local::ParseServiceEndpoint(flag);
    if (!entry.ok()) {
      std::cerr << "kube-local: --service-endpoint: " << entry.status().ToString() << "\n";
      return 2;
    }
    options.webhooks.service_endpoints[entry->first] = entry->second;
  }
  npushare::kube_local::LocalApiServer server(options);
  auto bound = server.Start(address, port);
  if (!bound.ok()) {
    std::cerr << "kube-local: " << bound.status().ToString() << "\n";
    return 1;
  }
  std::cout << server.url() << std::endl;  // first line: the URL (flushed for the parent)
  int sig = 0;
  sigwait(&signals, &sig);
  server.Stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return RunKubeLocal(argc, argv);
}
