#include "hami/go_time.h"

#include <string>
#include <vector>

#include "hami/go_text.h"

namespace npushare::hami {
namespace {

enum class Elem { kLiteral, kYear, kMonth, kDay, kHour, kMinute, kSecond, kZone };

struct Chunk {
  Elem elem;
  std::string_view text;  // as written in the Go layout
};

std::vector<Chunk> ChunksOf(GoLayout layout) {
  const std::string_view date_sep = layout == GoLayout::kDotted ? "." : "-";
  std::vector<Chunk> c = {
      {Elem::kYear, "2006"},      {Elem::kLiteral, date_sep}, {Elem::kMonth, "01"},
      {Elem::kLiteral, date_sep}, {Elem::kDay, "02"},         {Elem::kLiteral, " "},
      {Elem::kHour, "15"},        {Elem::kLiteral, ":"},      {Elem::kMinute, "04"},
      {Elem::kLiteral, ":"},      {Elem::kSecond, "05"}};
  if (layout == GoLayout::kRfc3339) {
    c[5].text = "T";
    c.push_back({Elem::kZone, "Z07:00"});
  }
  return c;
}

std::string_view LayoutString(GoLayout layout) {
  switch (layout) {
    case GoLayout::kRfc3339:
      return "2006-01-02T15:04:05Z07:00";
    case GoLayout::kDateTime:
      return "2006-01-02 15:04:05";
    case GoLayout::kDotted:
      return "2006.01.02 15:04:05";
  }
  return "";
}

bool IsDigit(std::string_view s, size_t i) {
  return i < s.size() && s[i] >= '0' && s[i] <= '9';
}

// GetNum: Go's getnum: one or two digits (exactly two when `fixed`).
bool GetNum(std::string_view& v, bool fixed, int* out) {
  if (!IsDigit(v, 0)) {
    return false;
  }
  if (!IsDigit(v, 1)) {
    if (fixed) {
      return false;
    }
    *out = v[0] - '0';
    v.remove_prefix(1);
    return true;
  }
  *out = (v[0] - '0') * 10 + (v[1] - '0');
  v.remove_prefix(2);
  return true;
}

}  // namespace

Result<GoParsedTime> ParseGoTime(std::string_view value, GoLayout layout) {
  const std::string_view layout_str = LayoutString(layout);
  auto cannot_parse = [&](std::string_view rest, std::string_view elem) {
    return InvalidArgumentError("parsing time " + GoQuote(value) + " as " + GoQuote(layout_str) +
                                ": cannot parse " + GoQuote(rest) + " as " + GoQuote(elem));
  };
  auto message = [&](const std::string& msg) {
    return InvalidArgumentError("parsing time " + GoQuote(value) + msg);
  };
  GoParsedTime out;
  CivilTime& t = out.civil;
  std::string_view v = value;
  for (const Chunk& c : ChunksOf(layout)) {
    const std::string_view before = v;
    bool ok = true;
    const char* range_err = nullptr;
    switch (c.elem) {
      case Elem::kLiteral:
        if (c.text == " ") {
          // A layout space matches one or more spaces (none at end of input).
          if (!v.empty() && v[0] != ' ') {
            ok = false;
          }
          while (!v.empty() && v[0] == ' ') {
            v.remove_prefix(1);
          }
        } else if (v.starts_with(c.text)) {
          v.remove_prefix(c.text.size());
        } else {
          ok = false;
        }
        break;
      case Elem::kYear:
        if (v.size() < 4 || !IsDigit(v, 0) || !IsDigit(v, 1) || !IsDigit(v, 2) || !IsDigit(v, 3)) {
          ok = false;
        } else {
          t.year = (v[0] - '0') * 1000 + (v[1] - '0') * 100 + (v[2] - '0') * 10 + (v[3] - '0');
          v.remove_prefix(4);
        }
        break;
      case Elem::kMonth:
        ok = GetNum(v, true, &t.month);
        if (ok && (t.month < 1 || t.month > 12)) {
          range_err = "month";
        }
        break;
      case Elem::kDay:
        ok = GetNum(v, true, &t.day);
        // Day range is checked against the month at the end, as Go does.
        break;
      case Elem::kHour:
        ok = GetNum(v, false, &t.hour);
        if (ok && t.hour > 23) {
          range_err = "hour";
        }
        break;
      case Elem::kMinute:
        ok = GetNum(v, true, &t.minute);
        if (ok && t.minute > 59) {
          range_err = "minute";
        }
        break;
      case Elem::kSecond:
        ok = GetNum(v, true, &t.second);
        if (ok && t.second > 59) {
          range_err = "second";
        }
        if (ok && v.size() >= 2 && (v[0] == '.' || v[0] == ',') && IsDigit(v, 1)) {
          v.remove_prefix(1);
          while (IsDigit(v, 0)) {
            v.remove_prefix(1);
          }
        }
        break;
      case Elem::kZone:
        if (!v.empty() && v[0] == 'Z') {
          v.remove_prefix(1);
          out.utc_offset_seconds = 0;
        } else if (v.size() >= 6 && (v[0] == '+' || v[0] == '-') && v[3] == ':' && IsDigit(v, 1) &&
                   IsDigit(v, 2) && IsDigit(v, 4) && IsDigit(v, 5)) {
          const int hh = (v[1] - '0') * 10 + (v[2] - '0');
          const int mm = (v[4] - '0') * 10 + (v[5] - '0');
          if (hh > 24) {
            range_err = "time zone offset hour";
          } else if (mm > 60) {
            range_err = "time zone offset minute";
          }
          out.utc_offset_seconds = (v[0] == '-' ? -1 : 1) * (hh * 3600 + mm * 60);
          v.remove_prefix(6);
        } else {
          ok = false;
        }
        break;
    }
    if (!ok) {
      return cannot_parse(before, c.text);
    }
    if (range_err != nullptr) {
      return message(std::string(": ") + range_err + " out of range");
    }
  }
  if (!v.empty()) {
    return message(": extra text: " + GoQuote(v));
  }
  if (t.day < 1 || t.day > DaysInMonth(t.year, t.month)) {
    return message(": day out of range");
  }
  return out;
}

}  // namespace npushare::hami
