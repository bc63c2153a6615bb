#include "sim/container/stale_cleanup.h"

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <sstream>
#include <thread>

#include "common/file_reader.h"
#include "sim/container/bundle.h"
#include "sim/container/oci_hooks.h"
#include "sim/container/subprocess.h"

namespace npushare::container_sim {

unsigned long long ProcessStartTime(int pid) {
  Result<std::string> stat = ReadFileLimited("/proc/" + std::to_string(pid) + "/stat", 4096);
  if (!stat.ok()) {
    return 0;
  }
  // The command name (field 2) may contain spaces and parentheses: count from the last ')'.
  size_t close = stat->rfind(')');
  if (close == std::string::npos) {
    return 0;
  }
  std::stringstream fields(stat->substr(close + 1));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
    if (i == 22) {
      return std::strtoull(field.c_str(), nullptr, 10);
    }
  }
  return 0;
}

namespace {

void KillRecordedInit(const BundlePaths& bundle) {
  Result<std::string> text = ReadFileLimited(bundle.dir + "/" + kInitFile, 128);
  if (!text.ok()) {
    return;
  }
  std::stringstream ss(*text);
  long pid = 0;
  unsigned long long start = 0;
  if (!(ss >> pid >> start) || pid <= 1 || start == 0 || ProcessStartTime(pid) != start) {
    return;  // gone, or the pid now belongs to someone else
  }
  kill(static_cast<pid_t>(pid), SIGKILL);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (ProcessStartTime(pid) == start && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace

Status CleanStaleBundles(const std::string& root_dir, const std::string& runc) {
  Status first;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(root_dir + "/bundles", ec)) {
    std::string id = entry.path().filename().string();
    BundlePaths bundle = BundlePathsFor(root_dir, id);
    if (!runc.empty()) {
      CommandOptions opts;
      opts.timeout = std::chrono::seconds(10);
      RunCommand({runc, "--root", root_dir + "/runc", "delete", "--force", id}, opts)
          .status()
          .IgnoreError();  // not a runc container, or already gone
    }
    KillRecordedInit(bundle);
    Status s = CleanupAscend(bundle, id);
    if (s.ok()) {
      s = RemoveBundle(bundle);
    }
    if (!s.ok() && first.ok()) {
      first = s.WithContext("stale container " + id);
    }
  }
  if (ec) {
    return FileSystemError(ec.value(), "list " + root_dir + "/bundles");
  }
  return first;
}

}  // namespace npushare::container_sim
