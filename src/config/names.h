// File: config/names.h
//
// Syntax checks for the names a config hands to Kubernetes and to HAMi's annotation keys.
// Each returns "" when `s` is valid, else a short reason for a diagnostic. Pure functions,
// thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace npushare::config {

// The commonWord is spliced into annotation keys; the longest is
// "hami.io/<cw>-devices-to-allocate", whose name part ("<cw>-devices-to-allocate", 20 extra
// characters) must be a qualified-name part of at most 63 characters. Hence 43, stricter
// than a bare 63, so that every key HAMi derives from <cw> stays valid.
inline constexpr size_t kMaxCommonWordLength = 43;

// CommonWordProblem: [A-Za-z0-9] first and last, [A-Za-z0-9._-] inside, <= 43 characters.
std::string CommonWordProblem(std::string_view s);
// ExtendedResourceNameProblem: "<dns-1123 subdomain>/<qualified name part>", not in the
// kubernetes.io namespace (those names are native, not extended), as the API server checks.
std::string ExtendedResourceNameProblem(std::string_view s);
// Dns1123SubdomainProblem: lowercase RFC 1123 subdomain, <= 253 characters (node and
// RuntimeClass names).
std::string Dns1123SubdomainProblem(std::string_view s);
// QualifiedNamePartProblem: [A-Za-z0-9] first and last, [-A-Za-z0-9_.] inside, <= 63.
std::string QualifiedNamePartProblem(std::string_view s);
// TemplateNameProblem: [A-Za-z0-9_.-], 1..63 characters. Template names travel in
// ASCEND_VNPU_SPECS and in annotation values.
std::string TemplateNameProblem(std::string_view s);

}  // namespace npushare::config
