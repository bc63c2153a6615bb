// File: tests/unit/docs/source_scan.h
//
// Small, dependency-free scanners over C++ source text and Markdown, for the tests that keep
// docs/ in step with the code (docs_coverage_test.cc). They extract what a user can see —
// reason constants, Event reasons, the fixed words of error messages and log lines, flags in
// --help output, config keys, metric names — so each can be looked up in a document.
//
// Overview:
//   StripComments(code)            // comments become spaces; string literals kept
//   CallLiterals(code, callee)     // literal groups passed to calls of `callee`
//   MessageFragments(groups, fmt)  // the fixed words of those messages
//   ConstexprStrings(code)         // inline constexpr char kX[] = "..." -> {kX, "..."}
//   EventReasons(code)             // "Warning"/"Normal", "<Reason>" pairs -> reasons
//   LongFlags(help)                // --flag tokens of a --help text
//   Subcommands(help)              // names listed under "Subcommands:" (CLI11)
//   NormalizeSpace(text)           // runs of whitespace -> one space, for lookups
//
// A "literal group" is the text of adjacent string literals ("a" "b" -> "ab"), unescaped.
// These are heuristics for our own sources, not a C++ parser: raw strings are not handled,
// which is fine as long as no scanned message uses one (the tests fail loudly if a scan finds
// nothing at all).
//
// Thread safety: pure functions.
#pragma once

#include <cctype>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace npushare::docs_test {

// ReadText: the whole file, or "" when it cannot be read.
inline std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// SkipLiteral: `pos` is at an opening quote (" or '); returns the index after the closing one
// and appends the raw (still escaped) contents to *body when body != nullptr.
inline size_t SkipLiteral(std::string_view code, size_t pos, std::string* body) {
  const char quote = code[pos];
  size_t i = pos + 1;
  while (i < code.size() && code[i] != quote) {
    if (code[i] == '\\' && i + 1 < code.size()) {
      if (body != nullptr) {
        body->append(code.substr(i, 2));
      }
      i += 2;
      continue;
    }
    if (body != nullptr) {
      body->push_back(code[i]);
    }
    ++i;
  }
  return i + 1;
}

// StripComments: `code` with // and /* */ comments replaced by spaces (newlines kept).
inline std::string StripComments(std::string_view code) {
  std::string out(code);
  size_t i = 0;
  while (i < code.size()) {
    const char c = code[i];
    if (c == '"' || c == '\'') {
      i = SkipLiteral(code, i, nullptr);
    } else if (c == '/' && i + 1 < code.size() && code[i + 1] == '/') {
      while (i < code.size() && code[i] != '\n') {
        out[i++] = ' ';
      }
    } else if (c == '/' && i + 1 < code.size() && code[i + 1] == '*') {
      while (i < code.size() && !(code[i] == '*' && i + 1 < code.size() && code[i + 1] == '/')) {
        out[i] = code[i] == '\n' ? '\n' : ' ';
        ++i;
      }
      if (i < code.size()) {
        out[i] = ' ';
        out[i + 1] = ' ';
        i += 2;
      }
    } else {
      ++i;
    }
  }
  return out;
}

// Unescape: the common C escapes; \n and \t become a space (messages are read as prose).
inline std::string Unescape(std::string_view raw) {
  std::string out;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\\' && i + 1 < raw.size()) {
      const char e = raw[++i];
      out.push_back(e == 'n' || e == 't' ? ' ' : e);
    } else {
      out.push_back(raw[i]);
    }
  }
  return out;
}

inline bool IsIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

// CallLiterals: for every call `<callee>(` in comment-stripped `code`, the literal groups among
// its arguments (nested calls included), unescaped. With `suffix_match` the callee may be the
// end of a longer identifier ("Error(" matches InvalidArgumentError( and FilterError(); else
// the character before it must not be part of an identifier ("Log(" does not match "SetLog(").
inline std::vector<std::string> CallLiterals(std::string_view code, std::string_view callee,
                                             bool suffix_match) {
  const std::string text = StripComments(code);
  std::vector<std::string> groups;
  size_t from = 0;
  while (from < text.size()) {
    if (text[from] == '"' || text[from] == '\'') {
      from = SkipLiteral(text, from, nullptr);  // a callee name inside a literal is no call
      continue;
    }
    if (text.compare(from, callee.size(), callee) != 0) {
      ++from;
      continue;
    }
    const size_t start = from;
    from += callee.size();
    if (!suffix_match && start > 0 && IsIdentChar(text[start - 1])) {
      continue;
    }
    int depth = 1;
    size_t i = from;
    std::string current;
    bool have = false;
    size_t last_end = 0;
    while (i < text.size() && depth > 0) {
      const char c = text[i];
      if (c == '"') {
        std::string body;
        const size_t end = SkipLiteral(text, i, &body);
        const bool adjacent =
            have &&
            text.substr(last_end, i - last_end).find_first_not_of(" \t\r\n") == std::string::npos;
        if (!adjacent && have) {
          groups.push_back(Unescape(current));
          current.clear();
        }
        current += body;
        have = true;
        last_end = end;
        i = end;
        continue;
      }
      if (c == '\'') {
        i = SkipLiteral(text, i, nullptr);
        continue;
      }
      depth += c == '(' ? 1 : c == ')' ? -1 : 0;
      ++i;
    }
    if (have) {
      groups.push_back(Unescape(current));
    }
    from = i;
  }
  return groups;
}

