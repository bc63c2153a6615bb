#include "kube/selector.h"

#include <algorithm>

namespace npushare::kube {
namespace {

constexpr size_t kMaxSelectorLength = 4096;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// SplitTopLevel: splits on ',' outside parentheses; kInvalidArgument on unbalanced parens.
Result<std::vector<std::string_view>> SplitTopLevel(std::string_view s) {
  std::vector<std::string_view> parts;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '(') {
      ++depth;
    } else if (s[i] == ')') {
      if (--depth < 0) {
        return InvalidArgumentError("unbalanced ')' in selector");
      }
    } else if (s[i] == ',' && depth == 0) {
      parts.push_back(Trim(s.substr(start, i - start)));
      start = i + 1;
    }
  }
  if (depth != 0) {
    return InvalidArgumentError("unbalanced '(' in selector");
  }
  parts.push_back(Trim(s.substr(start)));
  return parts;
}

bool ValidKey(std::string_view k) {
  if (k.empty() || k.size() > 317) {
    return false;
  }
  return std::all_of(k.begin(), k.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '/';
  });
}

bool ValidValue(std::string_view v) {
  if (v.size() > 63) {
    return false;
  }
  return std::all_of(v.begin(), v.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

const nlohmann::json* Lookup(const nlohmann::json& object, const std::vector<std::string>& path) {
  const nlohmann::json* cur = &object;
  for (const auto& p : path) {
    if (!cur->is_object()) {
      return nullptr;
    }
    auto it = cur->find(p);
    if (it == cur->end()) {
      return nullptr;
    }
    cur = &*it;
  }
  return cur;
}

}  // namespace

Result<LabelSelector> LabelSelector::Parse(std::string_view text) {
  if (text.size() > kMaxSelectorLength) {
    return InvalidArgumentError("label selector too long");
  }
  LabelSelector sel;
  if (Trim(text).empty()) {
    return sel;
  }
  NPUSHARE_ASSIGN_OR_RETURN(auto parts, SplitTopLevel(text));
  for (std::string_view part : parts) {
    if (part.empty()) {
      return InvalidArgumentError("empty requirement in label selector");
    }
    Requirement r;
    if (part.front() == '!') {
      r.key = std::string(Trim(part.substr(1)));
      r.op = Op::kNotExists;
    } else if (auto pos = part.find("!="); pos != std::string_view::npos) {
      r.key = std::string(Trim(part.substr(0, pos)));
      r.op = Op::kNotEq;
      r.values.emplace_back(Trim(part.substr(pos + 2)));
    } else if (auto eq = part.find('='); eq != std::string_view::npos) {
      r.key = std::string(Trim(part.substr(0, eq)));
      r.op = Op::kEq;
      size_t vstart = eq + 1;
      if (vstart < part.size() && part[vstart] == '=') {
        ++vstart;
      }
      r.values.emplace_back(Trim(part.substr(vstart)));
    } else if (auto paren = part.find('('); paren != std::string_view::npos) {
      std::string_view head = Trim(part.substr(0, paren));
      if (part.back() != ')') {
        return InvalidArgumentError("expected ')' in label selector");
      }
      auto sp = head.rfind(' ');
      if (sp == std::string_view::npos) {
        return InvalidArgumentError("expected 'in' or 'notin'");
      }
      std::string_view op = head.substr(sp + 1);
      r.key = std::string(Trim(head.substr(0, sp)));
      if (op == "in") {
        r.op = Op::kIn;
      } else if (op == "notin") {
        r.op = Op::kNotIn;
      } else {
        return InvalidArgumentError("unknown set operator in label selector");
      }
      std::string_view inner = part.substr(paren + 1, part.size() - paren - 2);
      size_t start = 0;
      while (start <= inner.size()) {
        size_t comma = inner.find(',', start);
        if (comma == std::string_view::npos) {
          comma = inner.size();
        }
        std::string_view v = Trim(inner.substr(start, comma - start));
        if (!v.empty()) {
          r.values.emplace_back(v);
        }
        start = comma + 1;
      }
      if (r.values.empty()) {
        return InvalidArgumentError("empty value set in label selector");
      }
    } else {
      r.key = std::string(part);
      r.op = Op::kExists;
    }
    if (!ValidKey(r.key)) {
      return InvalidArgumentError("invalid label key in selector");
    }
    for (const auto& v : r.values) {
      if (!ValidValue(v)) {
        return InvalidArgumentError("invalid label value in selector");
      }
    }
    sel.reqs_.push_back(std::move(r));
  }
  return sel;
}

bool LabelSelector::Matches(const nlohmann::json& object) const {
  static const std::vector<std::string> kLabels = {"metadata", "labels"};
  const nlohmann::json* labels = Lookup(object, kLabels);
  for (const auto& r : reqs_) {
    const nlohmann::json* v = nullptr;
    if (labels != nullptr && labels->is_object()) {
      auto it = labels->find(r.key);
      if (it != labels->end() && it->is_string()) {
        v = &*it;
      }
    }
    std::string value = v != nullptr ? v->get<std::string>() : std::string();
    bool has = v != nullptr;
    bool in = has && std::find(r.values.begin(), r.values.end(), value) != r.values.end();
    switch (r.op) {
      case Op::kEq:
      case Op::kIn:
        if (!in) {
          return false;
        }
        break;
      case Op::kNotEq:
      case Op::kNotIn:
        if (in) {
          return false;
        }
        break;
      case Op::kExists:
        if (!has) {
          return false;
        }
        break;
      case Op::kNotExists:
        if (has) {
          return false;
        }
        break;
      default:
        return false;
    }
  }
  return true;
}

Result<FieldSelector> FieldSelector::Parse(std::string_view text) {
  if (text.size() > kMaxSelectorLength) {
    return InvalidArgumentError("field selector too long");
  }
  FieldSelector sel;
  if (Trim(text).empty()) {
    return sel;
  }
  NPUSHARE_ASSIGN_OR_RETURN(auto parts, SplitTopLevel(text));
  for (std::string_view part : parts) {
    Requirement r;
    size_t key_end;
    size_t value_start;
    if (auto ne = part.find("!="); ne != std::string_view::npos) {
      r.equal = false;
      key_end = ne;
      value_start = ne + 2;
    } else if (auto eq = part.find('='); eq != std::string_view::npos) {
      r.equal = true;
      key_end = eq;
      value_start = eq + 1;
      if (value_start < part.size() && part[value_start] == '=') {
        ++value_start;
      }
    } else {
      return InvalidArgumentError("field selector requirement needs '=', '==' or '!='");
    }
    std::string_view key = Trim(part.substr(0, key_end));
    if (key.empty()) {
      return InvalidArgumentError("empty field name in field selector");
    }
    size_t start = 0;
    while (start <= key.size()) {
      size_t dot = key.find('.', start);
      if (dot == std::string_view::npos) {
        dot = key.size();
      }
      if (dot == start) {
        return InvalidArgumentError("empty path segment in field selector");
      }
      r.path.emplace_back(key.substr(start, dot - start));
      start = dot + 1;
    }
    r.value = std::string(Trim(part.substr(value_start)));
    sel.reqs_.push_back(std::move(r));
  }
  return sel;
}

std::string FieldAsString(const nlohmann::json& object, const std::vector<std::string>& path) {
  const nlohmann::json* v = Lookup(object, path);
  if (v == nullptr || v->is_null()) {
    return "";
  }
  if (v->is_string()) {
    return v->get<std::string>();
  }
  if (v->is_boolean()) {
    return v->get<bool>() ? "true" : "false";
  }
  if (v->is_number()) {
    return v->dump();
  }
  return "";
}

bool FieldSelector::Matches(const nlohmann::json& object) const {
  for (const auto& r : reqs_) {
    bool eq = FieldAsString(object, r.path) == r.value;
    if (eq != r.equal) {
      return false;
    }
  }
  return true;
}

}  // namespace npushare::kube
