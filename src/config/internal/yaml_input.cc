#include "config/internal/yaml_input.h"

#include <sstream>
#include <string>
#include <utility>

namespace npushare::config::internal {
namespace {

// LimitScanner: counts events of yaml-cpp's event parser and remembers the first limit
// crossed. It cannot stop the parser, but the text is already size-limited and yaml-cpp
// guards its own recursion, so finishing the scan is bounded.
class LimitScanner : public YAML::EventHandler {
 public:
  explicit LimitScanner(const YamlLimits& limits) : limits_(limits) {}

  bool exceeded() const { return exceeded_; }
  const YAML::Mark& where() const { return where_; }
  const std::string& what() const { return what_; }

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { CountNode(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override {
    CountNode(mark);
    if (++aliases_ > limits_.max_aliases) {
      Exceed(mark, "more than " + std::to_string(limits_.max_aliases) + " YAML aliases");
    }
  }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string&) override {
    CountNode(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    Open(mark);
  }
  void OnSequenceEnd() override { --depth_; }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    Open(mark);
  }
  void OnMapEnd() override { --depth_; }

 private:
  void CountNode(const YAML::Mark& mark) {
    if (++nodes_ > limits_.max_nodes) {
      Exceed(mark, "more than " + std::to_string(limits_.max_nodes) + " YAML nodes");
    }
  }
  void Open(const YAML::Mark& mark) {
    CountNode(mark);
    if (++depth_ > limits_.max_depth) {
      Exceed(mark, "YAML nested deeper than " + std::to_string(limits_.max_depth) + " levels");
    }
  }
  void Exceed(const YAML::Mark& mark, std::string what) {
    if (exceeded_)
      return;
    exceeded_ = true;
    where_ = mark;
    what_ = std::move(what);
  }

  const YamlLimits& limits_;
  int depth_ = 0;
  int aliases_ = 0;
  int nodes_ = 0;
  bool exceeded_ = false;
  YAML::Mark where_;
  std::string what_;
};

// Printable: yaml-cpp messages may quote raw input bytes; keep diagnostics printable ASCII.
std::string Printable(std::string s) {
  for (char& c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f)
      c = '?';
  }
  return s;
}

SourcePos MapMark(const YAML::Mark& mark, const LineMapping& mapping) {
  if (mark.line < 0)
    return mapping.exact ? SourcePos{} : mapping.anchor;
  return mapping.Map(mark.line, mark.column);
}

// BlockScalarMapping: the mapping for a scalar whose indicator ('|') sits at byte `pos` of
// `text`, on 0-based line `line`; `parent_column` is the 0-based column of its key.
LineMapping BlockScalarMapping(std::string_view text, size_t pos, int line, int parent_column) {
  LineMapping m;
  m.line_offset = line + 1;
  // Header: indentation digit and chomping indicator, in either order.
  int explicit_indent = 0;
  size_t i = pos + 1;
  while (i < text.size() && text[i] != '\n' && text[i] != '#' && text[i] != ' ') {
    if (text[i] >= '1' && text[i] <= '9')
      explicit_indent = text[i] - '0';
    ++i;
  }
  if (explicit_indent > 0) {
    m.column_offset = parent_column + explicit_indent;
    return m;
  }
  // Auto-detected indentation: that of the first non-blank content line.
  size_t line_start = text.find('\n', pos);
  while (line_start != std::string_view::npos) {
    ++line_start;
    size_t j = line_start;
    while (j < text.size() && text[j] == ' ')
      ++j;
    if (j < text.size() && text[j] != '\n' && text[j] != '\r') {
      m.column_offset = static_cast<int>(j - line_start);
      return m;
    }
    line_start = text.find('\n', line_start);
  }
  return m;
}

}  // namespace

YAML::Node ChildOf(const YAML::Node& node, std::string_view key) {
  if (node.IsDefined() && node.IsMap()) {
    for (const auto& kv : node) {
      const YAML::Node k = kv.first;
      if (k.IsScalar() && k.Scalar() == key)
        return kv.second;
    }
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

SourcePos LineMapping::Map(int line0, int column0) const {
  if (!exact)
    return anchor;
  return {line0 + line_offset + 1, column0 + column_offset + 1};
}

SourcePos PosOf(const YAML::Node& node, const LineMapping& mapping) {
  if (!node.IsDefined())
    return mapping.exact ? SourcePos{} : mapping.anchor;
  return MapMark(node.Mark(), mapping);
}

bool LoadYamlDocuments(std::string_view text, const YamlLimits& limits, const LineMapping& mapping,
                       std::vector<YAML::Node>* docs, YamlError* error) {
  docs->clear();
  if (text.size() > limits.max_bytes) {
    *error = {mapping.exact ? SourcePos{1, 1} : mapping.anchor,
              "YAML text is larger than " + std::to_string(limits.max_bytes) + " bytes"};
    return false;
  }
  const std::string owned(text);
  try {
    std::istringstream in(owned);
    YAML::Parser parser(in);
    LimitScanner scanner(limits);
    while (!scanner.exceeded() && parser.HandleNextDocument(scanner)) {
    }
    if (scanner.exceeded()) {
      *error = {MapMark(scanner.where(), mapping), scanner.what()};
      return false;
    }
    *docs = YAML::LoadAll(owned);
    return true;
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own recursion guard fires before our pre-scan can report the depth.
    *error = {MapMark(e.mark, mapping), "YAML nested too deeply"};
  } catch (const YAML::Exception& e) {
    *error = {MapMark(e.mark, mapping), "invalid YAML: " + Printable(e.msg)};
  } catch (const std::exception& e) {
    *error = {mapping.exact ? SourcePos{1, 1} : mapping.anchor,
              std::string("cannot parse YAML: ") + e.what()};
  }
  docs->clear();
  return false;
}

LocateResult LocateConfig(std::string_view text, const std::vector<YAML::Node>& docs,
                          std::string_view top_key, std::string_view data_key,
                          const YamlLimits& limits, LocatedConfig* out, YamlError* error) {
  const std::string top(top_key);
  const std::string data_name(data_key);
  const LineMapping identity;
  int found = 0;
  try {
    for (const YAML::Node& doc : docs) {
      if (!doc.IsMap())
        continue;
      LocatedConfig candidate;
      if (ChildOf(doc, top).IsDefined()) {
        candidate.root = doc;
        candidate.mapping = identity;
      } else {
        const YAML::Node data = ChildOf(doc, "data");
        const YAML::Node entry = ChildOf(data, data_name);
        if (!entry.IsDefined())
          continue;
        const SourcePos entry_pos = PosOf(entry, identity);
        if (!entry.IsScalar()) {
          *error = {entry_pos, "data." + data_name + " must be a string (use `|-` block style)"};
          return LocateResult::kError;
        }
        LineMapping mapping;
        const YAML::Mark mark = entry.Mark();
        const auto pos = static_cast<size_t>(mark.pos);
        if (mark.pos >= 0 && pos < text.size() && text[pos] == '|') {
          // The key's column is where the parent block starts; find it from the data map.
          int key_column = mark.column;
          for (const auto& kv : data) {
            const YAML::Node key = kv.first;
            if (key.Scalar() == data_name)
              key_column = key.Mark().column;
          }
          mapping = BlockScalarMapping(text, pos, mark.line, key_column);
        } else {
          mapping.exact = false;
          mapping.anchor = entry_pos;
        }
        std::vector<YAML::Node> inner;
        if (!LoadYamlDocuments(entry.Scalar(), limits, mapping, &inner, error)) {
          error->message = "data." + data_name + ": " + error->message;
          return LocateResult::kError;
        }
        if (inner.empty() || !ChildOf(inner.front(), top).IsDefined()) {
          *error = {entry_pos, "data." + data_name + " has no top-level `" + top + ":` key"};
          return LocateResult::kError;
        }
        if (inner.size() > 1) {
          *error = {entry_pos, "data." + data_name + " holds more than one YAML document"};
          return LocateResult::kError;
        }
        candidate.root = inner.front();
        candidate.mapping = mapping;
        candidate.embedded = true;
      }
      if (++found > 1) {
        *error = {PosOf(doc, identity),
                  "more than one `" + top + "` config in this file; split them into files"};
        return LocateResult::kError;
      }
      *out = std::move(candidate);
    }
  } catch (const YAML::Exception& e) {
    *error = {MapMark(e.mark, identity), "invalid YAML: " + Printable(e.msg)};
    return LocateResult::kError;
  }
  return found == 1 ? LocateResult::kFound : LocateResult::kNotFound;
}

}  // namespace npushare::config::internal
