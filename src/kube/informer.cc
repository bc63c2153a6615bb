#include "kube/informer.h"

#include <random>

#include "kube/api_error.h"
#include "kube/objects.h"

namespace npushare::kube {

using nlohmann::json;

namespace {

// Prune: applies the options' transforms to an object before it is cached.
void Prune(const InformerOptions& options, json& obj) {
  if (!options.strip_managed_fields) {
    return;
  }
  auto m = obj.find("metadata");
  if (m != obj.end() && m->is_object()) {
    m->erase("managedFields");
  }
}

}  // namespace

Informer::Informer(KubeClient& client, const ResourceType& type, InformerOptions options)
    : client_(client), type_(type), options_(std::move(options)) {}

Informer::~Informer() {
  Stop();
}

void Informer::AddHandlers(InformerHandlers handlers) {
  handlers_ = std::move(handlers);
}

void Informer::Start() {
  if (started_.exchange(true)) {
    return;
  }
  run_thread_ = std::thread([this] { Run(); });
  // Resync only re-delivers objects to on_update; without that handler it would parse the whole
  // cache every period for nothing.
  if (options_.resync_period.count() > 0 && handlers_.on_update) {
    resync_thread_ = std::thread([this] { ResyncLoop(); });
  }
}

void Informer::Stop() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.NotifyAll();
  cancel_.Cancel();
  if (run_thread_.joinable()) {
    run_thread_.join();
  }
  if (resync_thread_.joinable()) {
    resync_thread_.join();
  }
}

bool Informer::HasSynced() const {
  MutexLock lock(&mu_);
  return synced_;
}

bool Informer::WaitForSync(std::chrono::milliseconds timeout) const {
  MutexLock lock(&mu_);
  return cv_.WaitFor(&mu_, timeout, [this]() NPUSHARE_REQUIRES(mu_) {
    return synced_ || stopping_;
  }) && synced_;
}

Informer::Entry Informer::MakeEntry(const ObjectPtr& obj) const {
  Entry e;
  e.rv = ResourceVersionOf(*obj);
  if (options_.compact) {
    e.text = obj->dump(-1, ' ', false, json::error_handler_t::replace);
    e.text.shrink_to_fit();
  } else {
    e.object = obj;
  }
  return e;
}

Informer::ObjectPtr Informer::Materialize(const Entry& e) {
  if (e.object) {
    return e.object;
  }
  // The text was produced by dump(), so it parses; a failure would yield a discarded value
  // rather than an exception.
  return std::make_shared<const json>(json::parse(e.text, nullptr, /*allow_exceptions=*/false));
}

Informer::ObjectPtr Informer::Get(const std::string& key) const {
  Entry copy;
  {
    MutexLock lock(&mu_);
    auto it = cache_.find(key);
    if (it == cache_.end()) {
      return nullptr;
    }
    copy = it->second;
  }
  return Materialize(copy);
}

std::vector<Informer::ObjectPtr> Informer::List() const {
  std::vector<Entry> copies;
  {
    MutexLock lock(&mu_);
    copies.reserve(cache_.size());
    for (const auto& [k, v] : cache_) {
      copies.push_back(v);
    }
  }
  std::vector<ObjectPtr> out;
  out.reserve(copies.size());
  for (const auto& e : copies) {
    out.push_back(Materialize(e));
  }
  return out;
}

size_t Informer::Size() const {
  MutexLock lock(&mu_);
  return cache_.size();
}

std::string Informer::LastResourceVersion() const {
  MutexLock lock(&mu_);
  return last_rv_;
}

InformerStats Informer::Stats() const {
  MutexLock lock(&mu_);
  return stats_;
}

bool Informer::WaitBackoff(std::chrono::milliseconds d) {
  MutexLock lock(&mu_);
  cv_.WaitFor(&mu_, d, [this]() NPUSHARE_REQUIRES(mu_) { return stopping_; });
  return !stopping_;
}

