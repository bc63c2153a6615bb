#include "config/config_loader.h"

#include <yaml-cpp/yaml.h>

#include <optional>

#include "common/file_reader.h"
#include "config/config_validation.h"
#include "config/internal/decoders.h"
#include "config/internal/yaml_fields.h"
#include "config/internal/yaml_input.h"
#include "config/source_map.h"

namespace npushare::config {
namespace {

using internal::DecodeContext;
using internal::LocateConfig;
using internal::LocatedConfig;
using internal::LocateResult;
using internal::YamlError;
using internal::YamlLimits;

// KindSpec: what distinguishes the two config kinds.
struct KindSpec {
  std::string_view top_key;   // "vnpus"
  std::string_view data_key;  // "device-config.yaml"
};
constexpr KindSpec kDeviceKind{"vnpus", "device-config.yaml"};
constexpr KindSpec kNodeKind{"nodes", "node-config.yaml"};

void AddError(Diagnostics* diags, std::string_view source, SourcePos pos, std::string message) {
  diags->push_back(Diagnostic{Severity::kError, std::string(source), pos.line, pos.column, "",
                              std::move(message)});
}

// Failure: the kInvalidArgument returned when `diags` (this load's findings) hold errors.
Status Failure(std::string_view source, const Diagnostics& diags) {
  const int errors = CountSeverity(diags, Severity::kError);
  for (const auto& d : diags) {
    if (d.severity == Severity::kError) {
      // FormatDiagnostic already names the source.
      return InvalidArgumentError(std::to_string(errors) + (errors == 1 ? " error" : " errors") +
                                  " in config; first: " + FormatDiagnostic(d));
    }
  }
  return InvalidArgumentError(std::string(source) + ": invalid");
}

// Locate: parses `text` and finds the config of kind `spec`; false (with an error
// appended) when it cannot.
bool Locate(std::string_view text, std::string_view source, const KindSpec& spec,
            LocatedConfig* located, Diagnostics* diags) {
  const YamlLimits limits;
  std::vector<YAML::Node> docs;
  YamlError error;
  if (!internal::LoadYamlDocuments(text, limits, internal::LineMapping{}, &docs, &error)) {
    AddError(diags, source, error.pos, error.message);
    return false;
  }
  switch (LocateConfig(text, docs, spec.top_key, spec.data_key, limits, located, &error)) {
    case LocateResult::kFound:
      return true;
    case LocateResult::kError:
      AddError(diags, source, error.pos, error.message);
      return false;
    default:
      AddError(diags, source, SourcePos{1, 1},
               "no `" + std::string(spec.top_key) +
                   ":` found, neither at the top level nor in a "
                   "ConfigMap's data." +
                   std::string(spec.data_key));
      return false;
  }
}

// Decode: Locate + decoder + validation, all findings into *local; false only when the
// text could not be located/parsed at all.
template <typename Config, typename DecodeFn, typename ValidateFn>
bool Decode(std::string_view text, std::string_view source, const KindSpec& spec, DecodeFn decode,
            ValidateFn validate, Config* cfg, SourceMap* positions, Diagnostics* local) {
  try {
    LocatedConfig located;
    if (!Locate(text, source, spec, &located, local)) {
      return false;
    }
    DecodeContext ctx(std::string(source), located.mapping, positions, local);
    decode(located.root, ctx, cfg);
  } catch (const std::exception& e) {
    // yaml-cpp should not throw once the text is loaded, but it is a library that may.
    AddError(local, source, SourcePos{}, std::string("internal error while decoding: ") + e.what());
    return false;
  }
  validate(*cfg, *positions, source, local);
  return true;
}

void Append(Diagnostics* diags, Diagnostics&& local) {
  if (diags == nullptr) {
    return;
  }
  for (auto& d : local) {
    diags->push_back(std::move(d));
  }
}

// ReadFile: the contents of `path`, limited to kMaxConfigFileBytes. An oversized file is an
// invalid config (kInvalidArgument), not a transient range problem.
Result<std::string> ReadFile(const std::string& path) {
  Result<std::string> text = ReadFileLimited(path, kMaxConfigFileBytes);
  if (!text.ok() && text.status().code() == StatusCode::kOutOfRange) {
    return InvalidArgumentError(text.status().message());
  }
  return text;
}

// LoadFile: ReadFile + parse, with a read failure also reported as a diagnostic.
template <typename Config, typename ParseFn>
Result<Config> LoadFile(const std::string& path, Diagnostics* diags, ParseFn parse) {
  Result<std::string> text = ReadFile(path);
  if (!text.ok()) {
    if (diags != nullptr) {
      AddError(diags, path, SourcePos{}, text.status().message());
    }
    return text.status();
  }
  return parse(*text, path, diags);
}

// Decoded: one file's config with its field positions; `located` is false when the text
// could not be parsed or holds no config of this kind (Decode's return value).
template <typename Config>
struct Decoded {
  Config cfg;
  SourceMap positions;
  bool located = false;
};

Decoded<DeviceConfig> DecodeDevice(std::string_view text, std::string_view source,
                                   Diagnostics* local) {
  Decoded<DeviceConfig> r;
  r.located = Decode(text, source, kDeviceKind, internal::DecodeDeviceConfig, ValidateDeviceConfig,
                     &r.cfg, &r.positions, local);
  for (auto& chip : r.cfg.chips) {
    SortTemplates(chip);
  }
  return r;
}

Decoded<NodeConfig> DecodeNode(std::string_view text, std::string_view source, Diagnostics* local) {
  Decoded<NodeConfig> r;
  r.located = Decode(text, source, kNodeKind, internal::DecodeNodeConfig, ValidateNodeConfig,
                     &r.cfg, &r.positions, local);
  return r;
}

// Finish: the Parse*Config result: `local` (this parse's findings) appended to `diags`, and
// the config unless they hold an error.
template <typename Config>
Result<Config> Finish(Decoded<Config>&& r, std::string_view source, Diagnostics&& local,
                      Diagnostics* diags) {
  const bool failed = CountSeverity(local, Severity::kError) > 0;
  Status failure = failed ? Failure(source, local) : OkStatus();
  Append(diags, std::move(local));
  if (failed) {
    return failure;
  }
  return std::move(r.cfg);
}

std::string Plural(int n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

}  // namespace

Result<DeviceConfig> ParseDeviceConfig(std::string_view yaml_text, std::string_view source_name,
                                       Diagnostics* diags) {
  Diagnostics local;
  Decoded<DeviceConfig> r = DecodeDevice(yaml_text, source_name, &local);
  return Finish(std::move(r), source_name, std::move(local), diags);
}

Result<NodeConfig> ParseNodeConfig(std::string_view yaml_text, std::string_view source_name,
                                   Diagnostics* diags) {
  Diagnostics local;
  Decoded<NodeConfig> r = DecodeNode(yaml_text, source_name, &local);
  return Finish(std::move(r), source_name, std::move(local), diags);
}

Result<DeviceConfig> LoadDeviceConfigFile(const std::string& path, Diagnostics* diags) {
  return LoadFile<DeviceConfig>(path, diags, ParseDeviceConfig);
}

Result<NodeConfig> LoadNodeConfigFile(const std::string& path, Diagnostics* diags) {
  return LoadFile<NodeConfig>(path, diags, ParseNodeConfig);
}

ConfigKind DetectConfigKind(std::string_view yaml_text) {
  const YamlLimits limits;
  std::vector<YAML::Node> docs;
  YamlError error;
  if (!internal::LoadYamlDocuments(yaml_text, limits, internal::LineMapping{}, &docs, &error)) {
    return ConfigKind::kUnknown;
  }
  try {
    for (const KindSpec* spec : {&kDeviceKind, &kNodeKind}) {
      const std::string top(spec->top_key);
      const std::string data_key(spec->data_key);
      for (const YAML::Node& doc : docs) {
        if (internal::ChildOf(doc, top).IsDefined() ||
            internal::ChildOf(internal::ChildOf(doc, "data"), data_key).IsDefined()) {
          return spec == &kDeviceKind ? ConfigKind::kDeviceConfig : ConfigKind::kNodeConfig;
        }
      }
    }
  } catch (const std::exception&) {
    return ConfigKind::kUnknown;
  }
  return ConfigKind::kUnknown;
}

int ValidateConfigFiles(const std::vector<std::string>& paths, std::ostream& out) {
  struct FileReport {
    std::string path;
    Diagnostics diags;
    std::optional<Decoded<DeviceConfig>> device;
    std::optional<Decoded<NodeConfig>> node;
  };
  std::vector<FileReport> reports;
  for (const std::string& path : paths) {
    FileReport rep;
    rep.path = path;
    Result<std::string> text = ReadFile(path);
    if (!text.ok()) {
      AddError(&rep.diags, path, SourcePos{}, text.status().message());
    } else {
      switch (DetectConfigKind(*text)) {
        case ConfigKind::kDeviceConfig:
          rep.device = DecodeDevice(*text, path, &rep.diags);
          break;
        case ConfigKind::kNodeConfig:
          rep.node = DecodeNode(*text, path, &rep.diags);
          break;
        default: {
          // Report a YAML error if that is why the kind is unknown; else what is missing.
          std::vector<YAML::Node> docs;
          YamlError error;
          if (!internal::LoadYamlDocuments(*text, YamlLimits{}, internal::LineMapping{}, &docs,
                                           &error)) {
            AddError(&rep.diags, path, error.pos, error.message);
          } else {
            AddError(&rep.diags, path, SourcePos{1, 1},
                     "neither a device config (vnpus / data.device-config.yaml) nor a node "
                     "config (nodes / data.node-config.yaml)");
          }
        }
      }
    }
    reports.push_back(std::move(rep));
  }

  // Cross-file rule: every device config against the union of the node configs given.
  NodeConfig all_nodes;
  bool have_nodes = false;
  for (const auto& rep : reports) {
    if (rep.node && rep.node->located) {
      have_nodes = true;
      all_nodes.nodes.insert(all_nodes.nodes.end(), rep.node->cfg.nodes.begin(),
                             rep.node->cfg.nodes.end());
    }
  }
  if (have_nodes) {
    for (auto& rep : reports) {
      if (rep.device && rep.device->located) {
        CheckSoftSlicingReachable(rep.device->cfg, rep.device->positions, rep.path, all_nodes,
                                  &rep.diags);
      }
    }
  }

  int status = 0;
  for (const auto& rep : reports) {
    for (const auto& d : rep.diags) {
      out << FormatDiagnostic(d) << "\n";
    }
    const int errors = CountSeverity(rep.diags, Severity::kError);
    const int warnings = CountSeverity(rep.diags, Severity::kWarning);
    out << rep.path << ": ";
    if (errors > 0) {
      status = 1;
      out << Plural(errors, "error") << ", " << Plural(warnings, "warning") << "\n";
      continue;
    }
    if (rep.device) {
      out << "OK (" << Plural(static_cast<int>(rep.device->cfg.chips.size()), "chip") << ")";
    } else {
      out << "OK (" << Plural(static_cast<int>(rep.node->cfg.nodes.size()), "node") << ")";
    }
    if (warnings > 0) {
      out << ", " << Plural(warnings, "warning");
    }
    out << "\n";
  }
  return status;
}

}  // namespace npushare::config
