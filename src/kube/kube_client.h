// File: kube/kube_client.h
//
// KubeClient: typed REST operations against the Kubernetes API over an HttpTransport, with a
// client-side token-bucket rate limit and retries. Objects are nlohmann::json so unknown fields
// survive read-modify-write.
//
// Retry policy (k8s-apis.md §4.11, §4.12):
//   - 429 is retried for every verb (the server refused before doing anything);
//   - 5xx and "connection broken/timed out" are retried only for idempotent verbs
//     (GET, PUT, DELETE), plus 503 with Retry-After for any verb;
//   - "could not connect" (kUnavailable from the transport) is retried for every verb;
//   - the delay is exponential (initial_backoff * 2^attempt, capped) with jitter in [d/2, d],
//     raised to Retry-After when the server sends one.
// Errors come from api_error.h (HTTP/Status mapping); a 2xx body that is not valid JSON yields
// kDataLoss. A connection broken after sending is reported as kUnavailable once retries are
// exhausted (or at once for POST/PATCH): for a non-idempotent call that means "may or may not
// have happened"; re-read before retrying it. Watch streams end with OK on a normal close,
// IsGone() on 410 (HTTP status or ERROR event), another mapped error for other ERROR events.
//
// Usage:
//   KubeClient client(transport, ClientOptions{});
//   NPUSHARE_ASSIGN_OR_RETURN(auto pod, client.Get(kPods, "default", "web-0"));
//   NPUSHARE_RETURN_IF_ERROR(client.Patch(kNodes, "", node, PatchType::kMerge,
//                            {{"metadata", {{"annotations", {{"k", "v"}}}}}}).status());
//
// Thread safety: safe for concurrent use without external synchronization.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "kube/clock.h"
#include "kube/http_transport.h"
#include "kube/rate_limiter.h"
#include "kube/resource.h"

namespace npushare::kube {

enum class PatchType {
  kMerge,           // application/merge-patch+json (RFC 7386)
  kStrategicMerge,  // application/strategic-merge-patch+json (built-in types only)
  kJson,            // application/json-patch+json (RFC 6902 op list)
};

// ClientOptions: retry and rate-limit tuning. All have safe defaults.
struct ClientOptions {
  // --- correctness ---
  // max_retries: additional attempts after the first; 0 disables retries. Default 5.
  int max_retries = 5;
  // --- parameters that affect performance ---
  double qps = 20;  // token-bucket refill rate; <= 0 disables the limiter
  int burst = 40;
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{10000};
  // max_retry_after: cap on a server's Retry-After. Default 60 s.
  std::chrono::seconds max_retry_after{60};
  // max_watch_line_bytes: a watch event larger than this ends the stream. Default 64 MiB.
  size_t max_watch_line_bytes = size_t{64} << 20;
  // jitter_seed: seeds the jitter generator (tests fix it).
  uint64_t jitter_seed = 0x6e707573;
};

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  int64_t limit = 0;           // 0: no paging
  std::string continue_token;  // from metadata.continue of the previous page
  std::string resource_version;
};

struct WatchOptions {
  std::string label_selector;
  std::string field_selector;
  // resource_version: "" (synthetic ADDED for current state first), "0", or an RV to resume.
  std::string resource_version;
  bool allow_bookmarks = true;
  int timeout_seconds = 0;  // server-side watch duration; 0 = server default
};

struct PatchOptions {
  std::string subresource;  // "" or "status"
  // resource_version: when set, a precondition: merge/strategic patches carry it in
  // metadata.resourceVersion, JSON patches get a leading `test` op. Mismatch -> IsConflict
  // (merge/strategic) or kInvalidArgument (JSON patch `test` failure, HTTP 422).
  std::string resource_version;
};

struct DeleteOptions {
  std::optional<int64_t> grace_period_seconds;
  std::string uid_precondition;
};

