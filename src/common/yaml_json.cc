#include "common/yaml_json.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdlib>
#include <string>

namespace npushare {
namespace {

// [-+]?[0-9]+
bool IsDecimalInteger(std::string_view s) {
  size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  if (i == s.size()) {
    return false;
  }
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') {
      return false;
    }
  }
  return true;
}

// [-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?  (YAML 1.2 core schema floats, sans inf/nan)
bool IsDecimalFloat(std::string_view s) {
  size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  size_t int_digits = 0, frac_digits = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    ++i, ++int_digits;
  }
  if (i == s.size() || s[i] != '.') {
    return false;
  }
  ++i;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    ++i, ++frac_digits;
  }
  if (int_digits + frac_digits == 0) {
    return false;
  }
  if (i == s.size()) {
    return true;
  }
  if (s[i] != 'e' && s[i] != 'E') {
    return false;
  }
  ++i;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) {
    ++i;
  }
  size_t exp_digits = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    ++i, ++exp_digits;
  }
  return exp_digits > 0 && i == s.size();
}

class Converter {
 public:
  explicit Converter(const YamlLimits& limits) : limits_(limits) {}

  Status Convert(const YAML::Node& node, nlohmann::json& out, size_t depth) {
    if (depth > limits_.max_depth) {
      return InvalidArgumentError("YAML nested deeper than " + std::to_string(limits_.max_depth) +
                                  " levels");
    }
    if (++nodes_ > limits_.max_nodes) {
      return InvalidArgumentError("YAML has more than " + std::to_string(limits_.max_nodes) +
                                  " nodes (alias expansion?)");
    }
    switch (node.Type()) {
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined:
        out = nullptr;
        return OkStatus();
      case YAML::NodeType::Scalar:
        out = Scalar(node);
        return OkStatus();
      case YAML::NodeType::Sequence:
        out = nlohmann::json::array();
        for (const auto& child : node) {
          nlohmann::json c;
          NPUSHARE_RETURN_IF_ERROR(Convert(child, c, depth + 1));
          out.push_back(std::move(c));
        }
        return OkStatus();
      case YAML::NodeType::Map:
        out = nlohmann::json::object();
        for (const auto& kv : node) {
          if (!kv.first.IsScalar()) {
            return InvalidArgumentError("YAML map key is not a scalar");
          }
          nlohmann::json c;
          NPUSHARE_RETURN_IF_ERROR(Convert(kv.second, c, depth + 1));
          out[kv.first.Scalar()] = std::move(c);
        }
        return OkStatus();
      default:
        return InvalidArgumentError("unsupported YAML node");
    }
  }

 private:
  static nlohmann::json Scalar(const YAML::Node& node) {
    const std::string& s = node.Scalar();
    if (node.Tag() == "!") {
      return s;  // quoted: always a string
    }
    if (s == "null" || s == "Null" || s == "NULL" || s == "~" || s.empty()) {
      return nullptr;
    }
    if (s == "true" || s == "True" || s == "TRUE") {
      return true;
    }
    if (s == "false" || s == "False" || s == "FALSE") {
      return false;
    }
    if (s.size() <= 19 && IsDecimalInteger(s)) {
      errno = 0;
      long long v = std::strtoll(s.c_str(), nullptr, 10);
      if (errno == 0) {
        return v;
      }
    }
    if (s.size() <= 64 && IsDecimalFloat(s)) {
      return std::strtod(s.c_str(), nullptr);
    }
    return s;
  }

  const YamlLimits& limits_;
  size_t nodes_ = 0;
};

}  // namespace

Result<std::vector<nlohmann::json>> ParseYamlDocuments(std::string_view text,
                                                       const YamlLimits& limits) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError("YAML error at line " + std::to_string(e.mark.line + 1) +
                                ", column " + std::to_string(e.mark.column + 1) + ": " + e.msg);
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("YAML error: ") + e.what());
  }
  std::vector<nlohmann::json> out;
  Converter conv(limits);
  for (const auto& d : docs) {
    if (d.IsNull() || !d.IsDefined()) {
      continue;
    }
    nlohmann::json j;
    try {
      NPUSHARE_RETURN_IF_ERROR(conv.Convert(d, j, 0));
    } catch (const std::exception& e) {
      return InvalidArgumentError(std::string("YAML error: ") + e.what());
    }
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace npushare
