#include "compat/vector_limits.h"

#include <cmath>
#include <string>

namespace npushare::compat {
namespace {

using nlohmann::json;

// Count-like fields: handlers loop or allocate this many times.
struct CountLimit {
  std::string_view key;
  int64_t max;
};
constexpr CountLimit kCountLimits[] = {
    {"devices_count", kMaxCount},  {"calls", kMaxCount},
    {"pod_containers", kMaxCount}, {"pod_init_containers", kMaxCount},
    {"vdevice_count", kMaxCount},  {"vDeviceCount", kMaxCount},
    {"containers", kMaxCount},  // webhook_decision: a number of containers
    {"index", INT32_MAX},
};

// Fields that hold MB amounts or seconds and may legitimately exceed int32 (read as int64).
constexpr std::string_view kInt64Fields[] = {"lock_age_seconds",  "timeout_seconds", "memory",
                                             "totalmem",          "usedmem",         "memreq",
                                             "memoryAllocatable", "memoryCapacity"};

constexpr double kInt32Max = 2147483647.0;
constexpr double kExactDoubleMax = 9007199254740992.0;  // 2^53

bool IsInt64Field(std::string_view key) {
  for (std::string_view k : kInt64Fields) {
    if (k == key) {
      return true;
    }
  }
  return false;
}

const CountLimit* FindCountLimit(std::string_view key) {
  for (const CountLimit& l : kCountLimits) {
    if (l.key == key) {
      return &l;
    }
  }
  return nullptr;
}

// Value of a number as double, and whether it is integral.
double NumberValue(const json& j, bool* integral) {
  if (j.is_number_unsigned()) {
    *integral = true;
    return static_cast<double>(j.get<uint64_t>());
  }
  if (j.is_number_integer()) {
    *integral = true;
    return static_cast<double>(j.get<int64_t>());
  }
  const double d = j.get<double>();
  *integral = std::isfinite(d) && std::floor(d) == d;
  return d;
}

Status CheckNumber(const json& j, std::string_view key, const std::string& path, bool in_input) {
  bool integral = false;
  const double v = NumberValue(j, &integral);
  if (!std::isfinite(v)) {
    return InvalidArgumentError(path + ": number is not finite");
  }
  if (!in_input) {
    if (std::fabs(v) > 1e300) {
      return InvalidArgumentError(path + ": number out of range");
    }
    return OkStatus();
  }
  if (const CountLimit* limit = FindCountLimit(key); limit != nullptr) {
    if (!integral || v < 0 || v > static_cast<double>(limit->max)) {
      return InvalidArgumentError(path + ": must be a whole number in [0, " +
                                  std::to_string(limit->max) + "]");
    }
    return OkStatus();
  }
  const double max = IsInt64Field(key) ? kExactDoubleMax : kInt32Max;
  if (std::fabs(v) > max || (IsInt64Field(key) && !integral)) {
    return InvalidArgumentError(path + ": number out of range (|value| <= " +
                                (IsInt64Field(key) ? std::string("2^53, whole") : "2^31-1") + ")");
  }
  return OkStatus();
}

// Walk: every value under `j` within the limits. Depth is bounded by ParseVectorFile already;
// `depth` guards callers that build a json in memory.
Status Walk(const json& j, std::string_view key, const std::string& path, bool in_input,
            size_t depth) {
  if (depth > kMaxVectorDepth) {
    return InvalidArgumentError(path + ": nested deeper than " + std::to_string(kMaxVectorDepth));
  }
  switch (j.type()) {
    case json::value_t::string:
      if (j.get_ref<const std::string&>().size() > kMaxStringBytes) {
        return InvalidArgumentError(path + ": string longer than " +
                                    std::to_string(kMaxStringBytes) + " bytes");
      }
      return OkStatus();
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return CheckNumber(j, key, path, in_input);
    case json::value_t::array: {
      if (j.size() > kMaxContainerEntries) {
        return InvalidArgumentError(path + ": more than " + std::to_string(kMaxContainerEntries) +
                                    " elements");
      }
      size_t i = 0;
      for (const json& e : j) {
        // Elements get no key: a count-like name may also name a list in another category
        // ("pod_containers": ["c"] vs 1), and the list's numbers are not counts.
        NPUSHARE_RETURN_IF_ERROR(
            Walk(e, "", path + "/" + std::to_string(i++), in_input, depth + 1));
      }
      return OkStatus();
    }
    case json::value_t::object: {
      if (j.size() > kMaxContainerEntries) {
        return InvalidArgumentError(path + ": more than " + std::to_string(kMaxContainerEntries) +
                                    " members");
      }
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (it.key().size() > kMaxStringBytes) {
          return InvalidArgumentError(path + ": member name longer than " +
                                      std::to_string(kMaxStringBytes) + " bytes");
        }
        NPUSHARE_RETURN_IF_ERROR(Walk(*it, it.key(), path + "/" + it.key(), in_input, depth + 1));
      }
      return OkStatus();
    }
    default:
      return OkStatus();  // null, boolean, binary (never produced by the text parser)
  }
}

Status CheckOptionalString(const json& c, const char* key, size_t max_bytes, bool required) {
  auto it = c.find(key);
  if (it == c.end()) {
    return required ? InvalidArgumentError(std::string("missing \"") + key + "\"") : OkStatus();
  }
  if (!it->is_string()) {
    return InvalidArgumentError(std::string("\"") + key + "\" must be a string, not " +
                                it->type_name());
  }
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > max_bytes) {
    return InvalidArgumentError(std::string("\"") + key + "\" longer than " +
                                std::to_string(max_bytes) + " bytes");
  }
  return OkStatus();
}

}  // namespace

