#include "sim/container/namespace_runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <mutex>

#include "common/atomic_file.h"
#include "common/file_reader.h"
#include "common/thread_annotations.h"
#include "sim/container/bundle.h"
#include "sim/container/child_reaper.h"
#include "sim/container/log_file.h"
#include "sim/container/namespace_plan.h"
#include "sim/container/oci_hooks.h"
#include "sim/container/runc_runtime.h"
#include "sim/container/stale_cleanup.h"
#include "sim/container/subprocess.h"

namespace npushare::container_sim {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kKillWait{10'000};
constexpr size_t kChildStack = 256 * 1024;

// What the child reports on the status pipe: 'R' (set up, waiting for the go byte) or 'E'
// with the step that failed and its errno. Exec closes the pipe (close-on-exec): EOF = started.
struct ChildReport {
  char tag;
  int step;
  int err;
};

enum Step : int {
  kStepStdio = 1,
  kStepPrivate,
  kStepRootBind,
  kStepMkdir,
  kStepMountFile,
  kStepMount,
  kStepRemount,
  kStepMknod,
  kStepSymlink,
  kStepPivot,
  kStepReadonlyRoot,
  kStepHostname,
  kStepGo,
  kStepUser,
  kStepCwd,
  kStepExec,
};

const char* StepName(int step) {
  switch (step) {
    case kStepStdio:
      return "set up stdio";
    case kStepPrivate:
      return "make mounts private";
    case kStepRootBind:
      return "bind the rootfs";
    case kStepMkdir:
      return "create a mount point";
    case kStepMountFile:
      return "create a file mount point";
    case kStepMount:
      return "mount";
    case kStepRemount:
      return "remount read-only";
    case kStepMknod:
      return "create a device node";
    case kStepSymlink:
      return "create a /dev link";
    case kStepPivot:
      return "pivot_root";
    case kStepReadonlyRoot:
      return "make the root read-only";
    case kStepHostname:
      return "set the hostname";
    case kStepGo:
      return "wait for the runtime";
    case kStepUser:
      return "switch user";
    case kStepCwd:
      return "chdir to the working directory";
    case kStepExec:
      return "execute the command";
    default:
      return "unknown step";
  }
}

// ChildArgs: everything the child needs, as C strings prepared before clone.
struct ChildArgs {
  const NamespacePlan* plan;
  int log_fd;
  int status_fd;  // write end, close-on-exec
  int go_fd;      // read end, close-on-exec
  std::vector<char*> argv;
  std::vector<char*> envp;
};

[[noreturn]] void ChildFail(const ChildArgs* a, int step, int err) {
  ChildReport r{'E', step, err};
  ssize_t ignored = write(a->status_fd, &r, sizeof(r));
  (void)ignored;
  _exit(127);
}

void MakeDirs(const ChildArgs* a, const std::vector<std::string>& dirs) {
  for (const auto& d : dirs) {
    if (mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) {
      ChildFail(a, kStepMkdir, errno);
    }
  }
}

int ChildMain(void* arg) {
  const auto* a = static_cast<const ChildArgs*>(arg);
  const NamespacePlan& p = *a->plan;
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(a->log_fd, 1) < 0 || dup2(a->log_fd, 2) < 0) {
    ChildFail(a, kStepStdio, errno);
  }
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    ChildFail(a, kStepPrivate, errno);
  }
  if (mount(p.rootfs.c_str(), p.rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    ChildFail(a, kStepRootBind, errno);
  }
  for (const auto& m : p.mounts) {
    MakeDirs(a, m.mkdirs);
    if (!m.create_file.empty()) {
      int fd = open(m.create_file.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
      if (fd < 0 && errno != EISDIR) {
        ChildFail(a, kStepMountFile, errno);
      }
      if (fd >= 0) {
        close(fd);
      }
    }
    if (mount(m.source.c_str(), m.target.c_str(), m.fstype.empty() ? nullptr : m.fstype.c_str(),
              m.flags, m.data.empty() ? nullptr : m.data.c_str()) != 0) {
      ChildFail(a, kStepMount, errno);
    }
    if (m.remount_flags != 0 &&
        mount(nullptr, m.target.c_str(), nullptr, m.remount_flags, nullptr) != 0) {
      ChildFail(a, kStepRemount, errno);
    }
  }
  for (const auto& d : p.devices) {
    MakeDirs(a, d.mkdirs);
    unlink(d.path.c_str());
    if (mknod(d.path.c_str(), d.mode, d.dev) != 0) {
      ChildFail(a, kStepMknod, errno);
    }
    if (chmod(d.path.c_str(), d.mode & 07777) != 0 || chown(d.path.c_str(), d.uid, d.gid) != 0) {
      ChildFail(a, kStepMknod, errno);
    }
  }
  for (const auto& [target, link] : p.symlinks) {
    if (symlink(target.c_str(), link.c_str()) != 0 && errno != EEXIST) {
      ChildFail(a, kStepSymlink, errno);
    }
  }
  for (const auto& d : p.cwd_mkdirs) {
    mkdir(d.c_str(), 0755);  // a failure shows as "cannot chdir" below
  }
  if (chdir(p.rootfs.c_str()) != 0 || syscall(SYS_pivot_root, ".", ".") != 0 ||
      umount2(".", MNT_DETACH) != 0 || chdir("/") != 0) {
    ChildFail(a, kStepPivot, errno);
  }
  if (p.readonly_root &&
      mount(nullptr, "/", nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) != 0) {
    ChildFail(a, kStepReadonlyRoot, errno);
  }
  if (!p.hostname.empty() && sethostname(p.hostname.c_str(), p.hostname.size()) != 0) {
    ChildFail(a, kStepHostname, errno);
  }
  ChildReport ready{'R', 0, 0};
  char go = 0;
  if (write(a->status_fd, &ready, sizeof(ready)) != sizeof(ready) || read(a->go_fd, &go, 1) != 1 ||
      go != 'G') {
    _exit(127);  // the runtime gave up on this container
  }
  if (p.uid != 0 || p.gid != 0) {
    if (setgroups(0, nullptr) != 0 || setgid(p.gid) != 0 || setuid(p.uid) != 0) {
      ChildFail(a, kStepUser, errno);
    }
  }
  if (chdir(p.cwd.c_str()) != 0) {
    ChildFail(a, kStepCwd, errno);
  }
  // Descriptors another thread of the runtime left inheritable must not reach the app.
  close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
  int err = ENOENT;
  for (const auto& candidate : p.exec_candidates) {
    execve(candidate.c_str(), a->argv.data(), const_cast<char* const*>(a->envp.data()));
    if (errno != ENOENT && errno != ENOTDIR) {
      err = errno;
    }
  }
  ChildFail(a, kStepExec, err);
}

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void Reset() {
    if (fd_ >= 0) {
      close(fd_);
    }
    fd_ = -1;
  }

 private:
  int fd_;
};

class NamespaceContainer final : public Container {
 public:
  NamespaceContainer(std::string id, BundlePaths bundle, nlohmann::json config, pid_t pid,
                     bool ascend)
      : id_(std::move(id)),
        bundle_(std::move(bundle)),
        config_(std::move(config)),
        ascend_(ascend),
        reaper_(pid, [this](int) {
          // As runc does when the process is gone: the poststop hooks (vNPU destroyed).
          if (started_.load()) {
            RunOciHooks(config_, "poststop", OciState(id_, "stopped", 0, bundle_.dir))
                .IgnoreError();
          }
        }) {}

