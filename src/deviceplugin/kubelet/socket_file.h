// File: deviceplugin/kubelet/socket_file.h
//
// Unix-socket files in the kubelet device-plugin directory: their identity and their removal.
// A socket's identity (device, inode, change time) tells "still the socket we bound" apart from
// "deleted by a restarting kubelet and perhaps re-created by someone else" (k8s-apis.md §1.7):
// inode numbers are reused quickly on some filesystems, the change time makes a re-created file
// differ.
//
// Usage:
//   auto id = StatSocketFile(path);          // after binding
//   ...
//   if (StatSocketFile(path) != id) { /* kubelet removed it: re-serve and re-register */ }
//   NPUSHARE_RETURN_IF_ERROR(UnlinkSocketFileIfSame(path, *id));
//
// Thread safety: stateless functions, safe for concurrent use.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"

namespace npushare::deviceplugin {

// SocketFileId: which socket file a path names right now.
struct SocketFileId {
  uint64_t dev = 0;
  uint64_t ino = 0;
  int64_t ctime_ns = 0;
  friend bool operator==(const SocketFileId&, const SocketFileId&) = default;
};

// kMaxUnixSocketPath: longest path a sockaddr_un holds (108 bytes with the terminating NUL).
inline constexpr size_t kMaxUnixSocketPath = 107;

// StatSocketFile: the identity of the unix socket at `path`; nullopt when the path does not
// exist, is not a socket, or cannot be stat'ed.
std::optional<SocketFileId> StatSocketFile(const std::string& path);

// UnlinkStaleSocketFile: removes `path` when it is a unix socket; OK when it does not exist.
// Never removes anything else: a regular file or directory there is kFailedPrecondition (the
// operator put it there; overwriting it is not ours to decide). Other errors: FileSystemError.
Status UnlinkStaleSocketFile(const std::string& path);

// UnlinkSocketFileIfSame: removes `path` only while it is still the socket `id` (so a socket
// another server bound at the same path later survives). OK when it is gone or different.
Status UnlinkSocketFileIfSame(const std::string& path, const SocketFileId& id);

}  // namespace npushare::deviceplugin
