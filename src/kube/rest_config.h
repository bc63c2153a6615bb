// File: kube/rest_config.h
//
// RestConfig: where the API server is and how to authenticate to it, loaded the way client-go
// does (k8s-apis.md §4.1, §4.2):
//   1. an explicit kubeconfig path (--kubeconfig), else
//   2. $KUBECONFIG (':'-separated list, merged: the first file to define a name wins), else
//   3. in-cluster (KUBERNETES_SERVICE_HOST/PORT + the service-account token and CA), else
//   4. ~/.kube/config.
// The context is `context_override` when non-empty, else the merged `current-context`.
// Not supported (ignored): `exec` and `auth-provider` credential plugins, `proxy-url`,
// `tls-server-name`.
//
// Usage:
//   LoadOptions load;
//   load.kubeconfig = flag_path;
//   NPUSHARE_ASSIGN_OR_RETURN(RestConfig cfg, LoadRestConfig(load));
//   CurlTransport transport(cfg);
//
// Thread safety: pure functions over values (they read files and the environment).
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"

namespace npushare::kube {

// RestConfig: connection and credential settings. File paths are absolute after loading.
struct RestConfig {
  // --- correctness ---
  // server: base URL, "https://10.0.0.1:6443" or "http://127.0.0.1:NNNN"; no trailing '/'.
  std::string server;
  // TLS trust: a CA bundle file or inline PEM (certificate-authority-data, decoded).
  std::string ca_file;
  std::string ca_data;
  // Client certificate authentication (file or inline PEM for each).
  std::string client_cert_file;
  std::string client_cert_data;
  std::string client_key_file;
  std::string client_key_data;
  // insecure_skip_tls_verify: do not verify the server certificate. Default false.
  bool insecure_skip_tls_verify = false;
  // bearer_token: sent as "Authorization: Bearer"; bearer_token_file is re-read every
  // token_reload_period (bound service-account tokens rotate) and wins over bearer_token.
  std::string bearer_token;
  std::string bearer_token_file;
  std::chrono::seconds token_reload_period{60};
  std::string username;
  std::string password;
  // namespace_name: the context's namespace (in-cluster: the pod's), default "default".
  std::string namespace_name = "default";

  // --- parameters that affect performance ---
  // connect_timeout: TCP+TLS connect limit. Default 10 s.
  std::chrono::milliseconds connect_timeout{10000};
  // request_timeout: whole-request limit for non-watch calls. Default 30 s; a lower value
  // fails faster against a slow server but may cut large LISTs.
  std::chrono::milliseconds request_timeout{30000};
  // qps / burst: client-side token bucket (client-go defaults are 5/10; node agents use ~20).
  double qps = 20;
  int burst = 40;
  std::string user_agent = "npushare/0.1.0 (linux/amd64)";
};

// LoadOptions: inputs of LoadRestConfig. Empty strings mean "not given".
struct LoadOptions {
  std::string kubeconfig;        // --kubeconfig
  std::string context_override;  // --context
  // getenv: environment lookup (tests inject); defaults to ::getenv.
  std::function<std::string(const char*)> getenv;
  // service_account_dir: in-cluster credential directory (tests inject a temp dir).
  std::string service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
};

// LoadRestConfig: resolves a RestConfig in the order above.
// @return kNotFound when no source is available; kInvalidArgument for a malformed kubeconfig,
//   a missing context/cluster/user, or bad base64 data; kFailedPrecondition when a referenced
//   file cannot be read.
Result<RestConfig> LoadRestConfig(const LoadOptions& options);

// LoadKubeconfigFiles: resolves `context` (or current-context when empty) across the merged
// files. Errors as LoadRestConfig.
Result<RestConfig> LoadKubeconfigFiles(const std::vector<std::string>& paths,
                                       const std::string& context);

// InClusterConfig: kNotFound when KUBERNETES_SERVICE_HOST or _PORT is unset;
// kFailedPrecondition when the token file is unreadable.
Result<RestConfig> InClusterConfig(const LoadOptions& options);

// Base64Decode: standard alphabet, padding optional, whitespace ignored; kInvalidArgument else.
Result<std::string> Base64Decode(std::string_view in);

}  // namespace npushare::kube