  ~NamespaceContainer() override { Kill(milliseconds(0)).IgnoreError(); }

  void MarkStarted() { started_ = true; }

  int pid() const override { return reaper_.pid(); }
  std::optional<int> ExitCode() const override { return reaper_.code(); }

  Result<int> Wait(milliseconds timeout) override {
    if (!reaper_.WaitFor(timeout)) {
      return Status(StatusCode::kDeadlineExceeded, "container " + id_ + " still running after " +
                                                       std::to_string(timeout.count()) + " ms");
    }
    return *reaper_.code();
  }

  Status Kill(milliseconds grace) override {
    MutexLock lock(&kill_mu_);
    if (cleaned_) {
      return kill_status_;
    }
    if (!reaper_.code().has_value()) {
      // The init of a pid namespace gets SIGTERM only if it handles it; SIGKILL always ends
      // it, and with it every process of the namespace (and so the mount namespace).
      kill(reaper_.pid(), SIGTERM);
      if (!reaper_.WaitFor(grace)) {
        kill(reaper_.pid(), SIGKILL);
        reaper_.WaitFor(kKillWait);
      }
    }
    Status hooks = ascend_ ? CleanupAscend(bundle_, id_) : OkStatus();
    Status removed = RemoveBundle(bundle_);
    kill_status_ = !hooks.ok() ? hooks : removed;
    cleaned_ = removed.ok();
    return kill_status_;
  }

