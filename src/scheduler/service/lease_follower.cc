#include "scheduler/service/lease_follower.h"

#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <vector>

#include "common/file_reader.h"
#include "common/yaml_json.h"
#include "config/names.h"
#include "kube/api_error.h"
#include "kube/objects.h"
#include "kube/resource.h"

namespace npushare::scheduler {
namespace {

using nlohmann::json;

constexpr size_t kMaxConfigBytes = size_t{1} << 20;
constexpr int64_t kMaxLeaseDurationSeconds = 86400;

Status CheckName(std::string_view what, std::string_view name) {
  if (std::string p = config::Dns1123SubdomainProblem(name); !p.empty()) {
    return InvalidArgumentError(std::string(what) + " \"" + std::string(name) + "\" " + p);
  }
  return OkStatus();
}

// StringOrDefault: an optional string field of `obj`: absent/null -> fallback; a non-string
// is an error.
Result<std::string> StringOrDefault(const json& obj, const char* key, const char* fallback) {
  const json& v = kube::Field(obj, key);
  if (v.is_null()) {
    return std::string(fallback);
  }
  if (!v.is_string()) {
    return InvalidArgumentError(std::string("leaderElection.") + key + " is not a string");
  }
  return v.get<std::string>();
}

}  // namespace

Result<FollowedLease> ParseFollowedLeaseFlag(std::string_view text) {
  FollowedLease out;
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    out.lease_name = std::string(text);
  } else {
    if (text.find('/', slash + 1) != std::string_view::npos) {
      return InvalidArgumentError("Lease \"" + std::string(text) +
                                  "\" is not [NAMESPACE/]NAME (more than one '/')");
    }
    out.namespace_name = std::string(text.substr(0, slash));
    out.lease_name = std::string(text.substr(slash + 1));
  }
  NPUSHARE_RETURN_IF_ERROR(CheckName("Lease namespace", out.namespace_name));
  NPUSHARE_RETURN_IF_ERROR(CheckName("Lease name", out.lease_name));
  return out;
}

Result<FollowedLease> FollowedLeaseFromKubeSchedulerConfig(std::string_view yaml_text) {
  YamlLimits limits;
  limits.max_depth = 32;
  limits.max_nodes = 100000;
  NPUSHARE_ASSIGN_OR_RETURN(std::vector<json> docs, ParseYamlDocuments(yaml_text, limits));
  if (docs.size() != 1 || !docs[0].is_object()) {
    return InvalidArgumentError(
        "a KubeSchedulerConfiguration file holds exactly one object, found " +
        std::to_string(docs.size()) + " document(s)");
  }
  const json& doc = docs[0];
  if (kube::StringField(doc, "kind") != "KubeSchedulerConfiguration" ||
      kube::StringField(doc, "apiVersion").rfind("kubescheduler.config.k8s.io/", 0) != 0) {
    return InvalidArgumentError(
        "not a kubescheduler.config.k8s.io KubeSchedulerConfiguration (apiVersion \"" +
        kube::StringField(doc, "apiVersion") + "\", kind \"" + kube::StringField(doc, "kind") +
        "\")");
  }
  FollowedLease out;
  const json& le = kube::Field(doc, "leaderElection");
  if (le.is_null()) {
    return out;  // kube-scheduler's defaults
  }
  if (!le.is_object()) {
    return InvalidArgumentError("leaderElection is not an object");
  }
  const json& elect = kube::Field(le, "leaderElect");
  if (!elect.is_null() && !elect.is_boolean()) {
    return InvalidArgumentError("leaderElection.leaderElect is not a boolean");
  }
  out.leader_elect = elect.is_null() || elect.get<bool>();
  NPUSHARE_ASSIGN_OR_RETURN(std::string lock, StringOrDefault(le, "resourceLock", "leases"));
  if (lock != "leases") {
    return InvalidArgumentError("leaderElection.resourceLock \"" + lock +
                                "\" is not supported (only \"leases\")");
  }
  NPUSHARE_ASSIGN_OR_RETURN(out.lease_name,
                            StringOrDefault(le, "resourceName", out.lease_name.c_str()));
  NPUSHARE_ASSIGN_OR_RETURN(out.namespace_name,
                            StringOrDefault(le, "resourceNamespace", out.namespace_name.c_str()));
  NPUSHARE_RETURN_IF_ERROR(CheckName("leaderElection.resourceNamespace", out.namespace_name));
  NPUSHARE_RETURN_IF_ERROR(CheckName("leaderElection.resourceName", out.lease_name));
  return out;
}

Result<FollowedLease> LoadFollowedLeaseFromKubeSchedulerConfig(const std::string& path) {
  auto text = ReadFileLimited(path, kMaxConfigBytes);
  if (!text.ok()) {
    return Status(text.status().code(), path + ": " + text.status().message());
  }
  auto lease = FollowedLeaseFromKubeSchedulerConfig(*text);
  if (!lease.ok()) {
    return Status(lease.status().code(), path + ": " + lease.status().message());
  }
  return lease;
}

std::string LocalHostname() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0 && host[0] != '\0') {
    return host;
  }
  const char* env = std::getenv("HOSTNAME");
  return env != nullptr ? env : "";
}

