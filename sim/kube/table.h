// File: sim/kube/table.h
//
// Server-side printing (meta.k8s.io/v1 Table), which `kubectl get` asks for with
// `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`. Columns follow kube-apiserver:
//   pods:  Name, Ready, Status, Restarts, Age
//   nodes: Name, Status, Roles, Age, Version
//   other: Name, Age
// Each row carries the object as PartialObjectMetadata (default, or `includeObject=Metadata`),
// the full object (`includeObject=Object`), or nothing (`includeObject=None`).
//
// Thread safety: pure functions.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "sim/kube/object_store.h"
#include "sim/kube/resource_registry.h"

namespace npushare::kube_local {

// WantsTable: whether an Accept header asks for a Table.
bool WantsTable(std::string_view accept);

// MakeTable: a Table of `objects` at list resourceVersion `rv` ("" for a single object).
// `continue_token` is copied into metadata.continue when non-empty.
nlohmann::json MakeTable(const ResourceInfo& info, const std::vector<ObjectPtr>& objects,
                         const std::string& rv, const std::string& continue_token,
                         std::string_view include_object,
                         std::chrono::system_clock::time_point now);

// HumanAge: kubectl-style age ("45s", "3m12s", "5h", "12d", "2y40d").
std::string HumanAge(std::chrono::seconds age);

}  // namespace npushare::kube_local
