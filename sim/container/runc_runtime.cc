#include "sim/container/runc_runtime.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <mutex>
#include <thread>

#include "common/atomic_file.h"
#include "common/file_reader.h"
#include "common/thread_annotations.h"
#include "sim/container/bundle.h"
#include "sim/container/child_reaper.h"
#include "sim/container/log_file.h"
#include "sim/container/oci_hooks.h"
#include "sim/container/stale_cleanup.h"
#include "sim/container/subprocess.h"

namespace npushare::container_sim {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kStartTimeout{60'000};
constexpr milliseconds kKillWait{10'000};

class RuncContainer final : public Container {
 public:
  RuncContainer(std::string runc, std::string state_root, std::string id, BundlePaths bundle,
                std::string log_path, pid_t runc_pid, bool ascend)
      : runc_(std::move(runc)),
        log_path_(std::move(log_path)),
        state_root_(std::move(state_root)),
        id_(std::move(id)),
        bundle_(std::move(bundle)),
        ascend_(ascend),
        reaper_(runc_pid) {}

  ~RuncContainer() override { Kill(milliseconds(0)).IgnoreError(); }

  // WaitStarted: the init pid once runc wrote its pid file; the failure (with runc's log) if
  // runc exited first.
  Status WaitStarted() {
    const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
    milliseconds poll(1);
    while (std::chrono::steady_clock::now() < deadline) {
      Result<std::string> text = ReadFileLimited(bundle_.dir + "/pid", 64);
      if (text.ok()) {
        char* end = nullptr;
        long pid = std::strtol(text->c_str(), &end, 10);
        if (pid > 0 && pid < (1L << 22)) {
          pid_ = static_cast<int>(pid);
          return OkStatus();
        }
      }
      if (reaper_.WaitFor(poll)) {
        // runc may have written the pid file just before the process exited.
        if (ReadFileLimited(bundle_.dir + "/pid", 64).ok()) {
          continue;
        }
        // runc's own log names the cause; without one (runc died early) the container log
        // has runc's stderr.
        Result<std::string> log = ReadFileLimited(bundle_.dir + "/runc.log", 1 << 20);
        if (!log.ok() || log->empty()) {
          log = ReadFileLimited(log_path_, 1 << 20);
        }
        return FailedPreconditionError("runc run " + id_ + " failed (exit " +
                                       std::to_string(reaper_.code().value_or(-1)) +
                                       "): " + Tail(log.ok() ? *log : std::string("(no output)")));
      }
      poll = std::min(poll * 2, milliseconds(50));
    }
    return Status(StatusCode::kDeadlineExceeded, "runc run " + id_ + " did not start in time");
  }

  int pid() const override { return pid_; }

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
      Runc({"kill", id_, "TERM"}).IgnoreError();
      if (!reaper_.WaitFor(grace)) {
        Runc({"kill", id_, "KILL"}).IgnoreError();
        if (!reaper_.WaitFor(kKillWait)) {
          // runc itself is stuck: kill it; `runc delete --force` below kills the container.
          kill(reaper_.pid(), SIGKILL);
          reaper_.WaitFor(kKillWait);
        }
      }
    }
    Status status = Runc({"delete", "--force", id_});
    Status hooks = ascend_ ? CleanupAscend(bundle_, id_) : OkStatus();
    Status removed = RemoveBundle(bundle_);
    kill_status_ = !status.ok() ? status : !hooks.ok() ? hooks : removed;
    cleaned_ = removed.ok();
    return kill_status_;
  }

  Status Runc(const std::vector<std::string>& args) {
    std::vector<std::string> cmd = {runc_, "--root", state_root_};
    cmd.insert(cmd.end(), args.begin(), args.end());
    CommandOptions opts;
    opts.timeout = kKillWait;
    NPUSHARE_ASSIGN_OR_RETURN(CommandResult r, RunCommand(cmd, opts));
    if (r.exit_code != 0) {
      return FailedPreconditionError("runc " + args[0] + " " + id_ + ": " + Tail(r.err));
    }
    return OkStatus();
  }

 private:
  const std::string runc_;
  const std::string log_path_;
  const std::string state_root_;
  const std::string id_;
  const BundlePaths bundle_;
  const bool ascend_;
  int pid_ = -1;
  ChildReaper reaper_;
  Mutex kill_mu_;
  bool cleaned_ NPUSHARE_GUARDED_BY(kill_mu_) = false;
  Status kill_status_ NPUSHARE_GUARDED_BY(kill_mu_);
};

class RuncRuntime final : public ContainerRuntime {
 public:
  RuncRuntime(RuntimeOptions options, std::string runc)
      : options_(std::move(options)), runc_(std::move(runc)) {}

