#include "scheduler/http/extender_wire.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace npushare::scheduler::http {
namespace {

using nlohmann::json;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Canonicalise: copies `body`'s keys onto their Go names (`names`), null for absent ones.
template <size_t N>
Result<json> Canonicalise(json body, const std::array<const char*, N>& names, const char* type) {
  if (!body.is_object()) {
    return InvalidArgumentError(std::string("body must be a JSON ") + type + " object");
  }
  json out = json::object();
  for (const char* n : names) {
    out[n] = nullptr;
  }
  std::array<bool, N> seen{};
  for (auto it = body.begin(); it != body.end(); ++it) {
    size_t i = 0;
    while (i < N && !EqualsIgnoreCase(it.key(), names[i])) {
      ++i;
    }
    if (i == N) {
      return InvalidArgumentError("unknown field \"" + it.key() + "\" in " + type);
    }
    if (seen[i]) {
      return InvalidArgumentError(std::string("duplicate field \"") + names[i] + "\" in " + type);
    }
    seen[i] = true;
    out[names[i]] = std::move(*it);  // a Pod can be large: moved, not copied
  }
  return out;
}

// StringMapOrNull: a {string: string} map (copied) or null; nullopt on another shape.
std::optional<json> StringMapOrNull(const json& v) {
  if (v.is_null()) {
    return json(nullptr);
  }
  if (!v.is_object()) {
    return std::nullopt;
  }
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (!it->is_string()) {
      return std::nullopt;
    }
  }
  return v;
}

// JsonBuilder: builds one JSON value from SAX events (what nlohmann's own DOM parser does):
// a stack of the open containers; a repeated key in an object overrides the earlier value.
class JsonBuilder {
 public:
  // Start: `root` becomes an empty object or array that the next events fill.
  void Start(json& root, bool object) {
    root = object ? json::object() : json::array();
    stack_.assign(1, &root);
  }
  void Key(std::string& key) { key_ = std::move(key); }
  void Add(json&& value) { Slot() = std::move(value); }
  void Open(bool object) {
    json& child = Slot();
    child = object ? json::object() : json::array();
    stack_.push_back(&child);
  }
  void Close() { stack_.pop_back(); }

 private:
  // Slot: where the next value goes. An array's elements do not move while a child of it is
  // open: only that child grows until it is closed.
  json& Slot() {
    json& top = *stack_.back();
    if (top.is_object()) {
      return top[key_];
    }
    top.push_back(nullptr);
    return top.back();
  }

  std::vector<json*> stack_;
  std::string key_;
};

constexpr std::array<const char*, 3> kArgsNames = {"Pod", "Nodes", "NodeNames"};
enum ArgsField { kPod = 0, kNodes = 1, kNodeNames = 2, kUnknown = 3 };

ArgsField ClassifyArgsKey(std::string_view key) {
  for (size_t i = 0; i < kArgsNames.size(); ++i) {
    if (EqualsIgnoreCase(key, kArgsNames[i])) {
      return static_cast<ArgsField>(i);
    }
  }
  return kUnknown;
}

// ArgsEntry: one top-level key of an ExtenderArgs body as written (exact spelling).
struct ArgsEntry {
  ArgsField field = kUnknown;
  json value;  // Pod / Nodes
  // NodeNames: the value's kind, the names, and whether an entry was not a non-empty string.
  enum Kind { kNull, kList, kOther } names_kind = kNull;
  std::vector<std::string> names;
  size_t names_count = 0;
  bool bad_name = false;
};
using ArgsEntries = std::map<std::string, ArgsEntry>;  // sorted, as a parsed object's keys are

// --- the fast path: the shape kube-scheduler sends, scanned directly ---
//
// kube-scheduler's body is {"Pod":{...},"Nodes":null,"NodeNames":["n1",...]}: node names are
// plain ASCII. FastScanArgs accepts only a strict subset of JSON: a top-level object of known
// keys, each once, whose keys and node names are printable ASCII without escapes, whose
// NodeNames is null or such a list, and whose other values parse as JSON on their own.
// Anything else (escapes, non-ASCII names, unknown or repeated keys, bad syntax) returns
// false and the SAX path below reads the body, with its exact messages. For every body it
// accepts, both paths give the same entries (tested on generated bodies).
class FastArgsScanner {
 public:
  explicit FastArgsScanner(std::string_view text) : t_(text) {}

