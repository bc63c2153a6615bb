#include "config/internal/yaml_fields.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <set>

namespace npushare::config::internal {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// IsPlain: written without quotes and without an explicit non-default tag; only such scalars
// may be numbers or booleans (yaml.v2 refuses to decode a quoted "4096" into an int).
bool IsPlain(const YAML::Node& node) {
  const std::string& tag = node.Tag();
  return tag == "?" || tag == "tag:yaml.org,2002:int" || tag == "tag:yaml.org,2002:bool";
}

// Shown: a node for a message, quoted and shortened.
std::string Shown(const YAML::Node& node) {
  if (node.IsMap())
    return "a mapping";
  if (node.IsSequence())
    return "a list";
  return Quote(node.Scalar(), 40);
}

// FieldKey: `key` as a path component; quoted when it is long or not printable ASCII, so a
// hostile key cannot make the field path huge.
std::string FieldKey(const std::string& key) {
  const bool plain =
      !key.empty() && key.size() <= 64 &&
      std::all_of(key.begin(), key.end(), [](char c) { return c > ' ' && c < 0x7f; });
  return plain ? key : Quote(key, 64);
}

}  // namespace

std::string Join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string Index(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

const YAML::Node* MapEntries::Find(std::string_view key) const {
  for (const auto& [k, v] : entries) {
    if (k == key)
      return v.IsNull() ? nullptr : &v;
  }
  return nullptr;
}

SourcePos DecodeContext::PosOf(const YAML::Node& node) const {
  return internal::PosOf(node, mapping_);
}

void DecodeContext::Report(Severity severity, SourcePos pos, std::string field,
                           std::string message) {
  diags_->push_back(
      Diagnostic{severity, source_, pos.line, pos.column, std::move(field), std::move(message)});
}

void DecodeContext::Invalid(const YAML::Node& node, const std::string& path, std::string message) {
  Error(PosOf(node), path, std::move(message));
  positions_->MarkInvalid(path);
}

bool DecodeContext::ReadMap(const YAML::Node& node, const std::string& path,
                            std::initializer_list<std::string_view> known, MapEntries* out) {
  out->entries.clear();
  positions_->Set(path, PosOf(node));
  if (!node.IsMap()) {
    Invalid(node, path, "expected a mapping, got " + Shown(node));
    return false;
  }
  std::set<std::string> seen;
  for (const auto& kv : node) {
    const YAML::Node key = kv.first;
    const YAML::Node value = kv.second;
    if (!key.IsScalar()) {
      Error(PosOf(key), path, "mapping keys must be plain strings");
      continue;
    }
    const std::string name = key.Scalar();
    const std::string field = Join(path, FieldKey(name));
    if (!seen.insert(name).second) {
      Error(PosOf(key), field, "duplicate key " + Quote(name));
      continue;
    }
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      std::string message = "unknown key " + Quote(name) + " is ignored";
      for (std::string_view k : known) {
        if (EqualsIgnoreCase(k, name)) {
          message += " (keys are case-sensitive: did you mean \"" + std::string(k) + "\"?)";
        }
      }
      Warning(PosOf(key), field, std::move(message));
      continue;
    }
    positions_->Set(field, PosOf(value));
    out->entries.emplace_back(name, value);
  }
  return true;
}

std::optional<std::string> DecodeContext::StringValue(const YAML::Node& node,
                                                      const std::string& path) {
  if (!node.IsScalar()) {
    Invalid(node, path, "expected a string, got " + Shown(node));
    return std::nullopt;
  }
  return node.Scalar();
}

std::optional<int64_t> DecodeContext::IntValue(const YAML::Node& node, const std::string& path,
                                               int64_t min, int64_t max) {
  if (!node.IsScalar()) {
    Invalid(node, path, "expected an integer, got " + Shown(node));
    return std::nullopt;
  }
  const std::string& s = node.Scalar();
  std::string_view digits = s;
  bool negative = false;
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
    negative = digits[0] == '-';
    digits.remove_prefix(1);
  }
  const bool decimal = !digits.empty() && std::all_of(digits.begin(), digits.end(),
                                                      [](char c) { return c >= '0' && c <= '9'; });
  if (!IsPlain(node) || !decimal) {
    Invalid(node, path,
            "expected a plain decimal integer, got " + Shown(node) +
                (IsPlain(node) ? "" : " (quoted values are strings)"));
    return std::nullopt;
  }
  // Accumulate with an overflow check, so an absurdly long number is reported, not wrapped.
  int64_t v = 0;
  for (char c : digits) {
    if (v > (std::numeric_limits<int64_t>::max() - (c - '0')) / 10) {
      Invalid(node, path, "value " + Quote(s) + " does not fit in a 64-bit integer");
      return std::nullopt;
    }
    v = v * 10 + (c - '0');
  }
  if (negative)
    v = -v;
  if (v < min || v > max) {
    Invalid(node, path,
            "value " + Quote(s) + " is outside [" + std::to_string(min) + ", " +
                std::to_string(max) + "]");
    return std::nullopt;
  }
  return v;
}

std::optional<std::string> DecodeContext::String(const MapEntries& map, std::string_view key,
                                                 const std::string& path) {
  const YAML::Node* node = map.Find(key);
  if (node == nullptr)
    return std::nullopt;
  return StringValue(*node, Join(path, key));
}

std::optional<int64_t> DecodeContext::Int(const MapEntries& map, std::string_view key,
                                          const std::string& path, int64_t min, int64_t max) {
  const YAML::Node* node = map.Find(key);
  if (node == nullptr)
    return std::nullopt;
  return IntValue(*node, Join(path, key), min, max);
}

std::optional<bool> DecodeContext::Bool(const MapEntries& map, std::string_view key,
                                        const std::string& path) {
  const YAML::Node* node = map.Find(key);
  if (node == nullptr)
    return std::nullopt;
  const std::string field = Join(path, key);
  if (!node->IsScalar() || !IsPlain(*node)) {
    Invalid(*node, field, "expected true or false, got " + Shown(*node));
    return std::nullopt;
  }
  const std::string& s = node->Scalar();
  for (std::string_view t : {"true", "True", "TRUE"}) {
    if (s == t)
      return true;
  }
  for (std::string_view f : {"false", "False", "FALSE"}) {
    if (s == f)
      return false;
  }
  // YAML 1.1 booleans: yaml.v2 (upstream) reads these, so accept them, but say so.
  for (std::string_view t : {"y", "Y", "yes", "Yes", "YES", "on", "On", "ON"}) {
    if (s == t) {
      Warning(PosOf(*node), field, Quote(s) + " read as true; write true");
      return true;
    }
  }
  for (std::string_view f : {"n", "N", "no", "No", "NO", "off", "Off", "OFF"}) {
    if (s == f) {
      Warning(PosOf(*node), field, Quote(s) + " read as false; write false");
      return false;
    }
  }
  Invalid(*node, field, "expected true or false, got " + Shown(*node));
  return std::nullopt;
}

std::optional<YAML::Node> DecodeContext::Sequence(const MapEntries& map, std::string_view key,
                                                  const std::string& path, size_t max_items) {
  const YAML::Node* node = map.Find(key);
  if (node == nullptr)
    return std::nullopt;
  const std::string field = Join(path, key);
  if (!node->IsSequence()) {
    Invalid(*node, field, "expected a list, got " + Shown(*node));
    return std::nullopt;
  }
  if (node->size() > max_items) {
    Error(PosOf(*node), field,
          "more than " + std::to_string(max_items) + " entries; only the first " +
              std::to_string(max_items) + " are read");
  }
  return *node;
}

}  // namespace npushare::config::internal
