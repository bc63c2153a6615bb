#include "deviceplugin/daemon/ops_http_server.h"

#include <httplib.h>

namespace npushare::deviceplugin::daemon {

class OpsHttpServer::Impl {
 public:
  explicit Impl(std::vector<HttpEndpoint> endpoints) : endpoints_(std::move(endpoints)) {
    endpoints_.push_back({"/help", "this list", false, [this] { return Help(); }});
    for (const HttpEndpoint& e : endpoints_) {
      auto handler = e.handler;
      server_.Get(e.path, [handler](const httplib::Request&, httplib::Response& res) {
        HttpReply reply = handler();
        res.status = reply.status;
        res.set_content(reply.body, reply.content_type);
      });
    }
  }

  Result<int> Start(const std::string& host, int port) {
    int bound = port;
    if (port == 0) {
      bound = server_.bind_to_any_port(host);
    } else if (!server_.bind_to_port(host, port)) {
      bound = -1;
    }
    if (bound <= 0) {
      return UnavailableError("cannot listen on " + host + ":" + std::to_string(port));
    }
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    return bound;
  }

  void Stop() {
    if (thread_.joinable()) {
      server_.stop();
      thread_.join();
    }
  }

 private:
  HttpReply Help() const {
    HttpReply r;
    for (const HttpEndpoint& e : endpoints_) {
      r.body += e.path + (e.changes_state ? " (changes state)" : "") + "\t" + e.help + "\n";
    }
    return r;
  }

  std::vector<HttpEndpoint> endpoints_;
  httplib::Server server_;
  std::thread thread_;
};

OpsHttpServer::OpsHttpServer(std::vector<HttpEndpoint> endpoints)
    : impl_(std::make_unique<Impl>(std::move(endpoints))) {}
OpsHttpServer::~OpsHttpServer() {
  impl_->Stop();
}
Result<int> OpsHttpServer::Start(const std::string& host, int port) {
  return impl_->Start(host, port);
}
void OpsHttpServer::Stop() {
  impl_->Stop();
}

}  // namespace npushare::deviceplugin::daemon
