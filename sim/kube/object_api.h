// File: sim/kube/object_api.h
//
// ObjectApi: the REST semantics of the local API server, independent of HTTP: create / get /
// list / update / patch / delete / bind on an ObjectStore, with the API server's metadata
// rules (uid, creationTimestamp, generation, resourceVersion preconditions -> 409, name and
// namespace checks, status subresources, graceful pod deletion) and Status error bodies.
//
// Every method returns an ApiResult: the HTTP code and the JSON body (the object, a List, or
// a `Status` object on failure). Bodies are parsed defensively; nothing here throws.
//
// Thread safety: safe for concurrent use (all state is in the ObjectStore).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "sim/kube/admission.h"
#include "sim/kube/api_result.h"
#include "sim/kube/object_store.h"
#include "sim/kube/resource_registry.h"

namespace npushare::kube_local {

struct ListQuery {
  std::string label_selector;
  std::string field_selector;
  int64_t limit = 0;
  std::string continue_token;
};

// MakeStatusBody: a metav1.Status for `status` (HTTP code and reason from api_error.h's
// mapping, or `code_override` when non-zero).
ApiResult ErrorResult(const Status& status, const std::string& name = {},
                      const std::string& kind = {}, int code_override = 0);

class ObjectApi {
 public:
  // ObjectApi: REQUIRES: store outlives this.
  explicit ObjectApi(ObjectStore& store) : store_(store) {}

  // EnsureDefaultNamespaces: creates default, kube-system, kube-public, kube-node-lease.
  void EnsureDefaultNamespaces();

  ApiResult Get(const ResourceInfo& info, const std::string& ns, const std::string& name) const;
  ApiResult List(const ResourceInfo& info, const std::string& ns, const ListQuery& q) const;
  // ListObjects: the page List() would serialize. On error, `error` holds the Status answer.
  struct ListPageResult {
    std::optional<ApiResult> error;
    std::vector<ObjectPtr> items;
    std::string resource_version;
    std::string continue_token;
  };
  ListPageResult ListObjects(const ResourceInfo& info, const std::string& ns,
                             const ListQuery& q) const;
  // SetAdmission: Create/Update/Patch of main resources then go through `admission` (see
  // admission.h) before they are stored. nullptr (the default) turns admission off.
  // REQUIRES: admission outlives this; called before requests are served.
  void SetAdmission(AdmissionController* admission) { admission_ = admission; }

  // Create / Update / Patch / Delete: `dry_run` (the dryRun=All query parameter) runs every
  // check and admission (webhooks see dryRun: true) and answers as the real call would, but
  // stores nothing.
  ApiResult Create(const ResourceInfo& info, const std::string& ns, const std::string& body,
                   bool dry_run = false);
  ApiResult Update(const ResourceInfo& info, const std::string& ns, const std::string& name,
                   const std::string& subresource, const std::string& body, bool dry_run = false);
  ApiResult Patch(const ResourceInfo& info, const std::string& ns, const std::string& name,
                  const std::string& subresource, const std::string& content_type,
                  const std::string& body, bool dry_run = false);
  // Delete: `grace_query` is the gracePeriodSeconds query parameter, if any.
  ApiResult Delete(const ResourceInfo& info, const std::string& ns, const std::string& name,
                   const std::string& body, std::optional<int64_t> grace_query,
                   bool dry_run = false);
  ApiResult Bind(const std::string& ns, const std::string& name, const std::string& body);

  // ReapExpiredPods: deletes pods whose graceful deletion deadline is <= now. Returns the
  // earliest remaining deadline, if any (the server's reaper sleeps until then).
  std::optional<std::chrono::system_clock::time_point> ReapExpiredPods(
      std::chrono::system_clock::time_point now);

  // FinishNamespaceDeletions: for every terminating namespace, deletes what is left in it and
  // removes the namespace once it is empty (the server's reaper calls this periodically).
  void FinishNamespaceDeletions();

  static std::string Key(const ResourceInfo& info, const std::string& ns, const std::string& name);
  // IsImmortalNamespace: default, kube-system and kube-public cannot be deleted (403).
  static bool IsImmortalNamespace(const std::string& name);

 private:
  // CommitUpdate: stores mutate(current) for Update/Patch, through admission (UPDATE) when it
  // is interested and `subresource` is empty, retrying when the object changed meanwhile.
  ApiResult CommitUpdate(const ResourceInfo& info, const std::string& ns, const std::string& name,
                         const std::string& subresource, const ObjectStore::Mutator& mutate,
                         bool dry_run);

  // DeleteNamespace: marks it Terminating (deletionTimestamp, status.phase) and deletes its
  // contents; the namespace itself goes once no pod is left (at once when none is bound).
  ApiResult DeleteNamespace(const std::string& name,
                            const std::function<Status(const nlohmann::json&)>& precondition);
  // FinishNamespaceDeletion: one round of the above; true when the namespace is gone.
  bool FinishNamespaceDeletion(const std::string& name);

  ObjectStore& store_;
  AdmissionController* admission_ = nullptr;
};

// ParseContinueToken: {rv, last key} of a token made by List(); kInvalidArgument if malformed.
Result<std::pair<int64_t, std::string>> ParseContinueToken(const std::string& token);

}  // namespace npushare::kube_local
