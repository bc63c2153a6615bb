#include "sim/kube/pod_logs.h"

#include <arpa/inet.h>
#include <curl/curl.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "kube/objects.h"

namespace npushare::kube_local {
namespace {

using nlohmann::json;

bool IsIpLiteral(const std::string& s) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

bool IsNonNegativeInt(const std::string& s) {
  if (s.empty() || s.size() > 18) {
    return false;
  }
  for (char c : s) {
    if (c < '0' || c > '9') {
      return false;
    }
  }
  return true;
}

bool IsBool(const std::string& s) {
  return s == "true" || s == "false" || s == "1" || s == "0";
}

std::string Param(const std::multimap<std::string, std::string>& q, const std::string& key) {
  auto it = q.find(key);
  return it == q.end() ? "" : it->second;
}

std::vector<std::string> ContainerNames(const json& spec, const char* field) {
  std::vector<std::string> out;
  const json& list = kube::Field(spec, field);
  if (list.is_array()) {
    for (const auto& c : list) {
      std::string n = kube::StringField(c, "name");
      if (!n.empty()) {
        out.push_back(n);
      }
    }
  }
  return out;
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    out += (out.empty() ? "" : " ") + n;
  }
  return "[" + out + "]";
}

struct CurlFree {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};

struct Transfer {
  const std::function<bool(const char*, size_t)>* write;
  const std::atomic<bool>* stop;
  bool client_gone = false;
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  if (!(*t->write)(data, size * n)) {
    t->client_gone = true;
    return 0;  // aborts the transfer
  }
  return size * n;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  return t->stop->load() ? 1 : 0;
}

}  // namespace

Result<PodLogTarget> ResolvePodLogs(const ObjectStore& store, const std::string& ns,
                                    const std::string& pod,
                                    const std::multimap<std::string, std::string>& query) {
  ObjectPtr obj = store.Get("pods", ns + "/" + pod);
  if (!obj) {
    return NotFoundError("pods \"" + pod + "\" not found");
  }
  const json& spec = kube::Field(*obj, "spec");
  std::vector<std::string> containers = ContainerNames(spec, "containers");
  std::vector<std::string> inits = ContainerNames(spec, "initContainers");
  std::string container = Param(query, "container");
  if (container.empty()) {
    if (containers.size() != 1) {
      return InvalidArgumentError("a container name must be specified for pod " + pod +
                                  ", choose one of: " + JoinNames(containers));
    }
    container = containers.front();
  } else {
    bool known = false;
    for (const auto* list : {&containers, &inits}) {
      for (const auto& n : *list) {
        known = known || n == container;
      }
    }
    if (!known) {
      return InvalidArgumentError("container " + container + " is not valid for pod " + pod);
    }
  }
  std::string out_query;
  auto add = [&](const std::string& k, const std::string& v) {
    out_query += (out_query.empty() ? "?" : "&") + k + "=" + v;
  };
  PodLogTarget target;
  for (const char* key : {"follow", "previous", "timestamps"}) {
    std::string v = Param(query, key);
    if (v.empty()) {
      continue;
    }
    if (!IsBool(v)) {
      return InvalidArgumentError(std::string("invalid ") + key + " value " + v);
    }
    bool on = v == "true" || v == "1";
    if (on) {
      add(key, "true");
    }
    if (std::string(key) == "follow") {
      target.follow = on;
    }
  }
  for (const char* key : {"tailLines", "sinceSeconds", "limitBytes"}) {
    std::string v = Param(query, key);
    if (v.empty()) {
      continue;
    }
    if (!IsNonNegativeInt(v)) {
      return InvalidArgumentError(std::string("invalid ") + key + " value " + v);
    }
    add(key, v);
  }
  std::string node_name = kube::StringField(spec, "nodeName");
  if (node_name.empty()) {
    return target;  // not scheduled yet: no logs (an empty answer, as kube-apiserver)
  }
  ObjectPtr node = store.Get("nodes", node_name);
  if (!node) {
    return NotFoundError("nodes \"" + node_name + "\" not found");
  }
  const json& status = kube::Field(*node, "status");
  std::string ip;
  const json& addresses = kube::Field(status, "addresses");
  if (addresses.is_array()) {
    for (const auto& a : addresses) {
      if (kube::StringField(a, "type") == "InternalIP" && ip.empty()) {
        ip = kube::StringField(a, "address");
      }
    }
  }
  int64_t port = kube::IntField(
      kube::Field(kube::Field(status, "daemonEndpoints"), "kubeletEndpoint"), "Port", 0);
  if (!IsIpLiteral(ip) || port <= 0 || port > 65535) {
    return InternalError("node " + node_name +
                         " has no usable InternalIP address and kubelet endpoint port");
  }
  std::string host = ip.find(':') != std::string::npos ? "[" + ip + "]" : ip;
  target.url = "http://" + host + ":" + std::to_string(port) + "/containerLogs/" + ns + "/" + pod +
               "/" + container + out_query;
  return target;
}

Result<int> StreamKubeletLogs(const std::string& url, bool follow,
                              const std::function<bool(const char*, size_t)>& write,
                              const std::atomic<bool>& stop) {
  std::unique_ptr<CURL, CurlFree> curl(curl_easy_init());
  if (!curl) {
    return InternalError("curl_easy_init failed");
  }
  Transfer t{&write, &stop};
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  if (!follow) {
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
  }
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, OnProgress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
  CURLcode rc = curl_easy_perform(c);
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  if (rc != CURLE_OK && code == 0) {
    return UnavailableError(std::string("cannot reach the kubelet at ") + url + ": " +
                            curl_easy_strerror(rc));
  }
  return static_cast<int>(code);  // an aborted stream (client gone, stop) still had a status
}

}  // namespace npushare::kube_local