  bool Scan(ArgsEntries& out) {
    SkipSpace();
    if (!Eat('{')) {
      return false;
    }
    SkipSpace();
    if (Eat('}')) {
      return AtEnd();
    }
    std::array<bool, 3> seen{};
    while (true) {
      SkipSpace();
      std::string_view key;
      if (!PlainString(key)) {
        return false;
      }
      const ArgsField field = ClassifyArgsKey(key);
      if (field == kUnknown || seen[field]) {
        return false;
      }
      seen[field] = true;
      ArgsEntry& e = out[std::string(key)];
      e.field = field;
      SkipSpace();
      if (!Eat(':')) {
        return false;
      }
      SkipSpace();
      if (!(field == kNodeNames ? Names(e) : Value(e.value))) {
        return false;
      }
      SkipSpace();
      if (Eat('}')) {
        return AtEnd();
      }
      if (!Eat(',')) {
        return false;
      }
    }
  }

 private:
  bool AtEnd() {
    SkipSpace();
    return i_ == t_.size();
  }
  void SkipSpace() {
    while (i_ < t_.size() &&
           (t_[i_] == ' ' || t_[i_] == '\n' || t_[i_] == '\r' || t_[i_] == '\t')) {
      ++i_;
    }
  }
  bool Eat(char c) {
    if (i_ < t_.size() && t_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  // PlainString: "..." of printable ASCII without escapes.
  bool PlainString(std::string_view& out) {
    if (!Eat('"')) {
      return false;
    }
    const size_t start = i_;
    while (i_ < t_.size() && t_[i_] != '"') {
      const unsigned char c = static_cast<unsigned char>(t_[i_]);
      if (c < 0x20 || c > 0x7e || c == '\\') {
        return false;
      }
      ++i_;
    }
    if (i_ == t_.size()) {
      return false;
    }
    out = t_.substr(start, i_ - start);
    ++i_;
    return true;
  }
  bool Names(ArgsEntry& e) {
    if (t_.substr(i_, 4) == "null") {
      i_ += 4;
      e.names_kind = ArgsEntry::kNull;
      return true;
    }
    if (!Eat('[')) {
      return false;
    }
    e.names_kind = ArgsEntry::kList;
    SkipSpace();
    if (Eat(']')) {
      return true;
    }
    while (true) {
      SkipSpace();
      std::string_view name;
      if (!PlainString(name) || name.empty() || e.names.size() >= kMaxNodeNames) {
        return false;
      }
      e.names.emplace_back(name);
      ++e.names_count;
      SkipSpace();
      if (Eat(']')) {
        return true;
      }
      if (!Eat(',')) {
        return false;
      }
    }
  }
  // Value: any JSON value, found by matching brackets outside strings, then parsed strictly
  // on its own (a wrongly found end makes that parse, or the scan after it, fail).
  bool Value(json& out) {
    const size_t start = i_;
    size_t depth = 0;
    bool in_string = false;
    for (; i_ < t_.size(); ++i_) {
      const char c = t_[i_];
      if (in_string) {
        if (c == '\\') {
          ++i_;
        } else if (c == '"') {
          in_string = false;
        }
        continue;
      }
      if (c == '"') {
        in_string = true;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (depth == 0) {
          break;  // the end of the top object
        }
        if (--depth == 0) {
          ++i_;
          break;
        }
      } else if (c == ',' && depth == 0) {
        break;
      }
    }
    out = json::parse(t_.substr(start, i_ - start), nullptr, /*allow_exceptions=*/false);
    return !out.is_discarded();
  }

  std::string_view t_;
  size_t i_ = 0;
};

// ExtenderArgsSax: one pass over an ExtenderArgs body. Shape problems are recorded, never
// stop the parse, so a syntax error anywhere wins (as when the whole body was parsed first).
class ExtenderArgsSax final : public nlohmann::json_sax<json> {
 public:
  using Entry = ArgsEntry;

  std::string syntax_error;
  bool top_is_object = false;
  ArgsEntries entries;

  bool null() override { return Scalar(json(nullptr)); }
  bool boolean(bool v) override { return Scalar(json(v)); }
  bool number_integer(number_integer_t v) override { return Scalar(json(v)); }
  bool number_unsigned(number_unsigned_t v) override { return Scalar(json(v)); }
  bool number_float(number_float_t v, const string_t&) override { return Scalar(json(v)); }
  bool binary(binary_t&) override { return Scalar(json(nullptr)); }  // not in JSON text
  bool string(string_t& v) override {
    if (entry_ != nullptr && entry_->field == kNodeNames && depth_ == 1) {
      if (entry_->names_kind == Entry::kList) {
        ++entry_->names_count;
        if (v.empty()) {
          entry_->bad_name = true;
        } else if (entry_->names.size() < kMaxNodeNames) {
          entry_->names.push_back(std::move(v));
        }
      }
      return true;
    }
    return Scalar(json(std::move(v)));
  }
  bool start_object(std::size_t) override { return Open(true); }
  bool start_array(std::size_t) override { return Open(false); }
  bool end_object() override { return Close(); }
  bool end_array() override { return Close(); }
  bool key(string_t& k) override {
    if (state_ == kInTop && depth_ == 0) {
      Entry& e = entries[k];
      e = Entry();  // an exact repeat overrides
      e.field = ClassifyArgsKey(k);
      entry_ = &e;
      return true;
    }
    if (entry_ != nullptr && Building()) {
      builder_.Key(k);
    }
    return true;
  }
  bool parse_error(std::size_t, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    syntax_error = ex.what();
    return false;
  }

 private:
  enum State { kBefore, kInTop, kDone };

  bool Building() const { return entry_->field == kPod || entry_->field == kNodes; }

  // A scalar: the whole body (not an object), a field's value, or inside one.
  bool Scalar(json&& v) {
    if (state_ != kInTop) {
      state_ = kDone;
      return true;
    }
    if (entry_ == nullptr) {
      return true;
    }
    if (Building()) {
      if (depth_ == 0) {
        entry_->value = std::move(v);
      } else {
        builder_.Add(std::move(v));
      }
    } else if (entry_->field == kNodeNames) {
      if (depth_ == 0) {
        entry_->names_kind = v.is_null() ? Entry::kNull : Entry::kOther;
      } else if (depth_ == 1) {
        ++entry_->names_count;
        entry_->bad_name = true;
      }
    }
    if (depth_ == 0) {
      entry_ = nullptr;  // the field's value is complete
    }
    return true;
  }

  bool Open(bool object) {
    if (state_ == kBefore) {
      state_ = object ? kInTop : kDone;
      top_is_object = object;
      return true;
    }
    if (state_ == kDone) {
      return true;  // a body that is not an object: only its syntax still matters
    }
    if (entry_ != nullptr) {
      if (Building()) {
        if (depth_ == 0) {
          builder_.Start(entry_->value, object);
        } else {
          builder_.Open(object);
        }
      } else if (entry_->field == kNodeNames) {
        if (depth_ == 0) {
          entry_->names_kind = object ? Entry::kOther : Entry::kList;
        } else if (depth_ == 1 && entry_->names_kind == Entry::kList) {
          ++entry_->names_count;
          entry_->bad_name = true;
        }
      }
    }
    ++depth_;
    return true;
  }

  bool Close() {
    if (state_ == kDone) {
      return true;
    }
    if (depth_ == 0) {  // the top object ends
      state_ = kDone;
      return true;
    }
    --depth_;
    if (entry_ != nullptr) {
      if (Building() && depth_ > 0) {
        builder_.Close();
      }
      if (depth_ == 0) {
        entry_ = nullptr;
      }
    }
    return true;
  }

  State state_ = kBefore;
  size_t depth_ = 0;        // nesting inside the current field's value
  Entry* entry_ = nullptr;  // the field whose value is being read; null for none
  JsonBuilder builder_;
};

}  // namespace

Result<ExtenderFilterArgs> ParseExtenderArgs(std::string_view text) {
  ArgsEntries entries;
  if (!FastArgsScanner(text).Scan(entries)) {
    entries.clear();
    ExtenderArgsSax sax;
    const bool parsed = json::sax_parse(text, &sax, nlohmann::detail::input_format_t::json,
                                        /*strict=*/true, /*ignore_comments=*/false);
    if (!parsed || !sax.syntax_error.empty()) {
      return InvalidArgumentError(
          "request body is not valid JSON" +
          (sax.syntax_error.empty() ? std::string() : ": " + sax.syntax_error));
    }
    if (!sax.top_is_object) {
      return InvalidArgumentError("body must be a JSON ExtenderArgs object");
    }
    entries = std::move(sax.entries);
  }
  // The key checks of Canonicalise, in the same (sorted) order.
  std::array<ArgsEntry*, 3> fields{};
  for (auto& [k, e] : entries) {
    if (e.field == kUnknown) {
      return InvalidArgumentError("unknown field \"" + k + "\" in ExtenderArgs");
    }
    if (fields[e.field] != nullptr) {
      return InvalidArgumentError(std::string("duplicate field \"") + kArgsNames[e.field] +
                                  "\" in ExtenderArgs");
    }
    fields[e.field] = &e;
  }
  ExtenderFilterArgs out;
  if (fields[kPod] == nullptr || fields[kPod]->value.is_null()) {
    return InvalidArgumentError("extender args missing pod");
  }
  if (!fields[kPod]->value.is_object()) {
    return InvalidArgumentError("ExtenderArgs.Pod must be a Pod object");
  }
  if (fields[kNodes] != nullptr) {
    json& nodes = fields[kNodes]->value;
    if (!nodes.is_null() && !nodes.is_object()) {
      return InvalidArgumentError("ExtenderArgs.Nodes must be a NodeList object or null");
    }
    out.nodes = std::move(nodes);
  }
  if (ArgsEntry* names = fields[kNodeNames];
      names != nullptr && names->names_kind != ArgsEntry::kNull) {
    if (names->names_kind != ArgsEntry::kList) {
      return InvalidArgumentError("ExtenderArgs.NodeNames must be a list of node names or null");
    }
    if (names->names_count > kMaxNodeNames) {
      return InvalidArgumentError("ExtenderArgs.NodeNames has more than " +
                                  std::to_string(kMaxNodeNames) + " names");
    }
    if (names->bad_name) {
      return InvalidArgumentError("ExtenderArgs.NodeNames entries must be non-empty strings");
    }
    out.node_names = std::move(names->names);
  }
  if (out.nodes.is_null() && !out.node_names) {
    return InvalidArgumentError("ExtenderArgs has neither NodeNames nor Nodes");
  }
  out.pod = std::move(fields[kPod]->value);
  return out;
}

Result<json> CanonicalExtenderArgs(json body) {
  static constexpr std::array<const char*, 3> kNames = {"Pod", "Nodes", "NodeNames"};
  NPUSHARE_ASSIGN_OR_RETURN(json args, Canonicalise(std::move(body), kNames, "ExtenderArgs"));
  if (args["Pod"].is_null()) {
    return InvalidArgumentError("extender args missing pod");
  }
  if (!args["Pod"].is_object()) {
    return InvalidArgumentError("ExtenderArgs.Pod must be a Pod object");
  }
  const json& nodes = args["Nodes"];
  if (!nodes.is_null() && !nodes.is_object()) {
    return InvalidArgumentError("ExtenderArgs.Nodes must be a NodeList object or null");
  }
  const json& names = args["NodeNames"];
  if (!names.is_null()) {
    if (!names.is_array()) {
      return InvalidArgumentError("ExtenderArgs.NodeNames must be a list of node names or null");
    }
    if (names.size() > kMaxNodeNames) {
      return InvalidArgumentError("ExtenderArgs.NodeNames has more than " +
                                  std::to_string(kMaxNodeNames) + " names");
    }
    for (const auto& n : names) {
      if (!n.is_string() || n.get_ref<const std::string&>().empty()) {
        return InvalidArgumentError("ExtenderArgs.NodeNames entries must be non-empty strings");
      }
    }
  }
  if (nodes.is_null() && names.is_null()) {
    return InvalidArgumentError("ExtenderArgs has neither NodeNames nor Nodes");
  }
  return args;
}

Result<json> CanonicalBindingArgs(const json& body) {
  static constexpr std::array<const char*, 4> kNames = {"PodName", "PodNamespace", "PodUID",
                                                        "Node"};
  NPUSHARE_ASSIGN_OR_RETURN(json args, Canonicalise(body, kNames, "ExtenderBindingArgs"));
  for (const char* required : {"PodName", "PodNamespace", "Node"}) {
    const json& v = args[required];
    if (!v.is_string() || v.get_ref<const std::string&>().empty()) {
      return InvalidArgumentError(std::string("ExtenderBindingArgs.") + required +
                                  " must be a non-empty string");
    }
  }
  if (args["PodUID"].is_null()) {
    args["PodUID"] = "";
  } else if (!args["PodUID"].is_string()) {
    return InvalidArgumentError("ExtenderBindingArgs.PodUID must be a string");
  }
  return args;
}

json FilterErrorResult(const std::string& message) {
  return json{{"Nodes", nullptr},
              {"NodeNames", nullptr},
              {"FailedNodes", nullptr},
              {"FailedAndUnresolvableNodes", nullptr},
              {"Error", message}};
}

json FilterResultWire(json result) {
  static constexpr std::array<const char*, 5> kNames = {"Nodes", "NodeNames", "FailedNodes",
                                                        "FailedAndUnresolvableNodes", "Error"};
  auto canon = Canonicalise(std::move(result), kNames, "ExtenderFilterResult");
  if (!canon.ok()) {
    return FilterErrorResult("internal: scheduler produced a bad filter result: " +
                             canon.status().message());
  }
  json out = std::move(*canon);
  if (out["Error"].is_null()) {
    out["Error"] = "";
  } else if (!out["Error"].is_string()) {
    return FilterErrorResult("internal: filter result Error is not a string");
  }
  for (const char* m : {"FailedNodes", "FailedAndUnresolvableNodes"}) {
    auto map = StringMapOrNull(out[m]);
    if (!map) {
      return FilterErrorResult(std::string("internal: filter result ") + m +
                               " is not a map of strings");
    }
  }
  json& names = out["NodeNames"];
  if (!names.is_null()) {
    if (!names.is_array()) {
      return FilterErrorResult("internal: filter result NodeNames is not a list");
    }
    for (const auto& n : names) {
      if (!n.is_string()) {
        return FilterErrorResult("internal: filter result NodeNames has a non-string entry");
      }
    }
  } else if (out["Nodes"].is_null() && out["Error"].get_ref<const std::string&>().empty()) {
    names = json::array();  // nothing passed: say so explicitly
  }
  return out;
}

json BindErrorResult(const std::string& message) {
  return json{{"Error", message}};
}

json BindResultWire(const json& result) {
  static constexpr std::array<const char*, 1> kNames = {"Error"};
  auto canon = Canonicalise(result, kNames, "ExtenderBindingResult");
  if (!canon.ok()) {
    return BindErrorResult("internal: scheduler produced a bad bind result: " +
                           canon.status().message());
  }
  json out = std::move(*canon);
  if (out["Error"].is_null()) {
    out["Error"] = "";
  } else if (!out["Error"].is_string()) {
    return BindErrorResult("internal: bind result Error is not a string");
  }
  return out;
}

}  // namespace npushare::scheduler::http