  std::string name() const override { return "runc"; }

  Result<std::unique_ptr<Container>> Start(const ContainerSpec& spec) override {
    NPUSHARE_RETURN_IF_ERROR(ValidateSpec(spec));
    if (spec.ascend_runtime && options_.ascend_hook.empty()) {
      return FailedPreconditionError("container " + spec.id +
                                     " asks for the ascend runtime class, but no ascend hook "
                                     "is configured (--ascend-hook)");
    }
    NPUSHARE_ASSIGN_OR_RETURN(LogFd log, OpenLogFile(spec.log_path));
    NPUSHARE_ASSIGN_OR_RETURN(BundlePaths bundle, CreateBundle(options_.root_dir, spec.id));
    // From here on every failure removes the bundle (and a vNPU the ascend step made).
    auto fail = [&](Status s) -> Status {
      if (spec.ascend_runtime) {
        CleanupAscend(bundle, spec.id).IgnoreError();
      }
      RemoveBundle(bundle).IgnoreError();
      return s;
    };
    std::vector<std::string> env =
        spec.ascend_runtime ? MergeEnv(options_.driver_env, spec.env) : MergeEnv({}, spec.env);
    Result<nlohmann::json> config =
        BuildOciConfig(spec, env, bundle, CgroupName(options_.root_dir, spec.id),
                       spec.ascend_runtime ? options_.driver_dirs : std::vector<std::string>{});
    if (!config.ok()) {
      return fail(config.status());
    }
    if (spec.ascend_runtime) {
      AddAscendHooks(options_, &*config);
    }
    Status written = WriteFileAtomically(bundle.config, config->dump(2), 0600);
    if (!written.ok()) {
      return fail(written);
    }
    if (spec.ascend_runtime) {
      Status created = RunAscendCreate(options_, bundle);
      if (!created.ok()) {
        return fail(created);
      }
    }
    std::string state_root = options_.root_dir + "/runc";
    Result<pid_t> runc_pid = SpawnWithOutput(
        {runc_, "--root", state_root, "--log", bundle.dir + "/runc.log", "run", "--bundle",
         bundle.dir, "--pid-file", bundle.dir + "/pid", "--no-new-keyring", spec.id},
        std::nullopt, log.get());
    if (!runc_pid.ok()) {
      return fail(runc_pid.status());
    }
    auto container = std::make_unique<RuncContainer>(runc_, state_root, spec.id, bundle,
                                                     spec.log_path, *runc_pid, spec.ascend_runtime);
    Status started = container->WaitStarted();
    if (!started.ok()) {
      container->Kill(milliseconds(0)).IgnoreError();
      return started;
    }
    return std::unique_ptr<Container>(std::move(container));
  }

 private:
  const RuntimeOptions options_;
  const std::string runc_;
};

}  // namespace

std::string CgroupName(const std::string& root_dir, const std::string& id) {
  // FNV-1a: stable across runs (std::hash is not guaranteed to be).
  uint32_t h = 2166136261u;
  for (unsigned char c : root_dir) {
    h = (h ^ c) * 16777619u;
  }
  char hex[9];
  snprintf(hex, sizeof(hex), "%08x", h);
  return std::string("npushare-") + hex + "-" + id;
}

Result<std::string> FindRunc() {
  const char* path = getenv("PATH");
  std::string search = std::string(path != nullptr ? path : "") + ":/usr/sbin:/usr/bin:/sbin:/bin";
  std::string runc = FindExecutable("runc", search);
  if (runc.empty()) {
    return NotFoundError("runc: not found (searched PATH, /usr/sbin, /usr/bin, /sbin, /bin)");
  }
  return runc;
}

Result<std::unique_ptr<ContainerRuntime>> MakeRuncRuntime(const RuntimeOptions& options,
                                                          const std::string& runc) {
  NPUSHARE_RETURN_IF_ERROR(EnsureRootDir(options.root_dir));
  NPUSHARE_RETURN_IF_ERROR(CleanStaleBundles(options.root_dir, runc));
  return std::unique_ptr<ContainerRuntime>(std::make_unique<RuncRuntime>(options, runc));
}

}  // namespace npushare::container_sim