Status Informer::ListAndReplace(const std::string& rv) {
  ListOptions lo;
  lo.label_selector = options_.label_selector;
  lo.field_selector = options_.field_selector;
  lo.limit = options_.page_size;
  lo.resource_version = rv;
  NPUSHARE_ASSIGN_OR_RETURN(json list, client_.ListAll(type_, options_.namespace_name, lo));
  std::string list_rv = ResourceVersionOf(list);
  std::unordered_map<std::string, Entry> fresh;
  fresh.reserve(list["items"].size());
  std::unordered_map<std::string, ObjectPtr> parsed;  // for handlers only
  bool want_objects = handlers_.on_add || handlers_.on_update;
  for (auto& item : list["items"]) {
    if (!item.is_object()) {
      continue;
    }
    std::string key = ObjectKey(item);
    if (key.empty()) {
      continue;
    }
    // Items of built-in lists carry no kind/apiVersion; add them so handlers see full objects.
    if (!item.contains("kind")) {
      item["kind"] = type_.kind;
    }
    if (!item.contains("apiVersion")) {
      item["apiVersion"] = ApiVersion(type_);
    }
    Prune(options_, item);
    auto obj = std::make_shared<const json>(std::move(item));
    fresh.emplace(key, MakeEntry(obj));
    if (want_objects) {
      parsed.emplace(std::move(key), std::move(obj));
    }
  }
  list = json();  // release the raw list before building handler arguments
  // Diff against the old cache so a relist produces exactly the changes that happened.
  std::vector<std::pair<ObjectPtr, ObjectPtr>> updates;
  std::vector<ObjectPtr> adds;
  std::vector<ObjectPtr> deletes;
  {
    MutexLock lock(&mu_);
    for (const auto& [key, entry] : fresh) {
      auto it = cache_.find(key);
      auto p = parsed.find(key);
      ObjectPtr obj = p != parsed.end() ? p->second : nullptr;
      if (it == cache_.end()) {
        if (obj) {
          adds.push_back(obj);
        }
      } else if (it->second.rv != entry.rv && obj) {
        updates.emplace_back(Materialize(it->second), obj);
      }
    }
    if (handlers_.on_delete) {
      for (const auto& [key, entry] : cache_) {
        if (fresh.find(key) == fresh.end()) {
          deletes.push_back(Materialize(entry));
        }
      }
    }
    cache_ = std::move(fresh);
    last_rv_ = list_rv;
    ++stats_.lists;
  }
  parsed.clear();
  MutexLock hl(&handler_mu_);
  for (const auto& d : deletes) {
    if (handlers_.on_delete) {
      handlers_.on_delete(*d);
    }
  }
  for (const auto& a : adds) {
    if (handlers_.on_add) {
      handlers_.on_add(*a);
    }
  }
  for (const auto& [o, n] : updates) {
    if (handlers_.on_update) {
      handlers_.on_update(*o, *n);
    }
  }
  // Synced only once the handlers have seen the first list (client-go's HasSynced): a cache
  // built from the handlers is complete when WaitForSync returns.
  {
    MutexLock lock(&mu_);
    synced_ = true;
  }
  cv_.NotifyAll();
  return OkStatus();
}

