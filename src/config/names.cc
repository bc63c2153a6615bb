#include "config/names.h"

namespace npushare::config {
namespace {

bool IsLowerAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool IsAlnum(char c) {
  return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z');
}

// Dns1123LabelOk: [a-z0-9]([-a-z0-9]*[a-z0-9])?, 1..63 characters.
bool Dns1123LabelOk(std::string_view s) {
  if (s.empty() || s.size() > 63) {
    return false;
  }
  if (!IsLowerAlnum(s.front()) || !IsLowerAlnum(s.back())) {
    return false;
  }
  for (char c : s) {
    if (!IsLowerAlnum(c) && c != '-') {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string Dns1123SubdomainProblem(std::string_view s) {
  if (s.empty()) {
    return "must not be empty";
  }
  if (s.size() > 253) {
    return "must be at most 253 characters";
  }
  size_t start = 0;
  while (true) {
    const size_t dot = s.find('.', start);
    const std::string_view label =
        s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    if (!Dns1123LabelOk(label)) {
      return "must be a lowercase RFC 1123 subdomain ([a-z0-9] and '-', dot-separated labels "
             "starting and ending with [a-z0-9])";
    }
    if (dot == std::string_view::npos) {
      return "";
    }
    start = dot + 1;
  }
}

std::string QualifiedNamePartProblem(std::string_view s) {
  if (s.empty()) {
    return "must not be empty";
  }
  if (s.size() > 63) {
    return "must be at most 63 characters";
  }
  if (!IsAlnum(s.front()) || !IsAlnum(s.back())) {
    return "must start and end with an alphanumeric character";
  }
  for (char c : s) {
    if (!IsAlnum(c) && c != '-' && c != '_' && c != '.') {
      return "may contain only [A-Za-z0-9], '-', '_' and '.'";
    }
  }
  return "";
}

std::string CommonWordProblem(std::string_view s) {
  if (s.empty()) {
    return "must not be empty";
  }
  if (s.size() > kMaxCommonWordLength) {
    return "must be at most " + std::to_string(kMaxCommonWordLength) +
           " characters so that hami.io/<cw>-devices-to-allocate is a valid annotation key";
  }
  if (!IsAlnum(s.front()) || !IsAlnum(s.back())) {
    return "must start and end with an alphanumeric character (it is spliced into annotation "
           "keys)";
  }
  for (char c : s) {
    if (!IsAlnum(c) && c != '-' && c != '_' && c != '.') {
      return "may contain only [A-Za-z0-9], '.', '_' and '-' (it is spliced into annotation keys)";
    }
  }
  return "";
}

std::string ExtendedResourceNameProblem(std::string_view s) {
  const size_t slash = s.find('/');
  if (slash == std::string_view::npos) {
    return "must be <domain>/<name>, e.g. huawei.com/Ascend910B3";
  }
  const std::string_view domain = s.substr(0, slash);
  const std::string_view name = s.substr(slash + 1);
  if (std::string p = Dns1123SubdomainProblem(domain); !p.empty()) {
    return "domain " + p;
  }
  // The API server also validates "requests.<name>" for quota, which costs 9 characters.
  if (domain.size() > 253 - 9) {
    return "domain is too long";
  }
  if (domain == "kubernetes.io" || (domain.size() > 14 && domain.ends_with(".kubernetes.io"))) {
    return "the kubernetes.io domain is reserved for native resources";
  }
  if (std::string p = QualifiedNamePartProblem(name); !p.empty()) {
    return "name part " + p;
  }
  return "";
}

std::string TemplateNameProblem(std::string_view s) {
  if (s.empty()) {
    return "must not be empty";
  }
  if (s.size() > 63) {
    return "must be at most 63 characters";
  }
  for (char c : s) {
    if (!IsAlnum(c) && c != '-' && c != '_' && c != '.') {
      return "may contain only [A-Za-z0-9], '.', '_' and '-'";
    }
  }
  return "";
}

}  // namespace npushare::config
