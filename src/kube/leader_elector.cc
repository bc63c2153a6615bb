#include "kube/leader_elector.h"

#include "kube/api_error.h"
#include "kube/objects.h"
#include "kube/resource.h"

namespace npushare::kube {

using nlohmann::json;

LeaderElector::LeaderElector(KubeClient& client, LeaderElectionOptions options,
                             LeaderCallbacks callbacks, Clock& clock)
    : client_(client),
      options_(std::move(options)),
      callbacks_(std::move(callbacks)),
      clock_(clock) {}

std::string LeaderElector::ObservedHolder() const {
  MutexLock lock(&mu_);
  return observed_holder_;
}

bool LeaderElector::TryAcquireOrRenew() {
  auto now = clock_.Now();
  std::string now_text = FormatRfc3339(clock_.WallNow(), /*micros=*/true);
  auto duration = static_cast<int64_t>(options_.lease_duration.count());
  auto got = client_.Get(kLeases, options_.namespace_name, options_.lease_name);
  if (!got.ok()) {
    if (!IsNotFound(got.status())) {
      return false;
    }
    json lease = {
        {"apiVersion", "coordination.k8s.io/v1"},
        {"kind", "Lease"},
        {"metadata", {{"name", options_.lease_name}, {"namespace", options_.namespace_name}}},
        {"spec",
         {{"holderIdentity", options_.identity},
          {"leaseDurationSeconds", duration},
          {"acquireTime", now_text},
          {"renewTime", now_text},
          {"leaseTransitions", 0}}}};
    auto created = client_.Create(kLeases, options_.namespace_name, lease);
    if (!created.ok()) {
      return false;
    }
    MutexLock lock(&mu_);
    observed_record_ = (*created)["spec"].dump();
    observed_holder_ = options_.identity;
    observed_time_ = now;
    return true;
  }
  json lease = std::move(*got);
  if (!lease.contains("spec") || !lease["spec"].is_object()) {
    lease["spec"] = json::object();
  }
  json& spec = lease["spec"];
  std::string holder = StringField(spec, "holderIdentity");
  int64_t observed_duration = IntField(spec, "leaseDurationSeconds", duration);
  {
    MutexLock lock(&mu_);
    std::string record = spec.dump();
    if (record != observed_record_) {
      observed_record_ = record;
      observed_time_ = now;  // expiry is judged on our clock, never on the holder's timestamps
    }
    observed_holder_ = holder;
    if (!holder.empty() && holder != options_.identity &&
        observed_time_ + std::chrono::seconds(observed_duration) > now) {
      return false;  // held by someone else and not expired
    }
  }
  int64_t transitions = IntField(spec, "leaseTransitions", 0);
  if (holder != options_.identity) {
    spec["acquireTime"] = now_text;
    spec["leaseTransitions"] = holder.empty() && transitions == 0 ? 0 : transitions + 1;
  }
  spec["holderIdentity"] = options_.identity;
  spec["leaseDurationSeconds"] = duration;
  spec["renewTime"] = now_text;
  auto updated = client_.Update(kLeases, options_.namespace_name, lease);
  if (!updated.ok()) {
    return false;  // 409: lost the race
  }
  MutexLock lock(&mu_);
  observed_record_ = (*updated)["spec"].dump();
  observed_holder_ = options_.identity;
  observed_time_ = now;
  return true;
}

void LeaderElector::Release() {
  auto got = client_.Get(kLeases, options_.namespace_name, options_.lease_name);
  if (!got.ok()) {
    return;
  }
  json lease = std::move(*got);
  if (StringField(Field(lease, "spec"), "holderIdentity") != options_.identity) {
    return;
  }
  lease["spec"]["holderIdentity"] = "";
  lease["spec"]["leaseDurationSeconds"] = 1;
  lease["spec"]["renewTime"] = FormatRfc3339(clock_.WallNow(), true);
  client_.Update(kLeases, options_.namespace_name, lease).status().IgnoreError();  // best effort
}

void LeaderElector::Run() {
  while (!stop_.load()) {
    if (TryAcquireOrRenew()) {
      break;
    }
    clock_.SleepFor(options_.retry_period);
  }
  if (stop_.load()) {
    return;
  }
  leader_.store(true);
  if (callbacks_.on_started_leading) {
    callbacks_.on_started_leading();
  }
  auto last_renew = clock_.Now();
  while (!stop_.load()) {
    clock_.SleepFor(options_.retry_period);
    if (stop_.load()) {
      break;
    }
    if (TryAcquireOrRenew()) {
      last_renew = clock_.Now();
    } else if (clock_.Now() - last_renew >= options_.renew_deadline) {
      break;  // could not renew in time: someone else may take over now
    }
  }
  if (stop_.load() && options_.release_on_stop) {
    Release();
  }
  leader_.store(false);
  if (callbacks_.on_stopped_leading) {
    callbacks_.on_stopped_leading();
  }
}

}  // namespace npushare::kube
