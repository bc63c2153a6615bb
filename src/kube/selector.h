// File: kube/selector.h
//
// Label and field selectors in the API server's string syntax (k8s-apis.md §4.3), parsed into
// values that can be matched against objects. The local API server filters with them; clients
// use them to filter caches the same way the server does.
//
//   labels: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a)`, `k` (exists), `!k`; ',' is AND.
//   fields: `path=v`, `path==v`, `path!=v`; ',' is AND. Paths are dotted JSON paths
//           (`metadata.name`, `spec.nodeName`, `status.phase`); a missing field reads as "".
//
// Usage:
//   NPUSHARE_ASSIGN_OR_RETURN(LabelSelector sel, LabelSelector::Parse("app=web,tier!=db"));
//   if (sel.Matches(pod)) ...
//
// Thread safety: values; const methods are safe for concurrent use.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace npushare::kube {

// LabelSelector: a parsed label selector. The empty selector matches everything.
class LabelSelector {
 public:
  // Parse: kInvalidArgument on a syntax error or an input longer than 4096 bytes.
  static Result<LabelSelector> Parse(std::string_view text);
  // Matches: whether `object`'s metadata.labels satisfy every requirement.
  bool Matches(const nlohmann::json& object) const;
  bool empty() const { return reqs_.empty(); }

 private:
  enum class Op { kEq, kNotEq, kIn, kNotIn, kExists, kNotExists };
  struct Requirement {
    std::string key;
    Op op;
    std::vector<std::string> values;
  };
  std::vector<Requirement> reqs_;
};

// FieldSelector: a parsed field selector. The empty selector matches everything.
class FieldSelector {
 public:
  // Parse: kInvalidArgument on a syntax error or an input longer than 4096 bytes.
  static Result<FieldSelector> Parse(std::string_view text);
  bool Matches(const nlohmann::json& object) const;
  bool empty() const { return reqs_.empty(); }

 private:
  struct Requirement {
    std::vector<std::string> path;
    bool equal;
    std::string value;
  };
  std::vector<Requirement> reqs_;
};

// FieldAsString: the value at a dotted path rendered as the API server does for field
// selectors (strings verbatim, booleans "true"/"false", numbers in decimal, missing as "").
std::string FieldAsString(const nlohmann::json& object, const std::vector<std::string>& path);

}  // namespace npushare::kube
