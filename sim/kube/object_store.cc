#include "sim/kube/object_store.h"

#include <algorithm>

#include "common/atomic_file.h"
#include "common/file_reader.h"
#include "kube/objects.h"

namespace npushare::kube_local {

using nlohmann::json;

ObjectStore::ObjectStore(StoreOptions options) : options_(options) {}

void ObjectStore::AppendLocked(const std::string& resource, StoredEvent ev) {
  History& h = history_[resource];
  h.events.push_back(std::move(ev));
  while (h.events.size() > options_.history_limit) {
    h.compacted_rv = h.events.front().rv;
    h.events.pop_front();
  }
  dirty_.store(true);
}

Result<ObjectPtr> ObjectStore::Write(const std::string& resource, const std::string& key,
                                     const Mutator& mutate) {
  MutexLock lock(&mu_);
  auto& objs = objects_[resource];
  auto it = objs.find(key);
  ObjectPtr current = it == objs.end() ? nullptr : it->second;
  Result<ObjectPtr> next = mutate(current);
  if (!next.ok()) {
    return next.status();
  }
  if (*next == current) {
    return current;  // no-op update: no new RV, no event
  }
  auto stored = std::make_shared<json>(**next);
  int64_t rv = rv_ + 1;
  (*stored)["metadata"]["resourceVersion"] = std::to_string(rv);
  ObjectPtr frozen = stored;
  NPUSHARE_RETURN_IF_ERROR(JournalLocked(resource, key, rv, frozen));
  rv_ = rv;
  objs[key] = frozen;
  AppendLocked(resource, StoredEvent{rv, current ? EventType::kModified : EventType::kAdded, frozen,
                                     current});
  lock.Unlock();
  NPUSHARE_RETURN_IF_ERROR(MakeDurable(rv));
  return frozen;
}

Status ObjectStore::JournalLocked(const std::string& resource, const std::string& key, int64_t rv,
                                  const ObjectPtr& object) {
  if (journal_ == nullptr) {
    durable_rv_ = rv;  // nothing to wait for: visible at once
    return OkStatus();
  }
  JournalRecord rec;
  rec.rv = rv;
  rec.resource = resource;
  rec.key = key;
  rec.deleted = object == nullptr;
  if (object) {
    rec.object = *object;
  }
  return journal_->Append(rec);
}

Status ObjectStore::MakeDurable(int64_t rv) {
  if (journal_ != nullptr) {
    Status synced = journal_->SyncThrough(rv);
    if (!synced.ok()) {
      return UnavailableError("the write may not be durable: " + synced.message());
    }
    MutexLock lock(&mu_);
    durable_rv_ = std::max(durable_rv_, rv);
  }
  cv_.NotifyAll();
  return OkStatus();
}

void ObjectStore::SetJournal(Journal* journal) {
  MutexLock lock(&mu_);
  journal_ = journal;
  durable_rv_ = rv_;
}

Status ObjectStore::Replay(const JournalRecord& record) {
  MutexLock lock(&mu_);
  if (record.rv <= rv_) {
    return Status(StatusCode::kDataLoss, "journal record at revision " + std::to_string(record.rv) +
                                             " is not after revision " + std::to_string(rv_));
  }
  auto& objs = objects_[record.resource];
  if (record.deleted) {
    objs.erase(record.key);
  } else {
    objs[record.key] = std::make_shared<const json>(record.object);
  }
  rv_ = record.rv;
  base_rv_ = rv_;
  durable_rv_ = rv_;
  return OkStatus();
}

Result<ObjectStore::Contents> ObjectStore::Capture(
    const std::function<Status(int64_t rv)>& while_locked) const {
  Contents c;
  MutexLock lock(&mu_);
  if (while_locked) {
    NPUSHARE_RETURN_IF_ERROR(while_locked(rv_));
  }
  c.rv = rv_;
  c.objects = objects_;
  return c;
}

Status ObjectStore::SaveContents(const Contents& contents, const std::string& path) {
  json doc;
  doc["resourceVersion"] = contents.rv;
  json& res = doc["resources"] = json::object();
  for (const auto& [name, objs] : contents.objects) {
    json arr = json::array();
    for (const auto& [key, obj] : objs) {
      arr.push_back(*obj);
    }
    res[name] = std::move(arr);
  }
  return WriteFileAtomically(path, doc.dump(-1, ' ', false, json::error_handler_t::replace), 0600);
}

Result<ObjectPtr> ObjectStore::Remove(const std::string& resource, const std::string& key,
                                      const std::function<Status(const json&)>& precondition) {
  MutexLock lock(&mu_);
  auto& objs = objects_[resource];
  auto it = objs.find(key);
  if (it == objs.end()) {
    return NotFoundError(key + " not found");
  }
  if (precondition) {
    Status st = precondition(*it->second);
    if (!st.ok()) {
      return st;
    }
  }
  ObjectPtr prev = it->second;
  int64_t rv = rv_ + 1;
  NPUSHARE_RETURN_IF_ERROR(JournalLocked(resource, key, rv, nullptr));
  rv_ = rv;
  objs.erase(it);
  auto last = std::make_shared<json>(*prev);
  (*last)["metadata"]["resourceVersion"] = std::to_string(rv);
  ObjectPtr frozen = last;
  AppendLocked(resource, StoredEvent{rv, EventType::kDeleted, frozen, prev});
  lock.Unlock();
  NPUSHARE_RETURN_IF_ERROR(MakeDurable(rv));
  return frozen;
}

ObjectPtr ObjectStore::Get(const std::string& resource, const std::string& key) const {
  MutexLock lock(&mu_);
  auto r = objects_.find(resource);
  if (r == objects_.end()) {
    return nullptr;
  }
  auto it = r->second.find(key);
  return it == r->second.end() ? nullptr : it->second;
}

ObjectStore::Page ObjectStore::ListPage(const std::string& resource, const std::string& prefix,
                                        const std::string& after_key, size_t limit,
                                        const std::function<bool(const json&)>& filter) const {
  Page page;
  MutexLock lock(&mu_);
  page.rv = rv_;
  auto r = objects_.find(resource);
  if (r == objects_.end()) {
    return page;
  }
  const auto& objs = r->second;
  auto it = after_key.empty() ? objs.lower_bound(prefix) : objs.upper_bound(after_key);
  for (; it != objs.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) {
      break;
    }
    if (filter && !filter(*it->second)) {
      continue;
    }
    if (limit > 0 && page.items.size() == limit) {
      page.more = true;
      break;
    }
    page.items.push_back(it->second);
    page.last_key = it->first;
  }
  return page;
}

