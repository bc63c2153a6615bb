#include "hami/civil_time.h"

#include <cstdio>

namespace npushare::hami {

// Howard Hinnant's days_from_civil / civil_from_days (public-domain algorithms).
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t mp = (m + 9) % 12;
  const int64_t doy = (153 * mp + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int64_t CivilSecondsOf(const CivilTime& t) {
  return DaysFromCivil(t.year, t.month, t.day) * 86400 + t.hour * 3600 + t.minute * 60 + t.second;
}

CivilTime CivilFromSeconds(int64_t civil_seconds) {
  int64_t days = civil_seconds / 86400;
  int64_t rem = civil_seconds % 86400;
  if (rem < 0) {
    rem += 86400;
    days -= 1;
  }
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  CivilTime t;
  t.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  t.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  t.year = yoe + era * 400 + (t.month <= 2 ? 1 : 0);
  t.hour = static_cast<int>(rem / 3600);
  t.minute = static_cast<int>((rem / 60) % 60);
  t.second = static_cast<int>(rem % 60);
  return t;
}

int DaysInMonth(int64_t y, int m) {
  static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

bool ValidCivil(const CivilTime& t) {
  return t.month >= 1 && t.month <= 12 && t.day >= 1 && t.day <= DaysInMonth(t.year, t.month) &&
         t.hour >= 0 && t.hour < 24 && t.minute >= 0 && t.minute < 60 && t.second >= 0 &&
         t.second < 60;
}

std::string FormatCivil(const CivilTime& t, std::string_view layout) {
  std::string out;
  char buf[32];
  size_t i = 0;
  while (i < layout.size()) {
    const std::string_view rest = layout.substr(i);
    if (rest.starts_with("YYYY")) {
      std::snprintf(buf, sizeof(buf), "%04lld", static_cast<long long>(t.year));
      out += buf;
      i += 4;
      continue;
    }
    const int* field = nullptr;
    if (rest.starts_with("MM")) {
      field = &t.month;
    } else if (rest.starts_with("DD")) {
      field = &t.day;
    } else if (rest.starts_with("hh")) {
      field = &t.hour;
    } else if (rest.starts_with("mm")) {
      field = &t.minute;
    } else if (rest.starts_with("ss")) {
      field = &t.second;
    }
    if (field != nullptr) {
      std::snprintf(buf, sizeof(buf), "%02d", *field);
      out += buf;
      i += 2;
      continue;
    }
    out += layout[i++];
  }
  return out;
}

}  // namespace npushare::hami
