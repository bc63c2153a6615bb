#include "deviceplugin/kubelet/plugin_fleet.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>

#include "deviceplugin/kubelet/kubelet_paths.h"

namespace npushare::deviceplugin {

using Clock = std::chrono::steady_clock;

struct PluginFleet::Entry {
  PluginResource resource;
  std::unique_ptr<PluginServer> server;  // thread-safe itself; lifecycle calls only on the worker
  // The rest is written by the worker under mu_ and read by Plugins().
  bool registered = false;
  std::optional<SocketFileId> kubelet_at_registration;  // kubelet.sock we registered with
  uint64_t consecutive_failures = 0;
  Clock::time_point next_attempt{};
  uint64_t restarts = 0;
  uint64_t register_failures = 0;
  std::string last_error;
};

PluginFleet::PluginFleet(PluginFleetOptions options, AllocateBackend* backend)
    : options_(std::move(options)),
      backend_(backend),
      kubelet_socket_(options_.plugin_dir + "/" + kKubeletSocketName),
      watcher_(options_.plugin_dir, [this](const KubeletDirEvent& e) { OnDirEvent(e); }) {}

PluginFleet::~PluginFleet() {
  Stop();
}

Status PluginFleet::Start() {
  MutexLock g(&mu_);
  if (started_) {
    return OkStatus();
  }
  struct stat st {};
  if (stat(options_.plugin_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return FailedPreconditionError("device-plugin directory " + options_.plugin_dir +
                                   " does not exist");
  }
  if (options_.use_inotify) {
    Status s = watcher_.Start();
    inotify_active_ = s.ok();
    if (!s.ok()) {
      spdlog::warn("not watching {} ({}); relying on a check every {} ms", options_.plugin_dir,
                   s.ToString(), options_.resync_interval.count());
    }
  }
  started_ = true;
  stop_ = false;
  worker_ = std::thread([this] { Run(); });
  return OkStatus();
}

Status PluginFleet::SetDevices(const PluginResource& resource, std::vector<PluginDevice> devices) {
  if (resource.endpoint.empty() || resource.endpoint.find('/') != std::string::npos ||
      resource.endpoint == kKubeletSocketName || resource.endpoint == kKubeletCheckpointName) {
    return InvalidArgumentError("endpoint \"" + resource.endpoint + "\" for " +
                                resource.resource_name + " is not a usable socket file name");
  }
  MutexLock g(&mu_);
  auto it = entries_.find(resource.resource_name);
  if (it == entries_.end()) {
    for (const auto& [name, e] : entries_) {
      if (e->resource.endpoint == resource.endpoint) {
        return InvalidArgumentError("endpoint " + resource.endpoint + " already serves " + name);
      }
    }
    auto e = std::make_shared<Entry>();
    e->resource = resource;
    PluginServerOptions so;
    so.plugin_dir = options_.plugin_dir;
    so.endpoint = resource.endpoint;
    so.resource_name = resource.resource_name;
    so.start_timeout = options_.start_timeout;
    so.register_timeout = options_.register_timeout;
    so.stop_grace = options_.stop_grace;
    e->server = std::make_unique<PluginServer>(std::move(so), backend_);
    e->server->UpdateDevices(std::move(devices));
    entries_.emplace(resource.resource_name, std::move(e));
    wake_ = true;
    cv_.NotifyAll();
    return OkStatus();
  }
  if (it->second->resource.endpoint != resource.endpoint) {
    return InvalidArgumentError(resource.resource_name + " is served on " +
                                it->second->resource.endpoint + ", not " + resource.endpoint);
  }
  it->second->server->UpdateDevices(std::move(devices));
  return OkStatus();
}

void PluginFleet::RemoveResource(const std::string& resource_name) {
  MutexLock g(&mu_);
  auto it = entries_.find(resource_name);
  if (it == entries_.end()) {
    return;
  }
  removed_.push_back(std::move(it->second));
  entries_.erase(it);
  wake_ = true;
  cv_.NotifyAll();
}

void PluginFleet::ResyncNow() {
  MutexLock g(&mu_);
  wake_ = true;
  cv_.NotifyAll();
}

void PluginFleet::Stop() {
  {
    MutexLock g(&mu_);
    stop_ = true;
    cv_.NotifyAll();
  }
  // The watcher's callback takes mu_: stop it without holding mu_.
  watcher_.Stop();
  if (worker_.joinable()) {
    worker_.join();
  }
  std::vector<std::shared_ptr<Entry>> all;
  {
    MutexLock g(&mu_);
    for (auto& [name, e] : entries_) {
      all.push_back(e);
      e->registered = false;
    }
    all.insert(all.end(), removed_.begin(), removed_.end());
    removed_.clear();
    inotify_active_ = false;
    started_ = false;
  }
  for (auto& e : all) {
    e->server->Stop();
  }
}

std::vector<PluginState> PluginFleet::Plugins() const {
  std::vector<std::pair<std::shared_ptr<Entry>, PluginState>> rows;
  {
    MutexLock g(&mu_);
    for (const auto& [name, e] : entries_) {
      PluginState s;
      s.resource = e->resource;
      s.registered = e->registered;
      s.restarts = e->restarts;
      s.register_failures = e->register_failures;
      s.last_error = e->last_error;
      rows.emplace_back(e, std::move(s));
    }
  }
  std::vector<PluginState> out;
  for (auto& [e, s] : rows) {
    s.serving = e->server->Serving();
    auto devices = e->server->Devices();
    s.devices = devices.size();
    s.healthy_devices = static_cast<size_t>(
        std::count_if(devices.begin(), devices.end(), [](const auto& d) { return d.healthy; }));
    s.server = e->server->Stats();
    out.push_back(std::move(s));
  }
  return out;
}

bool PluginFleet::inotify_active() const {
  MutexLock g(&mu_);
  return inotify_active_;
}

void PluginFleet::OnDirEvent(const KubeletDirEvent& event) {
  MutexLock g(&mu_);
  if (event.kind == KubeletDirEvent::Kind::kKubeletSocketCreated) {
    kubelet_created_ = true;
  }
  wake_ = true;
  cv_.NotifyAll();
}

std::chrono::milliseconds PluginFleet::Backoff(uint64_t failures) const {
  auto d = options_.initial_backoff;
  for (uint64_t i = 1; i < failures && d < options_.max_backoff; ++i) {
    d *= 2;
  }
  return std::min(d, options_.max_backoff);
}

void PluginFleet::Run() {
  Clock::time_point next_wake = Clock::now();
  while (true) {
    std::vector<std::shared_ptr<Entry>> live;
    std::vector<std::shared_ptr<Entry>> removed;
    {
      MutexLock lock(&mu_);
      cv_.WaitUntil(&mu_, next_wake, [&]() NPUSHARE_REQUIRES(mu_) { return stop_ || wake_; });
      if (stop_) {
        return;
      }
      wake_ = false;
      const bool kubelet_created = std::exchange(kubelet_created_, false);
      for (auto& [name, e] : entries_) {
        if (kubelet_created) {
          // A new kubelet is listening: whoever waits in backoff tries now.
          e->next_attempt = Clock::time_point{};
          e->consecutive_failures = 0;
        }
        live.push_back(e);
      }
      removed.swap(removed_);
    }
    for (auto& e : removed) {
      spdlog::info("no longer serving {} on {}", e->resource.resource_name,
                   e->server->socket_path());
      e->server->Stop();
    }
    const std::optional<SocketFileId> kubelet = StatSocketFile(kubelet_socket_);
    for (auto& e : live) {
      Reconcile(*e, kubelet, Clock::now());
    }
    const Clock::time_point now = Clock::now();
    next_wake = now + options_.resync_interval;
    MutexLock g(&mu_);
    for (const auto& e : live) {
      if (!e->registered) {
        next_wake = std::min(next_wake, std::max(e->next_attempt, now));
      }
    }
  }
}

void PluginFleet::Reconcile(Entry& e, const std::optional<SocketFileId>& kubelet,
                            Clock::time_point now) {
  PluginServer& server = *e.server;
  bool registered;
  std::optional<SocketFileId> registered_with;
  Clock::time_point next_attempt;
  {
    MutexLock g(&mu_);
    registered = e.registered;
    registered_with = e.kubelet_at_registration;
    next_attempt = e.next_attempt;
  }
  auto fail = [&](const Status& s, bool is_register) {
    MutexLock g(&mu_);
    e.registered = false;
    ++e.consecutive_failures;
    if (is_register) {
      ++e.register_failures;
    }
    e.next_attempt = now + Backoff(e.consecutive_failures);
    e.last_error = s.ToString();
    spdlog::warn("{}: {} (retrying in {} ms)", e.resource.resource_name, s.ToString(),
                 Backoff(e.consecutive_failures).count());
  };

  bool restart = false;
  std::string why;
  if (server.Serving() && !server.SocketIntact()) {
    restart = true;
    why = "socket " + server.socket_path() + " was removed";
  } else if (server.Serving() && registered && kubelet.has_value() && kubelet != registered_with) {
    restart = true;
    why = "kubelet.sock was re-created";
  }
  if (restart) {
    spdlog::info("kubelet restarted ({}): serving {} again and re-registering", why,
                 e.resource.resource_name);
    server.Stop();
    MutexLock g(&mu_);
    e.registered = false;
    ++e.restarts;
    registered = false;
    next_attempt = now;  // a restart is not a failure: no backoff before the new Start
    e.next_attempt = now;
  }
  if (!server.Serving()) {
    if (now < next_attempt) {
      return;
    }
    if (Status s = server.Start(); !s.ok()) {
      fail(s.WithContext("serving " + e.resource.resource_name), false);
      return;
    }
    registered = false;
    MutexLock g(&mu_);
    e.registered = false;
  }
  if (registered || now < next_attempt) {
    return;
  }
  // Identity of the kubelet we are about to register with, taken before the call: if kubelet
  // restarts during it, the next check sees a different socket and registers again.
  const std::optional<SocketFileId> target = StatSocketFile(kubelet_socket_);
  Status s = server.Register();
  if (!s.ok()) {
    fail(s, true);
    return;
  }
  spdlog::info("registered {} ({} devices) with kubelet on {}", e.resource.resource_name,
               server.Devices().size(), server.socket_path());
  MutexLock g(&mu_);
  e.registered = true;
  e.kubelet_at_registration = target;
  e.consecutive_failures = 0;
  e.last_error.clear();
}

}  // namespace npushare::deviceplugin
