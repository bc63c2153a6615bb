#include "state/visibility.h"

#include <cstdlib>
#include <set>

namespace npushare::sim {
namespace {

Result<uint32_t> ParseId(const std::string& s) {
  if (s.empty() || s.size() > 5) {
    return InvalidArgumentError("bad device id '" + s + "'");
  }
  uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') {
      return InvalidArgumentError("bad device id '" + s + "'");
    }
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v > 65535) {
    return InvalidArgumentError("device id out of range");
  }
  return v;
}

}  // namespace

std::string GetEnv(const char* name, bool* set) {
  const char* v = std::getenv(name);
  *set = v != nullptr;
  return v == nullptr ? std::string() : std::string(v);
}

Result<std::vector<uint32_t>> ParseDeviceList(const std::string& text) {
  std::vector<uint32_t> out;
  if (text.empty() || text == "void") {
    return out;
  }
  if (text.size() > 4096) {
    return InvalidArgumentError("device list too long");
  }
  std::set<uint32_t> seen;
  bool named = false;
  bool numeric = false;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    std::string item =
        text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    // "Ascend910-1" / "npu-1" style: take the number after the last '-' when a prefix exists.
    size_t dash = item.find('-');
    uint32_t lo = 0;
    uint32_t hi = 0;
    if (dash != std::string::npos && dash > 0 && (item[0] < '0' || item[0] > '9')) {
      NPUSHARE_ASSIGN_OR_RETURN(lo, ParseId(item.substr(item.rfind('-') + 1)));
      hi = lo;
      named = true;
    } else if (dash != std::string::npos) {
      NPUSHARE_ASSIGN_OR_RETURN(lo, ParseId(item.substr(0, dash)));
      NPUSHARE_ASSIGN_OR_RETURN(hi, ParseId(item.substr(dash + 1)));
      if (hi < lo) {
        return InvalidArgumentError("descending range '" + item + "'");
      }
    } else {
      NPUSHARE_ASSIGN_OR_RETURN(lo, ParseId(item));
      hi = lo;
    }
    numeric = numeric || (item.empty() || (item[0] >= '0' && item[0] <= '9'));
    if (named && numeric) {
      return InvalidArgumentError("numeric and named device forms cannot be mixed");
    }
    for (uint32_t v = lo; v <= hi; ++v) {
      if (!seen.insert(v).second) {
        return InvalidArgumentError("duplicate device id");
      }
      out.push_back(v);
      if (out.size() > 256) {
        return InvalidArgumentError("too many devices");
      }
    }
    if (comma == std::string::npos) {
      break;
    }
    pos = comma + 1;
  }
  return out;
}

}  // namespace npushare::sim
