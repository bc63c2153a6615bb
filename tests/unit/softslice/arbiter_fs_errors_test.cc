// Issue 14 ("errno -> Status in one place"): every system call failure of the arbiter's file
// access (tenants dir, grant page, share files, ledgers) carries the code of FileSystemError
// (common/fs_error.h), so EACCES is not "no such file" and EMFILE is not "permission denied".
// Each errno is produced for real: a missing path (ENOENT), a file used as a directory
// (ENOTDIR), a symlink opened with O_NOFOLLOW (ELOOP), an over-long name (ENAMETOOLONG), a
// directory where the grant page belongs (EISDIR), a mode-0 directory entered without root's
// override (EACCES) and a descriptor limit reached (EMFILE).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "softslice/arbiter/arbiter.h"
#include "softslice/arbiter/grant_page_writer.h"
#include "softslice/arbiter/ledger_metrics.h"
#include "softslice/arbiter/share_file.h"
#include "softslice/interceptor/ledger.h"
#include "softslice/interceptor/log.h"
#include "support/temp_dir.h"

namespace npushare::softslice {
namespace {

// DescriptorsExhausted: while alive, every file descriptor the (lowered) soft limit allows is
// open, so the next call that needs a descriptor fails with EMFILE.
class DescriptorsExhausted {
 public:
  DescriptorsExhausted() {
    getrlimit(RLIMIT_NOFILE, &saved_);
    rlimit low = saved_;
    low.rlim_cur = 256;  // a few hundred dups instead of the default limit's thousands
    setrlimit(RLIMIT_NOFILE, &low);
    int base = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (base < 0) {
      return;
    }
    fds_.push_back(base);
    for (;;) {
      int fd = dup(base);
      if (fd < 0) {
        exhausted_ = errno == EMFILE;
        break;
      }
      fds_.push_back(fd);
    }
  }
  ~DescriptorsExhausted() {
    for (int fd : fds_) {
      close(fd);
    }
    setrlimit(RLIMIT_NOFILE, &saved_);
  }
  DescriptorsExhausted(const DescriptorsExhausted&) = delete;
  DescriptorsExhausted& operator=(const DescriptorsExhausted&) = delete;
  bool exhausted() const { return exhausted_; }

 private:
  rlimit saved_{};
  std::vector<int> fds_;
  bool exhausted_ = false;
};

// Unprivileged: while alive, the effective uid is nobody's (65534) when we run as root, so
// that a directory with mode 0 refuses us (root's DAC override would not). The real and saved
// uid stay 0, so the destructor can switch back. The tests are single-threaded.
class Unprivileged {
 public:
  Unprivileged() {
    if (geteuid() == 0) {
      switched_ = seteuid(65534) == 0;
      ok_ = switched_;
    }
  }
  ~Unprivileged() {
    if (switched_) {
      EXPECT_EQ(seteuid(0), 0);
    }
  }
  Unprivileged(const Unprivileged&) = delete;
  Unprivileged& operator=(const Unprivileged&) = delete;
  bool ok() const { return ok_; }

 private:
  bool switched_ = false;
  bool ok_ = true;
};

class ArbiterFsErrorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    vnpu::SetLogQuiet(true);
    root_ = temp_.path();
    ASSERT_FALSE(root_.empty()) << "cannot make a temporary directory";
    // A regular file (ENOTDIR when used as a directory), a mode-0 directory (EACCES), a
    // symlink (ELOOP with O_NOFOLLOW) and a name longer than NAME_MAX (ENAMETOOLONG).
    std::ofstream(root_ + "/file") << "0 50\n";
    ASSERT_EQ(mkdir(Locked().c_str(), 0700), 0);
    ASSERT_EQ(symlink((root_ + "/file").c_str(), (root_ + "/link").c_str()), 0);
    long_name_ = root_ + "/" + std::string(300, 'n');
  }
  void TearDown() override { chmod(Locked().c_str(), 0700); }  // let the temp dir go

  std::string Locked() const { return root_ + "/locked"; }
  // Lock: the locked directory gets mode 0 (for a non-root run; root runs also drop euid).
  void Lock() { ASSERT_EQ(chmod(Locked().c_str(), 0), 0); }

  npushare::testing::ScopedTempDir temp_{"vnpu-arbiter-fs-errors"};
  std::string root_;
  std::string long_name_;
};

// --- share_file.cc: ReadShareFile ---

TEST_F(ArbiterFsErrorsTest, ReadShareFileCodesFollowErrno) {
  EXPECT_EQ(ReadShareFile(root_ + "/missing.share").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ReadShareFile(root_ + "/file/a.share").status().code(),
            StatusCode::kFailedPrecondition);  // ENOTDIR
  EXPECT_EQ(ReadShareFile(root_ + "/link").status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReadShareFile(long_name_).status().code(), StatusCode::kInvalidArgument);
  std::ofstream(Locked() + "/a.share") << "0 50\n";
  ASSERT_TRUE(ReadShareFile(Locked() + "/a.share").ok());
  Lock();
  {
    Unprivileged nobody;
    ASSERT_TRUE(nobody.ok());
    Result<ShareSpec> denied = ReadShareFile(Locked() + "/a.share");
    EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied)  // was kFailedPrecondition
        << denied.status().ToString();
  }
}

TEST_F(ArbiterFsErrorsTest, ReadShareFileOutOfDescriptorsIsResourceExhausted) {
  DescriptorsExhausted full;
  ASSERT_TRUE(full.exhausted());
  Result<ShareSpec> spec = ReadShareFile(root_ + "/file");
  EXPECT_EQ(spec.status().code(), StatusCode::kResourceExhausted) << spec.status().ToString();
}