 private:
  const std::string id_;
  const BundlePaths bundle_;
  const nlohmann::json config_;
  const bool ascend_;
  std::atomic<bool> started_{false};
  ChildReaper reaper_;
  Mutex kill_mu_;
  bool cleaned_ NPUSHARE_GUARDED_BY(kill_mu_) = false;
  Status kill_status_ NPUSHARE_GUARDED_BY(kill_mu_);
};

class NamespaceRuntime final : public ContainerRuntime {
 public:
  explicit NamespaceRuntime(RuntimeOptions options) : options_(std::move(options)) {}

  std::string name() const override { return "namespace"; }

  Result<std::unique_ptr<Container>> Start(const ContainerSpec& spec) override {
    NPUSHARE_RETURN_IF_ERROR(ValidateSpec(spec));
    if (spec.ascend_runtime && options_.ascend_hook.empty()) {
      return FailedPreconditionError("container " + spec.id +
                                     " asks for the ascend runtime class, but no ascend hook "
                                     "is configured (--ascend-hook)");
    }
    NPUSHARE_ASSIGN_OR_RETURN(LogFd log, OpenLogFile(spec.log_path));
    NPUSHARE_ASSIGN_OR_RETURN(BundlePaths bundle, CreateBundle(options_.root_dir, spec.id));
    auto fail = [&](Status s) -> Status {
      if (spec.ascend_runtime) {
        CleanupAscend(bundle, spec.id).IgnoreError();
      }
      RemoveBundle(bundle).IgnoreError();
      return s.WithContext("container " + spec.id + " (namespace runtime)");
    };
    Result<nlohmann::json> config = PrepareConfig(spec, bundle);
    if (!config.ok()) {
      return fail(config.status());
    }
    Result<NamespacePlan> plan = PlanFromConfig(*config);
    if (!plan.ok()) {
      return fail(plan.status());
    }
    int status_pipe[2];
    int go_pipe[2];
    if (pipe2(status_pipe, O_CLOEXEC) != 0) {
      return fail(FileSystemError(errno, "pipe"));
    }
    Fd status_r(status_pipe[0]), status_w(status_pipe[1]);
    if (pipe2(go_pipe, O_CLOEXEC) != 0) {
      return fail(FileSystemError(errno, "pipe"));
    }
    Fd go_r(go_pipe[0]), go_w(go_pipe[1]);
    ChildArgs args{&*plan, log.get(), status_w.get(), go_r.get(), {}, {}};
    for (auto& s : plan->args) {
      args.argv.push_back(s.data());
    }
    args.argv.push_back(nullptr);
    for (auto& s : plan->env) {
      args.envp.push_back(s.data());
    }
    args.envp.push_back(nullptr);
    std::vector<char> stack(kChildStack);
    pid_t pid = clone(ChildMain, stack.data() + stack.size(),
                      CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | SIGCHLD, &args);
    if (pid < 0) {
      return fail(FileSystemError(errno, "clone into new namespaces (needs root)"));
    }
    status_w.Reset();
    go_r.Reset();
    // For CleanStaleBundles if this process dies without killing the container.
    WriteFileAtomically(bundle.dir + "/" + kInitFile,
                        std::to_string(pid) + " " + std::to_string(ProcessStartTime(pid)) + "\n",
                        0600)
        .IgnoreError();
    auto container =
        std::make_unique<NamespaceContainer>(spec.id, bundle, *config, pid, spec.ascend_runtime);
    ChildReport report{};
    Status started = ReadReport(status_r.get(), &report);
    if (started.ok() && report.tag == 'R') {
      started =
          RunOciHooks(*config, "createRuntime", OciState(spec.id, "creating", pid, bundle.dir));
      if (started.ok()) {
        container->MarkStarted();
        char go = 'G';
        if (WriteNoSigpipe(go_w.get(), &go, 1) != 1) {
          started = InternalError("container " + spec.id + ": lost its init before start");
        } else {
          report = ChildReport{};
          started = ReadReport(status_r.get(), &report);
        }
      }
    }
    if (started.ok() && report.tag == 'E') {
      started = FailedPreconditionError(
          "container " + spec.id + ": cannot " + StepName(report.step) +
          (report.step == kStepExec ? " '" + spec.args[0] + "'" : std::string()) + ": " +
          strerror(report.err));
    }
    go_w.Reset();
    if (!started.ok()) {
      container->Kill(milliseconds(0)).IgnoreError();
      return started;
    }
    return std::unique_ptr<Container>(std::move(container));
  }