// WatchEvent: one decoded event. `type` is ADDED, MODIFIED, DELETED or BOOKMARK.
struct WatchEvent {
  std::string type;
  nlohmann::json object;
};
// WatchHandler: return false to end the watch (Watch() then returns OK).
using WatchHandler = std::function<bool(WatchEvent&& event)>;

class KubeClient {
 public:
  // KubeClient: REQUIRES: transport and clock outlive this.
  KubeClient(HttpTransport& transport, ClientOptions options, Clock& clock = RealClock());
  KubeClient(const KubeClient&) = delete;
  KubeClient& operator=(const KubeClient&) = delete;

  // Get: the object, or kNotFound etc.
  Result<nlohmann::json> Get(const ResourceType& type, std::string_view ns, std::string_view name);

  // List: one page (a *List object with metadata.resourceVersion / metadata.continue).
  Result<nlohmann::json> List(const ResourceType& type, std::string_view ns,
                              const ListOptions& options);

  // ListAll: follows continue tokens (page size options.limit, 500 when 0) and returns one List
  // whose metadata.resourceVersion is the first page's. IsGone() when a token expires.
  Result<nlohmann::json> ListAll(const ResourceType& type, std::string_view ns,
                                 ListOptions options);

  // Create: POST; returns the stored object. kAlreadyExists when the name is taken.
  Result<nlohmann::json> Create(const ResourceType& type, std::string_view ns,
                                const nlohmann::json& object);

  // Update: PUT of the whole object (or its `subresource`, e.g. "status"). The object's
  // metadata.resourceVersion, when set, is a precondition: IsConflict() when stale.
  Result<nlohmann::json> Update(const ResourceType& type, std::string_view ns,
                                const nlohmann::json& object, std::string_view subresource = {});

  // Patch: returns the patched object. See PatchOptions for preconditions.
  Result<nlohmann::json> Patch(const ResourceType& type, std::string_view ns, std::string_view name,
                               PatchType patch_type, const nlohmann::json& patch,
                               const PatchOptions& options = {});

  // Delete: OK when deleted or deletion started (graceful); kNotFound when absent.
  Status Delete(const ResourceType& type, std::string_view ns, std::string_view name,
                const DeleteOptions& options = {});

  // Bind: POST pods/<pod>/binding to `node`; `annotations` are merged into the pod's.
  // IsConflict() when the pod is already bound or being deleted, or the uid does not match.
  Status Bind(std::string_view ns, std::string_view pod, std::string_view node,
              const std::map<std::string, std::string>& annotations = {},
              std::string_view pod_uid = {});

  // RecordEvent: creates a core/v1 Event about `involved` (a full object with kind/apiVersion).
  // `type` is "Normal" or "Warning". Returns the created Event.
  Result<nlohmann::json> RecordEvent(const nlohmann::json& involved, std::string_view type,
                                     std::string_view reason, std::string_view message,
                                     std::string_view component);

  // Watch: streams events to `handler` until the server closes the stream (OK), the handler
  // returns false (OK), `cancel` fires (kCancelled), the RV is too old (IsGone), or an error.
  // REQUIRES: handler does not call back into this watch.
  Status Watch(const ResourceType& type, std::string_view ns, const WatchOptions& options,
               const WatchHandler& handler, StreamCancel* cancel = nullptr);

 private:
  enum class Verb { kIdempotent, kNonIdempotent };
  Result<HttpResponse> Execute(const HttpRequest& request, Verb verb);
  Result<nlohmann::json> ExecuteJson(const HttpRequest& request, Verb verb);
  std::chrono::nanoseconds Backoff(int attempt);

  HttpTransport& transport_;
  const ClientOptions options_;
  Clock& clock_;
  TokenBucket limiter_;
  Mutex rng_mu_;
  std::mt19937_64 rng_ NPUSHARE_GUARDED_BY(rng_mu_);
};

// ParseJson: parses `text` without throwing; kDataLoss with `what` in the message on failure.
Result<nlohmann::json> ParseJson(std::string_view text, std::string_view what);

}  // namespace npushare::kube
