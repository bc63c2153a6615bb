// File: hami/internal/go_json.h
//
// Internal to src/hami; not part of the library's API. Include the codec headers
// (node_register.h, runtime_info.h) instead.
//
// JSON as Go's encoding/json sees it: the decoders in this directory first run
// CheckGoJsonSyntax, so a malformed annotation is rejected with the same message
// upstream prints ("unexpected end of JSON input", "invalid character 'x' looking
// for beginning of value", ...), and only then let nlohmann build a tree.
// Deliberate difference: Go silently replaces invalid UTF-8 inside strings with
// U+FFFD; we reject it ("invalid UTF-8 in string literal"), because nothing
// legitimate writes it and it cannot round-trip.
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace npushare::hami::hami_internal {

// CheckGoJsonSyntax: OK if `text` is one JSON value (surrounded by optional
// whitespace), nested at most `max_depth` arrays/objects and with valid UTF-8 in its
// strings; otherwise kInvalidArgument with Go's scanner message for the first error.
Status CheckGoJsonSyntax(std::string_view text, int max_depth);

// ParseGoJson: size limit (kInvalidArgument naming the limit), CheckGoJsonSyntax, then
// the parsed tree (object keys in input order; a repeated key keeps its last value).
// Never throws.
Result<nlohmann::ordered_json> ParseGoJson(std::string_view text, size_t max_bytes, int max_depth);

// AppendGoJsonString: appends `s` as encoding/json.Marshal writes a string: quoted,
// `"` `\` escaped, \n \r \t \b \f, other control bytes and < > & U+2028 U+2029 as
// \u00XX / \u2028, invalid UTF-8 bytes as \ufffd.
void AppendGoJsonString(std::string& out, std::string_view s);

// AppendGoJsonKey: appends `"key":` to an object being written into `out`, preceded by ','
// unless *first (which is then cleared). Start each object with *first = true.
void AppendGoJsonKey(std::string& out, std::string_view key, bool* first);

// GoJsonIntInRange: the value of `v` when it is a JSON integer literal (not a fraction or
// exponent, which nlohmann stores as floats and Go rejects for integer fields) within
// [lo, hi]; nullopt otherwise.
std::optional<int64_t> GoJsonIntInRange(const nlohmann::ordered_json& v, int64_t lo, int64_t hi);

// GoJsonKind: how encoding/json names a JSON value in UnmarshalTypeError
// ("string", "number", "number <literal>", "bool", "array", "object").
std::string GoJsonKind(const nlohmann::ordered_json& v);

// EqualFoldAscii: ASCII case-insensitive equality (encoding/json's key matching for
// the ASCII field names used here).
bool EqualFoldAscii(std::string_view a, std::string_view b);

}  // namespace npushare::hami::hami_internal