size_t FirstInvalidUtf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char b = p[i];
    if (b < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    uint32_t cp = 0;
    if ((b & 0xE0) == 0xC0) {
      len = 2;
      cp = b & 0x1Fu;
    } else if ((b & 0xF0) == 0xE0) {
      len = 3;
      cp = b & 0x0Fu;
    } else if ((b & 0xF8) == 0xF0) {
      len = 4;
      cp = b & 0x07u;
    } else {
      return i;
    }
    if (i + len > n) {
      return i;
    }
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) {
        return i;
      }
      cp = (cp << 6) | (p[i + k] & 0x3Fu);
    }
    const uint32_t min_for_len[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_for_len[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return i;
    }
    i += len;
  }
  return n;
}

size_t MaxJsonNesting(std::string_view text, size_t limit, size_t* offset) {
  size_t depth = 0;
  size_t max = 0;
  bool in_string = false;
  bool escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (ch == '\\') {
        escaped = true;
      } else if (ch == '"') {
        in_string = false;
      }
      continue;
    }
    if (ch == '"') {
      in_string = true;
    } else if (ch == '[' || ch == '{') {
      ++depth;
      if (depth > max) {
        max = depth;
        if (max > limit) {
          *offset = i;
          return max;
        }
      }
    } else if ((ch == ']' || ch == '}') && depth > 0) {
      --depth;
    }
  }
  return max;
}

Result<nlohmann::json> ParseVectorFile(std::string_view text) {
  if (const size_t bad = FirstInvalidUtf8(text); bad != text.size()) {
    return InvalidArgumentError("invalid UTF-8 at byte offset " + std::to_string(bad) +
                                " (vector files are UTF-8 JSON)");
  }
  size_t where = 0;
  if (MaxJsonNesting(text, kMaxVectorDepth, &where) > kMaxVectorDepth) {
    return InvalidArgumentError("JSON nested deeper than " + std::to_string(kMaxVectorDepth) +
                                " levels at byte offset " + std::to_string(where));
  }
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {
    return InvalidArgumentError(std::string("not JSON: ") + e.what());
  }
  if (!doc.is_object() || !doc.contains("cases") || !doc["cases"].is_array()) {
    return InvalidArgumentError(
        "not a vector file (expected a JSON object with a \"cases\" array)");
  }
  if (doc["cases"].size() > kMaxVectorCases) {
    return InvalidArgumentError("more than " + std::to_string(kMaxVectorCases) + " cases");
  }
  if (doc.contains("fixtures")) {
    if (!doc["fixtures"].is_object()) {
      return InvalidArgumentError("\"fixtures\" must be an object");
    }
    NPUSHARE_RETURN_IF_ERROR(Walk(doc["fixtures"], "fixtures", "/fixtures", /*in_input=*/true, 1));
  }
  return doc;
}

Status ValidateVectorCase(const json& c) {
  if (!c.is_object()) {
    return InvalidArgumentError(std::string("a case must be an object, not ") + c.type_name());
  }
  NPUSHARE_RETURN_IF_ERROR(CheckOptionalString(c, "id", kMaxIdBytes, /*required=*/false));
  NPUSHARE_RETURN_IF_ERROR(
      CheckOptionalString(c, "category", kMaxCategoryBytes, /*required=*/true));
  for (const char* key : {"input", "expected"}) {
    auto it = c.find(key);
    if (it != c.end() && !it->is_object()) {
      return InvalidArgumentError(std::string("\"") + key + "\" must be an object, not " +
                                  it->type_name());
    }
  }
  if (auto it = c.find("expected_any_of"); it != c.end() && !it->is_array()) {
    return InvalidArgumentError("\"expected_any_of\" must be an array");
  }
  for (auto it = c.begin(); it != c.end(); ++it) {
    NPUSHARE_RETURN_IF_ERROR(Walk(*it, it.key(), "/" + it.key(), it.key() == "input", 1));
  }
  return OkStatus();
}

}  // namespace npushare::compat
