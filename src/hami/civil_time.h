// File: hami/civil_time.h
//
// Proleptic-Gregorian calendar arithmetic and the fixed-width digit scanning that
// Go's time.Parse applies to the timestamp layouts HAMi writes. No time zones:
// callers pass seconds already shifted into the zone they mean ("civil seconds" =
// seconds since 1970-01-01T00:00:00 of that zone's wall clock).
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace npushare::hami {

struct CivilTime {
  int64_t year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
  int hour = 0;
  int minute = 0;
  int second = 0;
};

// DaysFromCivil: days since 1970-01-01 of y-m-d. REQUIRES: 1 <= m <= 12, 1 <= d <= 31.
int64_t DaysFromCivil(int64_t y, int m, int d);
// CivilSecondsOf / CivilFromSeconds: convert between broken-down and linear civil time.
int64_t CivilSecondsOf(const CivilTime& t);
CivilTime CivilFromSeconds(int64_t civil_seconds);
// DaysInMonth: 28..31 with Gregorian leap years. REQUIRES: 1 <= m <= 12.
int DaysInMonth(int64_t y, int m);
// ValidCivil: month, day (for that month), hour < 24, minute < 60, second < 60.
bool ValidCivil(const CivilTime& t);

// FormatCivil: layout with tokens YYYY MM DD hh mm ss replaced by zero-padded fields
// (year padded to 4 digits); every other character is copied. Example:
// FormatCivil(t, "YYYY.MM.DD hh:mm:ss") -> "2026.08.21 06:20:40".
std::string FormatCivil(const CivilTime& t, std::string_view layout);

}  // namespace npushare::hami
