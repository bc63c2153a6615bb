// File: hami/go_text.h
//
// Small re-implementations of Go standard-library text behaviour that leaks
// into HAMi's wire contract: error messages that embed %q-quoted values,
// time.Duration's String() form and strconv.ParseInt's accepted syntax.
// Matching them byte for byte is what lets the compat runner compare upstream
// error texts (the one place where message text is part of the contract).
//
// Thread safety: all functions are pure and safe for concurrent use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace npushare::hami {

// GoQuote: the result of Go's strconv.Quote(s) (what fmt's %q prints for a string):
// double-quoted, `"` and `\` escaped, \a\b\f\n\r\t\v, other control bytes as \xNN,
// U+0080..U+009F as \u00NN, invalid UTF-8 bytes as \xNN; other valid UTF-8 kept.
std::string GoQuote(std::string_view s);

// GoQuoteByte: how encoding/json's scanner quotes an offending byte in
// "invalid character 'x' ..." messages ('\'' for a quote, '"' for a double quote,
// otherwise the byte taken as a rune in U+0000..U+00FF, strconv-quoted in single quotes).
std::string GoQuoteByte(unsigned char c);

// FormatGoDurationSeconds: Go's time.Duration.String() for a whole number of seconds,
// e.g. 300 -> "5m0s", 3600 -> "1h0m0s", 30 -> "30s", 0 -> "0s", -90 -> "-1m30s".
std::string FormatGoDurationSeconds(int64_t seconds);

// ParseGoInt: strconv.ParseInt(s, 10, bits) with bits in [1, 64]: an optional sign
// ('+' or '-') then one or more ASCII digits, nothing else (no spaces, no '_'), value in
// the signed range of `bits`. Returns std::nullopt on any syntax or range error.
std::optional<int64_t> ParseGoInt(std::string_view s, int bits);

// TrimGoSpace: strings.TrimSpace for the ASCII whitespace set plus U+0085 and U+00A0
// (the Latin-1 spaces Go's unicode.IsSpace also trims). Other Unicode spaces are kept.
std::string_view TrimGoSpace(std::string_view s);

// DecodeUtf8: length (1..4) of the valid UTF-8 sequence at s[i], with its code point in *cp;
// 0 when the byte at s[i] does not start a valid (shortest-form, non-surrogate, <= U+10FFFF)
// sequence, *cp then unspecified. REQUIRES: i < s.size().
size_t DecodeUtf8(std::string_view s, size_t i, uint32_t* cp);

}  // namespace npushare::hami