 private:
  // ReadReport: one report, or tag 0 at EOF (the child exec'd).
  static Status ReadReport(int fd, ChildReport* report) {
    size_t got = 0;
    auto* bytes = reinterpret_cast<char*>(report);
    while (got < sizeof(*report)) {
      ssize_t r = read(fd, bytes + got, sizeof(*report) - got);
      if (r < 0 && errno == EINTR) {
        continue;
      }
      if (r <= 0) {
        break;
      }
      got += static_cast<size_t>(r);
    }
    if (got == 0) {
      report->tag = 0;
      return OkStatus();
    }
    if (got != sizeof(*report)) {
      return InternalError("short report from the container's init");
    }
    return OkStatus();
  }

  Result<nlohmann::json> PrepareConfig(const ContainerSpec& spec, const BundlePaths& bundle) {
    std::vector<std::string> env =
        spec.ascend_runtime ? MergeEnv(options_.driver_env, spec.env) : MergeEnv({}, spec.env);
    NPUSHARE_ASSIGN_OR_RETURN(
        nlohmann::json config,
        BuildOciConfig(spec, env, bundle, "",
                       spec.ascend_runtime ? options_.driver_dirs : std::vector<std::string>{}));
    if (spec.ascend_runtime) {
      AddAscendHooks(options_, &config);
    }
    NPUSHARE_RETURN_IF_ERROR(WriteFileAtomically(bundle.config, config.dump(2), 0600));
    if (!spec.ascend_runtime) {
      return config;
    }
    NPUSHARE_RETURN_IF_ERROR(RunAscendCreate(options_, bundle));
    NPUSHARE_ASSIGN_OR_RETURN(std::string text, ReadFileLimited(bundle.config, 16 << 20));
    nlohmann::json updated = nlohmann::json::parse(text, nullptr, false);
    if (updated.is_discarded()) {
      return InternalError("the ascend step left a config.json that is not JSON");
    }
    return updated;
  }

  const RuntimeOptions options_;
};

}  // namespace

Result<std::unique_ptr<ContainerRuntime>> MakeNamespaceRuntime(const RuntimeOptions& options) {
  NPUSHARE_RETURN_IF_ERROR(EnsureRootDir(options.root_dir));
  Result<std::string> runc = FindRunc();  // bundles an earlier runc runtime may have left
  NPUSHARE_RETURN_IF_ERROR(CleanStaleBundles(options.root_dir, runc.ok() ? *runc : ""));
  return std::unique_ptr<ContainerRuntime>(std::make_unique<NamespaceRuntime>(options));
}

}  // namespace npushare::container_sim
