#include "deviceplugin/allocate/soft_slice_files.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <system_error>

#include "common/atomic_file.h"
#include "common/fs_error.h"

namespace npushare::deviceplugin::allocate {
namespace {

constexpr size_t kMaxPreloadBytes = 4096;

Status EnsurePreloadFile(const SoftSliceOptions& options) {
  const std::string want = options.container_libvnpu_path + "\n";
  int fd = open(options.ld_so_preload_path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd >= 0) {
    char buf[kMaxPreloadBytes];
    const ssize_t n = read(fd, buf, sizeof(buf));
    close(fd);
    if (n >= 0 && std::string_view(buf, static_cast<size_t>(n)) == want) {
      return OkStatus();
    }
  }
  return WriteFileAtomically(options.ld_so_preload_path, want, 0644);
}

Status CreateStateDir(const std::string& path, const ContainerOwner& owner) {
  if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    return FileSystemError(errno, "mkdir " + path);
  }
  // O_NOFOLLOW | O_DIRECTORY: an existing symlink or file at the path is refused, never
  // followed (the directory is bind-mounted writable into the container).
  int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;  // ENOTDIR, ELOOP (a symlink): kFailedPrecondition
    return FileSystemError(err, "state directory " + path + " is not a directory we can use");
  }
  Status s;
  if (fchmod(fd, 0700) != 0) {
    s = FileSystemError(errno, "chmod " + path);
  } else if ((owner.uid || owner.gid) &&
             fchown(fd, owner.uid ? *owner.uid : static_cast<uid_t>(-1),
                    owner.gid ? *owner.gid : static_cast<gid_t>(-1)) != 0) {
    s = FileSystemError(errno, "chown " + path);
  }
  close(fd);
  return s;
}

}  // namespace

Status WriteSoftSliceFiles(const SoftSliceOptions& options, const softslice::TenantGrant& grant,
                           const ContainerOwner& owner) {
  NPUSHARE_RETURN_IF_ERROR(softslice::ValidateTenantGrant(grant));
  struct stat st;
  if (stat(options.libvnpu_path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return FailedPreconditionError("libvnpu.so not found at " + options.libvnpu_path +
                                   " (soft slicing needs it on the node)");
  }
  NPUSHARE_RETURN_IF_ERROR(EnsurePreloadFile(options));
  NPUSHARE_RETURN_IF_ERROR(softslice::WriteTenantFiles(
      softslice::TenantFilesOptions{options.shares_dir, options.quota_root}, grant));
  Status s = CreateStateDir(options.tenants_dir + "/" + grant.tenant, owner);
  if (!s.ok()) {
    softslice::RemoveTenantFiles({options.shares_dir, options.quota_root}, grant.tenant)
        .IgnoreError();  // best effort: the reaper removes leftovers too
  }
  return s;
}

Status RemoveSoftSliceFiles(const SoftSliceOptions& options, const std::string& tenant) {
  NPUSHARE_RETURN_IF_ERROR(
      softslice::RemoveTenantFiles({options.shares_dir, options.quota_root}, tenant));
  std::error_code ec;
  std::filesystem::remove_all(options.tenants_dir + "/" + tenant, ec);  // never follows links
  if (ec) {  // std::filesystem reports errno values in generic_category
    return FileSystemError(ec.value(),
                           "removing state directory " + options.tenants_dir + "/" + tenant);
  }
  return OkStatus();
}

}  // namespace npushare::deviceplugin::allocate