bool Informer::ApplyEvent(WatchEvent&& ev) {
  std::string rv = ResourceVersionOf(ev.object);
  if (ev.type == "BOOKMARK") {
    MutexLock lock(&mu_);
    if (!rv.empty()) {
      last_rv_ = rv;
    }
    return !stopping_;
  }
  std::string key = ObjectKey(ev.object);
  if (key.empty()) {
    return true;  // nothing we could index; keep watching
  }
  Prune(options_, ev.object);
  auto obj = std::make_shared<const json>(std::move(ev.object));
  Entry entry;
  if (ev.type != "DELETED") {
    entry = MakeEntry(obj);  // a deletion caches nothing: skip the serialization
  }
  ObjectPtr old;
  enum { kNone, kAdd, kUpdate, kDelete } action = kNone;
  {
    MutexLock lock(&mu_);
    if (stopping_) {
      return false;
    }
    if (!rv.empty()) {
      last_rv_ = rv;
    }
    auto it = cache_.find(key);
    if (ev.type == "DELETED") {
      if (it != cache_.end()) {
        cache_.erase(it);
        action = kDelete;
      }
    } else if (it == cache_.end()) {
      cache_.emplace(key, std::move(entry));
      action = kAdd;
    } else if (it->second.rv == rv) {
      ++stats_.duplicates;
    } else {
      if (handlers_.on_update) {
        old = Materialize(it->second);
      }
      it->second = std::move(entry);
      action = kUpdate;
    }
    if (action != kNone) {
      ++stats_.events;
    }
  }
  MutexLock hl(&handler_mu_);
  switch (action) {
    case kAdd:
      if (handlers_.on_add) {
        handlers_.on_add(*obj);
      }
      break;
    case kUpdate:
      if (handlers_.on_update) {
        handlers_.on_update(*old, *obj);
      }
      break;
    case kDelete:
      if (handlers_.on_delete) {
        handlers_.on_delete(*obj);
      }
      break;
    default:
      break;
  }
  return true;
}

void Informer::Run() {
  std::mt19937_64 rng(std::random_device{}());
  std::string list_rv = "0";  // first list may be served from the watch cache
  bool need_list = true;
  std::chrono::milliseconds backoff = options_.min_backoff;
  auto next_backoff = [&] {
    std::uniform_real_distribution<double> jitter(0.5, 1.0);
    auto d = std::chrono::milliseconds(
        static_cast<int64_t>(static_cast<double>(backoff.count()) * jitter(rng)));
    backoff = std::min(backoff * 2, options_.max_backoff);
    return d;
  };
  for (;;) {
    {
      MutexLock lock(&mu_);
      if (stopping_) {
        return;
      }
    }
    if (need_list) {
      Status st = ListAndReplace(list_rv);
      if (!st.ok()) {
        if (IsGone(st)) {
          list_rv = "";
        }
        if (!WaitBackoff(next_backoff())) {
          return;
        }
        continue;
      }
      need_list = false;
      backoff = options_.min_backoff;
    }
    WatchOptions wo;
    wo.label_selector = options_.label_selector;
    wo.field_selector = options_.field_selector;
    wo.resource_version = LastResourceVersion();
    wo.allow_bookmarks = true;
    std::uniform_int_distribution<int> timeout(options_.watch_timeout_seconds,
                                               2 * options_.watch_timeout_seconds - 1);
    wo.timeout_seconds = options_.watch_timeout_seconds > 0 ? timeout(rng) : 0;
    {
      MutexLock lock(&mu_);
      ++stats_.watches;
    }
    bool got_event = false;
    Status st = client_.Watch(
        type_, options_.namespace_name, wo,
        [&](WatchEvent&& ev) {
          got_event = true;
          return ApplyEvent(std::move(ev));
        },
        &cancel_);
    {
      MutexLock lock(&mu_);
      if (stopping_) {
        return;
      }
      if (IsGone(st)) {
        ++stats_.gone;
      } else if (!st.ok()) {
        ++stats_.watch_errors;
      }
    }
    if (st.ok()) {
      // Normal close: resume from the last RV. A stream that closed without delivering
      // anything is paced so that a misbehaving server cannot make us hot-loop.
      if (got_event) {
        backoff = options_.min_backoff;
      } else if (!WaitBackoff(next_backoff())) {
        return;
      }
      continue;
    }
    if (IsGone(st)) {
      need_list = true;
      list_rv = "";  // consistent read after 410
      continue;
    }
    if (!WaitBackoff(next_backoff())) {
      return;
    }
  }
}

void Informer::ResyncLoop() {
  for (;;) {
    if (!WaitBackoff(options_.resync_period)) {
      return;
    }
    std::vector<ObjectPtr> snapshot = List();
    MutexLock hl(&handler_mu_);
    {
      MutexLock lock(&mu_);
      if (stopping_) {
        return;
      }
    }
    for (const auto& obj : snapshot) {
      handlers_.on_update(*obj, *obj);  // set: Start() runs this loop only then
    }
  }
}

}  // namespace npushare::kube