// Trim: without leading and trailing whitespace.
inline std::string Trim(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) {
    return "";
  }
  const size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

// MessageFragments: the fixed words of each group: split at printf conversions when
// `printf_format` (so "%s" and "%llu" are the variable parts), trimmed, keeping pieces with at
// least four letters (shorter ones such as " (" or " MB" say nothing on their own) and not a
// field-path suffix such as ".commonWord" (config diagnostics pass the field separately).
inline std::vector<std::string> MessageFragments(const std::vector<std::string>& groups,
                                                 bool printf_format) {
  static const std::regex kConversion("%[-+ #0-9.]*(hh|h|ll|l|z|j|t)?[diouxXfFeEgGcsp%]");
  std::vector<std::string> out;
  for (const std::string& g : groups) {
    std::vector<std::string> parts;
    if (printf_format) {
      std::sregex_token_iterator it(g.begin(), g.end(), kConversion, -1);
      for (; it != std::sregex_token_iterator(); ++it) {
        parts.push_back(*it);
      }
    } else {
      parts.push_back(g);
    }
    for (const std::string& p : parts) {
      std::string t = Trim(p);
      int letters = 0;
      for (char c : t) {
        letters += std::isalpha(static_cast<unsigned char>(c)) != 0 ? 1 : 0;
      }
      // ".commonWord": a field-path suffix passed beside the message, not message text.
      const bool path_suffix = !t.empty() && t.front() == '.' && t.find(' ') == std::string::npos;
      if (letters >= 4 && !path_suffix) {
        out.push_back(std::move(t));
      }
    }
  }
  return out;
}

// ConstexprStrings: every `inline constexpr char kName[] = "value";` -> {kName, value}.
inline std::vector<std::pair<std::string, std::string>> ConstexprStrings(const std::string& code) {
  static const std::regex kDecl(R"re(inline\s+constexpr\s+char\s+(k\w+)\[\]\s*=\s*"([^"]*)")re");
  std::vector<std::pair<std::string, std::string>> out;
  const std::string text = StripComments(code);
  for (std::sregex_iterator it(text.begin(), text.end(), kDecl); it != std::sregex_iterator();
       ++it) {
    out.emplace_back((*it)[1], (*it)[2]);
  }
  return out;
}

// EventReasons: the reason of every Event a call site posts, spelled as
// `..., "Warning", "Reason", ...` or `"Normal", "Reason"` (RecordEvent and its wrappers).
inline std::set<std::string> EventReasons(const std::string& code) {
  static const std::regex kSite(R"re("(?:Warning|Normal)"\s*,\s*"([A-Za-z]+)")re");
  std::set<std::string> out;
  const std::string text = StripComments(code);
  for (std::sregex_iterator it(text.begin(), text.end(), kSite); it != std::sregex_iterator();
       ++it) {
    out.insert((*it)[1]);
  }
  return out;
}

// LongFlags: every --flag token in a --help text (the value placeholder and "=default" cut).
inline std::set<std::string> LongFlags(const std::string& help) {
  static const std::regex kFlag(R"re((^|[^A-Za-z0-9_-])(--[A-Za-z][A-Za-z0-9_-]*))re");
  std::set<std::string> out;
  for (std::sregex_iterator it(help.begin(), help.end(), kFlag); it != std::sregex_iterator();
       ++it) {
    out.insert((*it)[2]);
  }
  return out;
}

// Subcommands: the names listed under a CLI11 "Subcommands:" heading (two-space indent).
inline std::vector<std::string> Subcommands(const std::string& help) {
  std::vector<std::string> out;
  std::istringstream in(help);
  std::string line;
  bool in_section = false;
  while (std::getline(in, line)) {
    if (line.rfind("Subcommands:", 0) == 0) {
      in_section = true;
      continue;
    }
    if (!in_section) {
      continue;
    }
    if (line.empty()) {
      break;
    }
    if (line.size() > 2 && line[0] == ' ' && line[1] == ' ' && line[2] != ' ') {
      out.push_back(line.substr(2, line.find(' ', 2) - 2));
    }
  }
  return out;
}

// QuotedStrings: every string literal in comment-stripped `code` matching `pattern` (whole
// literal), unescaped.
inline std::set<std::string> QuotedStrings(const std::string& code, const std::regex& pattern) {
  std::set<std::string> out;
  const std::string text = StripComments(code);
  for (size_t i = 0; i < text.size();) {
    if (text[i] == '"') {
      std::string body;
      const size_t end = SkipLiteral(text, i, &body);
      std::string s = Unescape(body);
      if (std::regex_match(s, pattern)) {
        out.insert(std::move(s));
      }
      i = end;
    } else if (text[i] == '\'') {
      i = SkipLiteral(text, i, nullptr);
    } else {
      ++i;
    }
  }
  return out;
}

// NormalizeSpace: runs of whitespace as one space, so a message wrapped across Markdown lines
// is still found.
inline std::string NormalizeSpace(std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c)) != 0) {
      space = true;
      continue;
    }
    if (space && !out.empty()) {
      out.push_back(' ');
    }
    space = false;
    out.push_back(c);
  }
  return out;
}

}  // namespace npushare::docs_test