// --- share_file.cc: CheckShareDir ---

TEST_F(ArbiterFsErrorsTest, CheckShareDirCodesFollowErrno) {
  EXPECT_EQ(CheckShareDir(root_ + "/missing").code(), StatusCode::kNotFound);
  EXPECT_EQ(CheckShareDir(root_ + "/file/sub").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(CheckShareDir(long_name_).code(), StatusCode::kInvalidArgument);
  ASSERT_EQ(mkdir((Locked() + "/shares").c_str(), 0700), 0);
  Lock();
  Unprivileged nobody;
  ASSERT_TRUE(nobody.ok());
  EXPECT_EQ(CheckShareDir(Locked() + "/shares").code(), StatusCode::kPermissionDenied);
}

// --- ledger_metrics.cc: ReadLedgerUsage ---

TEST_F(ArbiterFsErrorsTest, ReadLedgerUsageCodesFollowErrno) {
  EXPECT_EQ(ReadLedgerUsage(root_ + "/missing").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ReadLedgerUsage(root_ + "/file/" VNPU_LEDGER_FILE_NAME).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReadLedgerUsage(root_ + "/link").status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReadLedgerUsage(long_name_).status().code(), StatusCode::kInvalidArgument);
  uint64_t quota[VNPU_MAX_DEVICES] = {};
  vnpu::Ledger ledger;
  ASSERT_EQ(ledger.Open((Locked() + "/pod").c_str(), quota), vnpu::LedgerError::kOk);
  const std::string path = Locked() + "/pod/" VNPU_LEDGER_FILE_NAME;
  ASSERT_TRUE(ReadLedgerUsage(path).ok());
  {
    DescriptorsExhausted full;
    ASSERT_TRUE(full.exhausted());
    EXPECT_EQ(ReadLedgerUsage(path).status().code(), StatusCode::kResourceExhausted);
  }
  Lock();
  Unprivileged nobody;
  ASSERT_TRUE(nobody.ok());
  Result<LedgerUsage> denied = ReadLedgerUsage(path);
  EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied)  // was kFailedPrecondition
      << denied.status().ToString();
}

// --- arbiter.cc: CheckTenantsDir (was kInternal for every failure) ---

TEST_F(ArbiterFsErrorsTest, CheckTenantsDirCodesFollowErrno) {
  EXPECT_EQ(CheckTenantsDir(root_ + "/missing/tenants").code(), StatusCode::kNotFound);
  EXPECT_EQ(CheckTenantsDir(root_ + "/file/tenants").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(CheckTenantsDir(long_name_).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(CheckTenantsDir(Locked() + "/tenants").ok());  // created 0755
  Lock();
  Unprivileged nobody;
  ASSERT_TRUE(nobody.ok());
  EXPECT_EQ(CheckTenantsDir(Locked() + "/other").code(), StatusCode::kPermissionDenied);
}

TEST_F(ArbiterFsErrorsTest, ArbiterCreatePassesTheTenantsDirCodeOn) {
  ArbiterOptions options;
  options.grant_dir = root_ + "/grants";
  options.tenants_dir = root_ + "/file/tenants";
  EXPECT_EQ(Arbiter::Create(options).status().code(), StatusCode::kFailedPrecondition);
  options.tenants_dir = root_ + "/missing/tenants";
  EXPECT_EQ(Arbiter::Create(options).status().code(), StatusCode::kNotFound);
}

// --- grant_page_writer.cc: GrantPageWriter::Open (was kInternal for every failure) ---

TEST_F(ArbiterFsErrorsTest, GrantPageWriterOpenCodesFollowErrno) {
  EXPECT_EQ(GrantPageWriter::Open(root_ + "/missing/grants").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(GrantPageWriter::Open(root_ + "/file/grants").status().code(),
            StatusCode::kFailedPrecondition);  // ENOTDIR
  EXPECT_EQ(GrantPageWriter::Open(long_name_).status().code(), StatusCode::kInvalidArgument);
  // A non-empty directory where the page belongs: the fresh page cannot be renamed onto it.
  const std::string grants = root_ + "/grants";
  ASSERT_EQ(mkdir(grants.c_str(), 0755), 0);
  ASSERT_EQ(mkdir((grants + "/" VNPU_GRANT_FILE_NAME).c_str(), 0755), 0);
  ASSERT_EQ(mkdir((grants + "/" VNPU_GRANT_FILE_NAME "/x").c_str(), 0755), 0);
  auto in_the_way = GrantPageWriter::Open(grants);
  EXPECT_EQ(in_the_way.status().code(), StatusCode::kFailedPrecondition)  // EISDIR
      << in_the_way.status().ToString();
}

TEST_F(ArbiterFsErrorsTest, GrantPageWriterOpenOutOfDescriptorsIsResourceExhausted) {
  DescriptorsExhausted full;
  ASSERT_TRUE(full.exhausted());
  auto page = GrantPageWriter::Open(root_ + "/grants");
  EXPECT_EQ(page.status().code(), StatusCode::kResourceExhausted) << page.status().ToString();
}

TEST_F(ArbiterFsErrorsTest, GrantPageWriterOpenWithoutAccessIsPermissionDenied) {
  Lock();
  Unprivileged nobody;
  ASSERT_TRUE(nobody.ok());
  auto page = GrantPageWriter::Open(Locked() + "/grants");
  EXPECT_EQ(page.status().code(), StatusCode::kPermissionDenied) << page.status().ToString();
}

}  // namespace
}  // namespace npushare::softslice