bool ObjectStore::IsGoneLocked(const std::string& resource, int64_t after_rv) const {
  if (after_rv > rv_ || after_rv < base_rv_) {
    return true;
  }
  auto h = history_.find(resource);
  return h != history_.end() && after_rv < h->second.compacted_rv;
}

bool ObjectStore::IsGone(const std::string& resource, int64_t after_rv) const {
  MutexLock lock(&mu_);
  return IsGoneLocked(resource, after_rv);
}

ObjectStore::WatchBatch ObjectStore::WaitEvents(const std::string& resource, int64_t after_rv,
                                                std::chrono::steady_clock::time_point deadline,
                                                const std::atomic<bool>* stop) const {
  WatchBatch batch;
  MutexLock lock(&mu_);
  // Only durable events are delivered (durable_rv_), so no watcher sees a change that a
  // crash before its fdatasync could undo.
  auto first_after = [&](const std::deque<StoredEvent>& evs) {
    return std::upper_bound(evs.begin(), evs.end(), after_rv,
                            [](int64_t v, const StoredEvent& e) { return v < e.rv; });
  };
  auto has_events = [&]() NPUSHARE_REQUIRES(mu_) {
    auto h = history_.find(resource);
    if (h == history_.end()) {
      return false;
    }
    auto first = first_after(h->second.events);
    return first != h->second.events.end() && first->rv <= durable_rv_;
  };
  cv_.WaitUntil(&mu_, deadline, [&]() NPUSHARE_REQUIRES(mu_) {
    return (stop != nullptr && stop->load()) || IsGoneLocked(resource, after_rv) || has_events();
  });
  if (IsGoneLocked(resource, after_rv)) {
    batch.gone = true;
    return batch;
  }
  batch.through_rv = std::max(after_rv, durable_rv_);
  auto h = history_.find(resource);
  if (h != history_.end()) {
    const auto& evs = h->second.events;
    auto first = first_after(evs);
    auto last = std::upper_bound(first, evs.end(), durable_rv_,
                                 [](int64_t v, const StoredEvent& e) { return v < e.rv; });
    batch.events.assign(first, last);
  }
  return batch;
}

void ObjectStore::NotifyAll() const {
  { MutexLock lock(&mu_); }
  cv_.NotifyAll();
}

int64_t ObjectStore::CurrentRv() const {
  MutexLock lock(&mu_);
  return rv_;
}

size_t ObjectStore::Count(const std::string& resource) const {
  MutexLock lock(&mu_);
  auto r = objects_.find(resource);
  return r == objects_.end() ? 0 : r->second.size();
}

void ObjectStore::CompactForTest() {
  MutexLock lock(&mu_);
  for (auto& [res, h] : history_) {
    h.events.clear();
    h.compacted_rv = rv_;
  }
  base_rv_ = rv_;
  cv_.NotifyAll();
}

Status ObjectStore::Save(const std::string& path) const {
  dirty_.store(false);
  auto contents = Capture(nullptr);
  Status st = contents.ok() ? SaveContents(*contents, path) : contents.status();
  if (!st.ok()) {
    dirty_.store(true);  // the snapshot was not saved: the next Save() must write it again
  }
  return st;
}

Status ObjectStore::Load(const std::string& path, size_t max_bytes) {
  Result<std::string> text = ReadFileLimited(path, max_bytes);
  if (!text.ok()) {
    return FailedPreconditionError("cannot read " + path + ": " + text.status().message());
  }
  json doc = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("resourceVersion") ||
      !doc["resourceVersion"].is_number_integer() || !doc.contains("resources") ||
      !doc["resources"].is_object()) {
    return InvalidArgumentError("malformed store file " + path);
  }
  std::map<std::string, std::map<std::string, ObjectPtr>> objects;
  for (auto it = doc["resources"].begin(); it != doc["resources"].end(); ++it) {
    if (!it.value().is_array()) {
      return InvalidArgumentError("malformed resource list in " + path);
    }
    for (auto& obj : it.value()) {
      if (!obj.is_object() || !obj.contains("metadata") || !obj["metadata"].is_object() ||
          !obj["metadata"].contains("name") || !obj["metadata"]["name"].is_string()) {
        return InvalidArgumentError("object without metadata.name in " + path);
      }
      std::string key = kube::ObjectKey(obj);
      objects[it.key()][key] = std::make_shared<const json>(std::move(obj));
    }
  }
  MutexLock lock(&mu_);
  objects_ = std::move(objects);
  history_.clear();
  rv_ = std::max<int64_t>(1, doc["resourceVersion"].get<int64_t>());
  base_rv_ = rv_;
  durable_rv_ = rv_;
  dirty_.store(false);
  return OkStatus();
}

}  // namespace npushare::kube_local
