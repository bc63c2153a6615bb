// Socket identity and careful removal (deviceplugin/kubelet/socket_file.h).
#include "deviceplugin/kubelet/socket_file.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "support/temp_dir.h"

namespace npushare::deviceplugin {
namespace {

// BindSocket: a unix socket file at `path` (the fd is closed; the file stays).
bool BindSocket(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) {
    return false;
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

TEST(SocketFile, StatSeesOnlySockets) {
  npushare::testing::ScopedTempDir dir("socket-file");
  const std::string sock = dir.path() + "/a.sock";
  const std::string file = dir.path() + "/plain";
  ASSERT_TRUE(BindSocket(sock));
  {
    FILE* f = fopen(file.c_str(), "w");
    ASSERT_NE(f, nullptr);
    fclose(f);
  }
  EXPECT_TRUE(StatSocketFile(sock).has_value());
  EXPECT_FALSE(StatSocketFile(file).has_value());
  EXPECT_FALSE(StatSocketFile(dir.path() + "/missing").has_value());
}

TEST(SocketFile, UnlinkStaleRemovesSocketsOnly) {
  npushare::testing::ScopedTempDir dir("socket-file");
  const std::string sock = dir.path() + "/a.sock";
  const std::string file = dir.path() + "/plain";
  ASSERT_TRUE(BindSocket(sock));
  {
    FILE* f = fopen(file.c_str(), "w");
    ASSERT_NE(f, nullptr);
    fclose(f);
  }
  EXPECT_TRUE(UnlinkStaleSocketFile(sock).ok());
  EXPECT_FALSE(std::filesystem::exists(sock));
  EXPECT_TRUE(UnlinkStaleSocketFile(sock).ok());  // already gone
  EXPECT_EQ(UnlinkStaleSocketFile(file).code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(std::filesystem::exists(file));
}

TEST(SocketFile, UnlinkIfSameSparesARecreatedSocket) {
  npushare::testing::ScopedTempDir dir("socket-file");
  const std::string sock = dir.path() + "/a.sock";
  ASSERT_TRUE(BindSocket(sock));
  auto old_id = StatSocketFile(sock);
  ASSERT_TRUE(old_id.has_value());
  ASSERT_EQ(unlink(sock.c_str()), 0);
  ASSERT_TRUE(BindSocket(sock));  // someone else's socket now, maybe on the same inode number
  auto new_id = StatSocketFile(sock);
  ASSERT_TRUE(new_id.has_value());
  if (*new_id == *old_id) {
    GTEST_SKIP() << "filesystem reused inode and change time; identity cannot differ";
  }
  EXPECT_TRUE(UnlinkSocketFileIfSame(sock, *old_id).ok());
  EXPECT_TRUE(std::filesystem::exists(sock));
  EXPECT_TRUE(UnlinkSocketFileIfSame(sock, *new_id).ok());
  EXPECT_FALSE(std::filesystem::exists(sock));
}

}  // namespace
}  // namespace npushare::deviceplugin