bool HolderNamesHost(std::string_view holder, std::string_view hostname) {
  return !hostname.empty() && holder.size() > hostname.size() + 1 &&
         holder.substr(0, hostname.size()) == hostname && holder[hostname.size()] == '_';
}

const char* LeaseVerdictName(LeaseVerdict v) {
  switch (v) {
    case LeaseVerdict::kLeader:
      return "leader";
    case LeaseVerdict::kOtherHolder:
      return "other_holder";
    case LeaseVerdict::kNoHolder:
      return "no_holder";
    case LeaseVerdict::kExpired:
      return "expired";
    case LeaseVerdict::kNotFound:
      return "not_found";
    case LeaseVerdict::kMalformed:
      return "malformed";
    case LeaseVerdict::kUnreadable:
      return "unreadable";
    default:
      return "unknown";
  }
}

LeaseVerdict JudgeLease(const json& lease, std::string_view hostname,
                        std::chrono::system_clock::time_point now) {
  const json& spec = kube::Field(lease, "spec");
  if (!spec.is_object()) {
    return LeaseVerdict::kMalformed;
  }
  const json& holder = kube::Field(spec, "holderIdentity");
  if (holder.is_null() || (holder.is_string() && holder.get<std::string>().empty())) {
    return LeaseVerdict::kNoHolder;
  }
  if (!holder.is_string()) {
    return LeaseVerdict::kMalformed;
  }
  if (!HolderNamesHost(holder.get<std::string>(), hostname)) {
    return LeaseVerdict::kOtherHolder;
  }
  const json& duration = kube::Field(spec, "leaseDurationSeconds");
  if (!duration.is_number_integer()) {
    return LeaseVerdict::kMalformed;
  }
  const int64_t seconds = duration.get<int64_t>();
  if (seconds < 1 || seconds > kMaxLeaseDurationSeconds) {
    return LeaseVerdict::kMalformed;
  }
  const json& renew = kube::Field(spec, "renewTime");
  if (!renew.is_string()) {
    return LeaseVerdict::kMalformed;
  }
  auto renewed = kube::ParseRfc3339(renew.get<std::string>());
  if (!renewed.ok()) {
    return LeaseVerdict::kMalformed;
  }
  if (*renewed + std::chrono::seconds(seconds) <= now) {
    return LeaseVerdict::kExpired;
  }
  return LeaseVerdict::kLeader;
}

LeaseFollower::LeaseFollower(kube::KubeClient& client, LeaseFollowerOptions options,
                             std::function<void(bool)> on_change, kube::Clock& clock)
    : client_(client),
      options_(std::move(options)),
      on_change_(std::move(on_change)),
      clock_(clock) {}

std::string LeaseFollower::ObservedHolder() const {
  MutexLock lock(&holder_mu_);
  return observed_holder_;
}

void LeaseFollower::Log(const std::string& line) const {
  if (options_.log) {
    options_.log(line);
  } else {
    std::cerr << "lease-follower: " << line << "\n";
  }
}

void LeaseFollower::SetLeader(bool leader) {
  if (leader_.exchange(leader) != leader && on_change_) {
    on_change_(leader);
  }
}

LeaseVerdict LeaseFollower::CheckOnce() {
  MutexLock lock(&check_mu_);
  auto got = client_.Get(kube::kLeases, options_.namespace_name, options_.lease_name);
  std::string error;
  LeaseVerdict verdict;
  if (got.ok()) {
    last_lease_ = std::move(*got);
  } else if (kube::IsNotFound(got.status())) {
    last_lease_.reset();
  } else {
    error = got.status().ToString();
  }
  if (got.ok() || (!error.empty() && last_lease_)) {
    // After an API error the last Lease read is judged again at the current time: it stops
    // naming us once it would have expired, whatever the outage hides.
    verdict = JudgeLease(*last_lease_, options_.hostname, clock_.WallNow());
  } else {
    verdict = error.empty() ? LeaseVerdict::kNotFound : LeaseVerdict::kUnreadable;
  }
  std::string holder =
      last_lease_ ? kube::StringField(kube::Field(*last_lease_, "spec"), "holderIdentity") : "";
  {
    MutexLock hl(&holder_mu_);
    observed_holder_ = holder;
  }
  if (!last_verdict_ || *last_verdict_ != verdict) {
    Log("Lease " + options_.namespace_name + "/" + options_.lease_name + ": " +
        LeaseVerdictName(verdict) + " (holder \"" + holder + "\", this host \"" +
        options_.hostname + "\")" + (error.empty() ? "" : "; read failed: " + error));
    last_verdict_ = verdict;
  }
  SetLeader(verdict == LeaseVerdict::kLeader);
  return verdict;
}

void LeaseFollower::Run() {
  while (!stop_.load()) {
    CheckOnce();
    if (stop_.load()) {
      break;
    }
    clock_.SleepFor(options_.poll_period);
  }
  MutexLock lock(&check_mu_);  // no CheckOnce() may flip it back meanwhile
  SetLeader(false);
}

}  // namespace npushare::scheduler
