// File: config/config_loader.h
//
// The one loader of device-config.yaml and node-config.yaml (HAMi schema,
// hami-protocol.md §7). Every daemon and `npushare config validate` go through it.
//
// Accepted shapes, for both kinds:
//   * the bare file: `vnpus:` (resp. `nodes:`) at the top level;
//   * a Kubernetes ConfigMap manifest embedding it as a string under
//     `data: device-config.yaml: |-` (resp. `node-config.yaml`). Diagnostics point into the
//     original file: exactly for literal block scalars (`|`, `|-`, `|+`), at the data entry
//     itself for other scalar styles, whose lines cannot be mapped.
// A multi-document file may hold other documents; exactly one must be the config asked for.
//
// Decoding is strict (config/internal/yaml_fields.h) and validation semantic
// (config/config_validation.h). Hostile input (over 4 MiB, nesting deeper than 32 levels,
// more than 64 aliases or 200000 nodes, malformed YAML) is an error, never a crash: no
// exception leaves this module.
//
// Thread safety: all functions are reentrant; they share no state.
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "config/device_config.h"
#include "config/diagnostics.h"
#include "config/node_config.h"

namespace npushare::config {

// Largest config file read from disk.
inline constexpr size_t kMaxConfigFileBytes = size_t{4} << 20;

// ParseDeviceConfig: decodes and validates a device config. `source_name` is used as the
// file name in diagnostics. On success returns the config with every chip's templates sorted
// ascending by memory, and appends any warnings to *diags. On failure returns
// kInvalidArgument whose message names the first error and the error count, and appends
// every error and warning found to *diags. `diags` may be nullptr.
Result<DeviceConfig> ParseDeviceConfig(std::string_view yaml_text, std::string_view source_name,
                                       Diagnostics* diags);

// LoadDeviceConfigFile: ParseDeviceConfig on the file's contents, with `path` as the source
// name. kInvalidArgument if it is not a regular file, is larger than kMaxConfigFileBytes or
// does not validate; when it cannot be opened or read, the code of FileSystemError
// (common/fs_error.h): kNotFound if it does not exist, kPermissionDenied if it may not be
// read, kResourceExhausted when out of file descriptors. Every failure appends a diagnostic.
Result<DeviceConfig> LoadDeviceConfigFile(const std::string& path, Diagnostics* diags);

// ParseNodeConfig / LoadNodeConfigFile: the same for node-config.yaml.
Result<NodeConfig> ParseNodeConfig(std::string_view yaml_text, std::string_view source_name,
                                   Diagnostics* diags);
Result<NodeConfig> LoadNodeConfigFile(const std::string& path, Diagnostics* diags);

enum class ConfigKind { kDeviceConfig, kNodeConfig, kUnknown };

// DetectConfigKind: kDeviceConfig if a document has top-level `vnpus` or a ConfigMap
// `data.device-config.yaml`, else kNodeConfig for `nodes` / `data.node-config.yaml`, else
// kUnknown (also for unparsable text).
ConfigKind DetectConfigKind(std::string_view yaml_text);

// ValidateConfigFiles: `npushare config validate FILE...`. Loads each file (kind
// auto-detected), prints every diagnostic (FormatDiagnostic, one per line) and then one
// summary line per file: "FILE: OK (7 chips)", "FILE: OK (1 node), 1 warning" or
// "FILE: 2 errors, 1 warning". When the files include both a device and a node config, the
// cross-file rule CheckSoftSlicingReachable runs too. Returns 0 if no file has an error,
// else 1.
int ValidateConfigFiles(const std::vector<std::string>& paths, std::ostream& out);

}  // namespace npushare::config
