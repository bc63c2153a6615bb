// KubeletWatcher reports kubelet.sock creation and file removals in the plugin directory.
#include "deviceplugin/kubelet/kubelet_watcher.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <mutex>
#include <vector>

#include "support/temp_dir.h"

namespace npushare::deviceplugin {
namespace {

bool BindSocket(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  bool ok = fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  if (fd >= 0) {
    close(fd);
  }
  return ok;
}

class Recorder {
 public:
  void Add(const KubeletDirEvent& e) {
    std::lock_guard g(mu_);
    events_.push_back(e);
    cv_.notify_all();
  }
  bool WaitFor(KubeletDirEvent::Kind kind, const std::string& name) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] {
      for (const auto& e : events_) {
        if (e.kind == kind && e.name == name) {
          return true;
        }
      }
      return false;
    });
  }
  size_t CountKind(KubeletDirEvent::Kind kind) {
    std::lock_guard g(mu_);
    size_t n = 0;
    for (const auto& e : events_) {
      n += e.kind == kind ? 1 : 0;
    }
    return n;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<KubeletDirEvent> events_;
};

TEST(KubeletWatcher, ReportsKubeletSocketCreationAndRemovals) {
  npushare::testing::ScopedTempDir dir("kubelet-watch");
  Recorder rec;
  KubeletWatcher watcher(dir.path(), [&](const KubeletDirEvent& e) { rec.Add(e); });
  ASSERT_TRUE(watcher.Start().ok());
  ASSERT_TRUE(BindSocket(dir.path() + "/other.sock"));  // not kubelet's: no creation event
  ASSERT_TRUE(BindSocket(dir.path() + "/kubelet.sock"));
  EXPECT_TRUE(rec.WaitFor(KubeletDirEvent::Kind::kKubeletSocketCreated, "kubelet.sock"));
  ASSERT_EQ(unlink((dir.path() + "/other.sock").c_str()), 0);
  EXPECT_TRUE(rec.WaitFor(KubeletDirEvent::Kind::kFileRemoved, "other.sock"));
  EXPECT_EQ(rec.CountKind(KubeletDirEvent::Kind::kKubeletSocketCreated), 1u);
  watcher.Stop();
}

TEST(KubeletWatcher, MissingDirectoryIsAnError) {
  KubeletWatcher watcher("/nonexistent/npushare-kubelet-watch", [](const KubeletDirEvent&) {});
  EXPECT_FALSE(watcher.Start().ok());
  watcher.Stop();
}

}  // namespace
}  // namespace npushare::deviceplugin
