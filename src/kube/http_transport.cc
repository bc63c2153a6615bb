#include "kube/http_transport.h"

#include <strings.h>

namespace npushare::kube {

std::string HttpResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) {
      return v;
    }
  }
  return "";
}

void StreamCancel::Cancel() {
  cancelled_.store(true);
  MutexLock lock(&mu_);
  if (waker_) {
    waker_();
  }
}

void StreamCancel::SetWaker(std::function<void()> waker) {
  MutexLock lock(&mu_);
  waker_ = std::move(waker);
}

}  // namespace npushare::kube
