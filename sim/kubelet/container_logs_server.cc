#include "sim/kubelet/container_logs_server.h"

#include <fcntl.h>
#include <httplib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

namespace npushare::kubelet_sim {

namespace {

constexpr off_t kMaxServedBytes = off_t{64} << 20;
constexpr size_t kChunk = 64 * 1024;
constexpr auto kFollowPoll = std::chrono::milliseconds(100);

// Fd: an owned file descriptor.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) {
      close(fd_);
    }
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// ReadRange: bytes [from, to) of fd (short when the file is shorter).
std::string ReadRange(int fd, off_t from, off_t to) {
  std::string out;
  while (from < to) {
    char buf[kChunk];
    size_t want = static_cast<size_t>(std::min<off_t>(to - from, static_cast<off_t>(kChunk)));
    ssize_t n = pread(fd, buf, want, from);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    out.append(buf, static_cast<size_t>(n));
    from += n;
  }
  return out;
}

// TailLines: the last `n` lines of `text` (a final line without '\n' counts as a line).
std::string TailLines(const std::string& text, int64_t n) {
  if (n <= 0) {
    return {};
  }
  size_t end = text.size();
  if (end > 0 && text[end - 1] == '\n') {
    --end;  // the terminator of the last line does not start a new one
  }
  size_t pos = end;
  int64_t seen = 0;
  while (pos > 0) {
    size_t nl = text.rfind('\n', pos - 1);
    if (nl == std::string::npos) {
      return text;
    }
    if (++seen == n) {
      return text.substr(nl + 1);
    }
    pos = nl;
  }
  return text;
}

// ParseTail: the tailLines value; false when malformed.
bool ParseTail(const std::string& v, int64_t* out) {
  if (v.empty() || v.size() > 10) {
    return false;
  }
  int64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') {
      return false;
    }
    n = n * 10 + (c - '0');
  }
  *out = n;
  return true;
}

bool IsTrue(const std::string& v) {
  return v == "true" || v == "1" || v == "True";
}

// Follower: the state of one follow stream.
struct Follower {
  std::string path;
  std::function<bool()> running;
  off_t offset = 0;
  std::unique_ptr<Fd> fd;

  // Pump: appends what is new to `out`; returns bytes read.
  size_t Pump(std::string* out) {
    if (fd == nullptr || fd->get() < 0) {
      fd = std::make_unique<Fd>(open(path.c_str(), O_RDONLY | O_CLOEXEC));
      if (fd->get() < 0) {
        return 0;
      }
    }
    std::string data = ReadRange(fd->get(), offset, offset + static_cast<off_t>(kChunk));
    offset += static_cast<off_t>(data.size());
    out->append(data);
    return data.size();
  }
};

}  // namespace

ContainerLogsServer::ContainerLogsServer(LogLookup lookup) : lookup_(std::move(lookup)) {}

ContainerLogsServer::~ContainerLogsServer() {
  Stop();
}

Result<int> ContainerLogsServer::Start(const std::string& host, int port) {
  http_ = std::make_unique<httplib::Server>();
  http_->Get(R"(/containerLogs/([^/]+)/([^/]+)/([^/]+))", [this](const httplib::Request& req,
                                                                 httplib::Response& res) {
    LogKey key{req.matches[1], req.matches[2], req.matches[3],
               req.has_param("previous") && IsTrue(req.get_param_value("previous"))};
    int64_t tail = -1;
    if (req.has_param("tailLines") && !ParseTail(req.get_param_value("tailLines"), &tail)) {
      res.status = 400;
      res.set_content("tailLines must be a non-negative integer\n", "text/plain");
      return;
    }
    const bool follow = req.has_param("follow") && IsTrue(req.get_param_value("follow"));
    std::optional<LogTarget> target = lookup_(key);
    if (!target.has_value()) {
      res.status = 404;
      res.set_content("container " + key.container + " of pod " + key.namespace_name + "/" +
                          key.pod + " not found\n",
                      "text/plain");
      return;
    }
    // The initial part: the whole log (its last 64 MiB) or its last tailLines lines.
    auto state = std::make_shared<Follower>();
    state->path = target->path;
    state->running = target->running;
    std::string initial;
    Fd fd(open(target->path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() >= 0) {
      struct stat st {};
      if (fstat(fd.get(), &st) == 0) {
        off_t from = std::max<off_t>(0, st.st_size - kMaxServedBytes);
        initial = ReadRange(fd.get(), from, st.st_size);
        state->offset = from + static_cast<off_t>(initial.size());
      }
    }
    if (tail >= 0) {
      initial = TailLines(initial, tail);
    }
    if (!follow || !state->running) {
      res.set_content(initial, "text/plain");
      return;
    }
    auto pending = std::make_shared<std::string>(std::move(initial));
    res.set_chunked_content_provider(
        "text/plain", [this, state, pending](size_t, httplib::DataSink& sink) {
          if (!pending->empty()) {
            std::string out = std::move(*pending);
            pending->clear();
            return sink.write(out.data(), out.size());
          }
          std::string out;
          if (state->Pump(&out) > 0) {
            return sink.write(out.data(), out.size());
          }
          if (!stopping_.load() && sink.is_writable() && state->running()) {
            std::this_thread::sleep_for(kFollowPoll);  // nothing new yet: poll the file
            return true;
          }
          // The writer is gone: drain what it wrote last, then end the stream.
          while (state->Pump(&out) > 0 && out.size() < kMaxServedBytes) {
          }
          if (!out.empty() && !sink.write(out.data(), out.size())) {
            return false;
          }
          sink.done();
          return true;
        });
  });
  int bound =
      port == 0 ? http_->bind_to_any_port(host) : (http_->bind_to_port(host, port) ? port : -1);
  if (bound <= 0) {
    http_.reset();
    return UnavailableError("cannot listen on " + host + ":" + std::to_string(port));
  }
  thread_ = std::thread([this] { http_->listen_after_bind(); });
  // cpp-httplib 0.11's stop() does nothing until listen_after_bind() has marked the server
  // running, so a Stop() right after Start() would hang the join: wait for that mark (it
  // takes a thread start, bounded here at 5 s).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!http_->is_running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return bound;
}

void ContainerLogsServer::Stop() {
  stopping_.store(true);
  if (http_ != nullptr) {
    http_->stop();
  }
  if (thread_.joinable()) {
    thread_.join();
  }
  http_.reset();
}

}  // namespace npushare::kubelet_sim
