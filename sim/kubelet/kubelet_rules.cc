#include "sim/kubelet/kubelet_rules.h"

#include <algorithm>
#include <set>

namespace npushare::kubelet_sim {
namespace {

bool IsLowerAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool IsAlnum(char c) {
  return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z');
}

// DNS-1123 subdomain: at most 253 characters, dot-separated labels of [a-z0-9-] that start and
// end alphanumeric.
bool IsDns1123Subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) {
    return false;
  }
  size_t start = 0;
  while (start <= s.size()) {
    size_t dot = s.find('.', start);
    std::string_view label = s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    if (label.empty() || !IsLowerAlnum(label.front()) || !IsLowerAlnum(label.back())) {
      return false;
    }
    for (char c : label) {
      if (!IsLowerAlnum(c) && c != '-') {
        return false;
      }
    }
    if (dot == std::string_view::npos) {
      break;
    }
    start = dot + 1;
  }
  return true;
}

// Qualified name part: ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9], at most 63 characters.
bool IsQualifiedNamePart(std::string_view s) {
  if (s.empty() || s.size() > 63 || !IsAlnum(s.front()) || !IsAlnum(s.back())) {
    return false;
  }
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return IsAlnum(c) || c == '-' || c == '_' || c == '.'; });
}

bool IsQualifiedName(std::string_view s) {
  size_t slash = s.find('/');
  if (slash == std::string_view::npos) {
    return IsQualifiedNamePart(s);
  }
  if (s.find('/', slash + 1) != std::string_view::npos) {
    return false;
  }
  return IsDns1123Subdomain(s.substr(0, slash)) && IsQualifiedNamePart(s.substr(slash + 1));
}

}  // namespace

bool IsExtendedResourceName(std::string_view name) {
  // Native resources: no '/' at all, or anything in the kubernetes.io domain.
  if (name.find('/') == std::string_view::npos ||
      name.find("kubernetes.io/") != std::string_view::npos) {
    return false;
  }
  if (name.substr(0, 9) == "requests.") {
    return false;
  }
  return IsQualifiedName("requests." + std::string(name));
}

Status CheckRegisterRequest(std::string_view version, std::string_view resource_name) {
  if (version != "v1beta1") {
    return Status(StatusCode::kUnknown, "requested API version \"" + std::string(version) +
                                            "\" is not supported by kubelet. Supported version "
                                            "is [\"v1beta1\"]");
  }
  if (!IsExtendedResourceName(resource_name)) {
    return Status(StatusCode::kUnknown,
                  "the ResourceName \"" + std::string(resource_name) + "\" is invalid");
  }
  return OkStatus();
}

Result<std::vector<std::string>> PickDevices(const std::string& resource, int32_t required,
                                             const std::vector<std::string>& reusable,
                                             const std::vector<std::string>& available,
                                             const std::vector<std::string>& preferred) {
  if (required < 0) {
    return InvalidArgumentError("negative device count for " + resource);
  }
  std::vector<std::string> chosen;
  std::set<std::string> taken;
  auto take = [&](const std::string& id) {
    if (static_cast<int32_t>(chosen.size()) < required && taken.insert(id).second) {
      chosen.push_back(id);
    }
  };
  for (const auto& id : reusable) {
    take(id);
  }
  if (static_cast<int32_t>(chosen.size()) == required) {
    return chosen;
  }
  const size_t needed = static_cast<size_t>(required) - chosen.size();
  if (available.size() < needed) {
    return ResourceExhaustedError("requested number of devices unavailable for " + resource +
                                  ". Requested: " + std::to_string(needed) +
                                  ", Available: " + std::to_string(available.size()));
  }
  for (const auto& id : preferred) {
    if (std::binary_search(available.begin(), available.end(), id)) {
      take(id);
    }
  }
  for (const auto& id : available) {
    take(id);
  }
  return chosen;
}

bool NeedsPreferredAllocation(bool advertised, int32_t required, size_t reusable) {
  return advertised && static_cast<size_t>(std::max(required, 0)) > reusable;
}

}  // namespace npushare::kubelet_sim
