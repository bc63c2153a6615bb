#include "scheduler/http/scheduler_http_server.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "scheduler/http/extender_wire.h"
#include "scheduler/http/http_metrics.h"
#include "scheduler/http/serving_certificate.h"

namespace npushare::scheduler::http {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr size_t kMaxJsonDepth = 64;
constexpr char kJson[] = "application/json";

enum class BodyKind { kFilter, kBind, kWebhook };

// Route: one row of the endpoint table (served by /help).
struct RouteRow {
  const char* method;
  std::string path;
  const char* help;
  bool changes_state;
};

// JsonNestingDepth: deepest [ / { nesting outside strings; cheap pre-check so neither the
// parser nor json::diff recurses deeply on hostile input.
size_t JsonNestingDepth(std::string_view text) {
  size_t depth = 0;
  size_t max_depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max_depth = std::max(max_depth, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return max_depth;
}

// ParseErrorSax: a SAX consumer that only records the parser's error text.
struct ParseErrorSax : nlohmann::json_sax<json> {
  std::string error;
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    error = ex.what();
    return false;
  }
};

// CheckNesting: kInvalidArgument when `body` nests deeper than kMaxJsonDepth.
Status CheckNesting(const std::string& body) {
  if (JsonNestingDepth(body) > kMaxJsonDepth) {
    return InvalidArgumentError("request body nests deeper than " + std::to_string(kMaxJsonDepth) +
                                " levels");
  }
  return OkStatus();
}

// ParseBody: `body` as JSON (nesting already checked), or kInvalidArgument with the parser's
// message.
Result<json> ParseBody(const std::string& body) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    ParseErrorSax sax;
    json::sax_parse(body, &sax, nlohmann::detail::input_format_t::json, /*strict=*/true,
                    /*ignore_comments=*/false);
    return InvalidArgumentError("request body is not valid JSON" +
                                (sax.error.empty() ? std::string() : ": " + sax.error));
  }
  return j;
}

// IsJsonContentType: "application/json" with optional parameters (charset), any case.
bool IsJsonContentType(std::string value) {
  std::transform(value.begin(), value.end(), value.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const size_t semi = value.find(';');
  std::string media = value.substr(0, semi);
  while (!media.empty() && std::isspace(static_cast<unsigned char>(media.back()))) {
    media.pop_back();
  }
  return media == kJson;
}

std::string Dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

json StatusBody(int code, const std::string& message) {
  const char* reason = code == 413   ? "RequestEntityTooLarge"
                       : code == 415 ? "UnsupportedMediaType"
                       : code == 404 ? "NotFound"
                       : code == 405 ? "MethodNotAllowed"
                       : code >= 500 ? "InternalError"
                                     : "BadRequest";
  return json{{"kind", "Status"},   {"apiVersion", "v1"}, {"status", "Failure"},
              {"message", message}, {"reason", reason},   {"code", code}};
}

// ErrorBody: what a failed request on `kind` gets: still the route's result type.
std::string ErrorBody(BodyKind kind, int code, const std::string& message) {
  switch (kind) {
    case BodyKind::kFilter:
      return Dump(FilterErrorResult(message));
    case BodyKind::kBind:
      return Dump(BindErrorResult(message));
    case BodyKind::kWebhook:
    default:
      return Dump(StatusBody(code, message));
  }
}

void ReplyError(httplib::Response& res, BodyKind kind, int code, const std::string& message) {
  res.status = code;
  res.set_content(ErrorBody(kind, code, message), kJson);
}

}  // namespace

Result<BindAddress> ParseBindAddress(const std::string& text) {
  BindAddress out;
  std::string port_text;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return InvalidArgumentError("bind address \"" + text + "\" must be [v6-address]:port");
    }
    out.host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string::npos) {
      return InvalidArgumentError("bind address \"" + text + "\" must be host:port or :port");
    }
    out.host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (out.host.find(':') != std::string::npos) {
      return InvalidArgumentError("bind address \"" + text +
                                  "\": write an IPv6 address as [addr]:port");
    }
  }
  if (out.host.empty()) {
    out.host = "0.0.0.0";
  }
  int port = -1;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || ptr != port_text.data() + port_text.size() ||
      port < 0 || port > 65535) {
    return InvalidArgumentError("bind address \"" + text + "\" has no valid port (0-65535)");
  }
  out.port = port;
  return out;
}

SchedulerHttpServer::SchedulerHttpServer(SchedulerHttpOptions options, ExtenderService& service,
                                         const AdmissionWebhook& webhook, MetricsSource metrics)
    : options_(std::move(options)),
      service_(service),
      webhook_(webhook),
      metrics_source_(std::move(metrics)),
      metrics_(std::make_unique<HttpMetrics>()) {}

SchedulerHttpServer::~SchedulerHttpServer() {
  Stop();
}

std::string SchedulerHttpServer::MetricsText() const {
  PrometheusText text;
  metrics_->Render(text);
  if (metrics_source_) {
    text.Append(metrics_source_());
  }
  return text.Take();
}

void SchedulerHttpServer::RegisterRoutes(httplib::Server& server, bool metrics_only) {
  std::vector<RouteRow> rows;
  if (!metrics_only) {
    rows.push_back(
        {"POST", "/filter", "scheduler extender filter (ExtenderArgs, nodeCacheCapable)", true});
    rows.push_back({"POST", "/bind", "scheduler extender bind (ExtenderBindingArgs)", true});
    for (const auto& p : options_.webhook_paths) {
      rows.push_back({"POST", p, "mutating admission webhook (AdmissionReview v1/v1beta1)", false});
    }
    rows.push_back({"GET", "/readyz", "200 when the caches are synced, else 503", false});
  }
  rows.push_back({"GET", "/healthz", "200 while the process serves", false});
  rows.push_back({"GET", "/metrics", "Prometheus text exposition", false});
  rows.push_back({"GET", "/help", "this table", false});
  if (metrics_only) {
    for (const auto& r : options_.metrics_extra_routes) {
      rows.push_back({"GET", r.path, r.help.c_str(), false});
    }
    if (options_.register_metrics_routes) {
      options_.register_metrics_routes(server);
    }
  }

  std::string help = "method  path                 changes-state  description\n";
  for (const auto& r : rows) {
    char line[256];
    std::snprintf(line, sizeof line, "%-7s %-20s %-14s %s\n", r.method, r.path.c_str(),
                  r.changes_state ? "yes" : "no", r.help);
    help += line;
  }

  // Every handler runs through `guarded`: latency observed, no exception escapes.
  auto guarded = [this](std::string route, BodyKind kind, auto fn) {
    return [this, route, kind, fn](const httplib::Request& req, httplib::Response& res) {
      const auto start = Clock::now();
      try {
        fn(req, res);
      } catch (const std::exception& e) {
        spdlog::error("{} {}: internal error: {}", req.method, route, e.what());
        ReplyError(res, kind, 500, std::string("internal error: ") + e.what());
      } catch (...) {
        ReplyError(res, kind, 500, "internal error");
      }
      metrics_->ObserveLatency(route, std::chrono::duration<double>(Clock::now() - start).count());
    };
  };

  // POST handlers share the content-type and nesting checks; `handle` gets the raw body
  // (post_text) or the parsed one (post).
  auto post_text = [this, guarded, &server](const std::string& path, BodyKind kind, auto handle) {
    server.Post(path, guarded(path, kind,
                              [kind, handle](const httplib::Request& req, httplib::Response& res) {
                                if (!IsJsonContentType(req.get_header_value("Content-Type"))) {
                                  ReplyError(res, kind, 415,
                                             "Content-Type must be application/json, got \"" +
                                                 req.get_header_value("Content-Type") + "\"");
                                  return;
                                }
                                if (Status s = CheckNesting(req.body); !s.ok()) {
                                  ReplyError(res, kind, 400, s.message());
                                  return;
                                }
                                handle(req, res);
                              }));
    server.Get(path, [path, kind](const httplib::Request&, httplib::Response& res) {
      res.set_header("Allow", "POST");
      ReplyError(res, kind, 405, path + " accepts POST only");
    });
  };
  auto post = [post_text](const std::string& path, BodyKind kind, auto handle) {
    post_text(path, kind, [kind, handle](const httplib::Request& req, httplib::Response& res) {
      auto body = ParseBody(req.body);
      if (!body.ok()) {
        ReplyError(res, kind, 400, body.status().message());
        return;
      }
      handle(*body, req, res);
    });
  };

  if (!metrics_only) {
    // /filter reads its body in one SAX pass (extender_wire.h ParseExtenderArgs): the node
    // names never become a JSON tree.
    post_text(
        "/filter", BodyKind::kFilter, [this](const httplib::Request& req, httplib::Response& res) {
          auto args = ParseExtenderArgs(req.body);
          if (!args.ok()) {
            ReplyError(res, BodyKind::kFilter, 400, args.status().message());
            return;
          }
          auto result = service_.FilterSplit(std::move(*args));
          if (!result.ok()) {
            const bool bad_input = result.status().code() == StatusCode::kInvalidArgument;
            ReplyError(res, BodyKind::kFilter, bad_input ? 400 : 200, result.status().message());
            return;
          }
          res.set_content(Dump(FilterResultWire(std::move(*result))), kJson);
        });
    post("/bind", BodyKind::kBind,
         [this](json& body, const httplib::Request&, httplib::Response& res) {
           auto args = CanonicalBindingArgs(body);
           if (!args.ok()) {
             ReplyError(res, BodyKind::kBind, 400, args.status().message());
             return;
           }
           auto result = service_.Bind(*args);
           if (!result.ok()) {
             const bool bad_input = result.status().code() == StatusCode::kInvalidArgument;
             ReplyError(res, BodyKind::kBind, bad_input ? 400 : 200, result.status().message());
             return;
           }
           json wire = BindResultWire(*result);
           if (!wire["Error"].get_ref<const std::string&>().empty()) {
             spdlog::warn("bind {}/{} to {}: {}", (*args)["PodNamespace"].get<std::string>(),
                          (*args)["PodName"].get<std::string>(), (*args)["Node"].get<std::string>(),
                          wire["Error"].get<std::string>());
           }
           res.set_content(Dump(wire), kJson);
         });
    for (const auto& path : options_.webhook_paths) {
      post(path, BodyKind::kWebhook,
           [this](json& body, const httplib::Request&, httplib::Response& res) {
             auto verdict = webhook_.Review(body);
             if (!verdict.ok()) {
               metrics_->CountAdmission("malformed");
               ReplyError(res, BodyKind::kWebhook, 400, verdict.status().message());
               return;
             }
             metrics_->CountAdmission(AdmissionDecisionName(verdict->decision));
             if (verdict->decision == AdmissionDecision::kDenied ||
                 verdict->decision == AdmissionDecision::kErrored) {
               const json& r = verdict->review["response"];
               spdlog::info("admission {}: {}", AdmissionDecisionName(verdict->decision),
                            verdict->message + " (uid " + r["uid"].get<std::string>() + ")");
             }
             res.set_content(Dump(verdict->review), kJson);
           });
    }
    server.Get("/readyz", guarded("/readyz", BodyKind::kWebhook,
                                  [this](const httplib::Request&, httplib::Response& res) {
                                    if (service_.Ready()) {
                                      res.set_content("ok\n", "text/plain");
                                    } else {
                                      res.status = 503;
                                      res.set_content("caches not synced\n", "text/plain");
                                    }
                                  }));
  }
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  server.Get("/metrics", guarded("/metrics", BodyKind::kWebhook,
                                 [this](const httplib::Request&, httplib::Response& res) {
                                   res.set_content(MetricsText(),
                                                   "text/plain; version=0.0.4; charset=utf-8");
                                 }));
  server.Get("/help", [help](const httplib::Request&, httplib::Response& res) {
    res.set_content(help, "text/plain");
  });

  // Known routes label the request counter; anything else is "other".
  std::vector<std::string> known;
  for (const auto& r : rows) {
    known.push_back(r.path);
  }
  server.set_logger([this, known](const httplib::Request& req, const httplib::Response& res) {
    const bool is_known = std::find(known.begin(), known.end(), req.path) != known.end();
    metrics_->CountRequest(is_known ? req.path : "other", res.status);
    spdlog::debug("{} {} {} ({} bytes in, {} out)", req.method, req.path, res.status,
                  req.body.size(), res.body.size());
  });
  // Errors httplib answers itself (413 body too large, 404) get a body of the route's type.
  server.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request& req,
                                                                       httplib::Response& res) {
    if (!res.body.empty()) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    BodyKind kind = BodyKind::kWebhook;
    if (req.path == "/filter") {
      kind = BodyKind::kFilter;
    } else if (req.path == "/bind") {
      kind = BodyKind::kBind;
    }
    std::string message = "HTTP " + std::to_string(res.status);
    if (res.status == 413) {
      message = "request body larger than " + std::to_string(options_.max_body_bytes) + " bytes";
    } else if (res.status == 404) {
      message = "no route " + req.path + " (GET /help lists them)";
    }
    res.set_content(ErrorBody(kind, res.status, message), kJson);
    return httplib::Server::HandlerResponse::Handled;
  }));
  server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        res.status = 500;
        res.set_content(Dump(StatusBody(500, "internal error")), kJson);
      });
}

Status SchedulerHttpServer::Start() {
  if (started_) {
    return FailedPreconditionError("SchedulerHttpServer already started");
  }
  started_ = true;
  NPUSHARE_ASSIGN_OR_RETURN(BindAddress main_addr, ParseBindAddress(options_.bind_address));
  BindAddress metrics_addr;
  if (!options_.metrics_bind_address.empty()) {
    NPUSHARE_ASSIGN_OR_RETURN(metrics_addr, ParseBindAddress(options_.metrics_bind_address));
  }
  if (options_.cert_file.empty() != options_.key_file.empty()) {
    return InvalidArgumentError("--cert_file and --key_file must be given together");
  }
  if (!options_.cert_file.empty()) {
    NPUSHARE_ASSIGN_OR_RETURN(certificate_,
                              ServingCertificate::Load(options_.cert_file, options_.key_file));
    metrics_->SetCertificateGeneration(certificate_->Generation());
    ServingCertificate* cert = certificate_.get();
    server_ =
        std::make_unique<httplib::SSLServer>([cert](SSL_CTX& ctx) { return cert->Install(&ctx); });
    if (!server_->is_valid()) {
      return InternalError("cannot create the TLS server context");
    }
  } else {
    server_ = std::make_unique<httplib::Server>();
  }

  auto configure = [this](httplib::Server& s) {
    const size_t threads = static_cast<size_t>(std::max(1, options_.worker_threads));
    // httplib owns and deletes the queue it gets from this factory.
    s.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    s.set_payload_max_length(options_.max_body_bytes);
    s.set_keep_alive_max_count(static_cast<size_t>(std::max(1, options_.keep_alive_max_requests)));
    s.set_read_timeout(options_.read_timeout);
    s.set_write_timeout(options_.write_timeout);
    s.set_tcp_nodelay(true);
    // httplib's default also sets SO_REUSEPORT, which would let a second process share the
    // port silently (each getting half the connections); keep only SO_REUSEADDR.
    s.set_socket_options([](socket_t sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
  };
  configure(*server_);
  RegisterRoutes(*server_, /*metrics_only=*/false);

  auto bind = [](httplib::Server& s, const BindAddress& a, const std::string& text) -> Result<int> {
    if (a.port == 0) {
      const int port = s.bind_to_any_port(a.host);
      if (port <= 0) {
        return UnavailableError("cannot bind " + text);
      }
      return port;
    }
    if (!s.bind_to_port(a.host, a.port)) {
      return UnavailableError("cannot bind " + text + " (address in use or not local?)");
    }
    return a.port;
  };
  NPUSHARE_ASSIGN_OR_RETURN(port_, bind(*server_, main_addr, options_.bind_address));
  if (!options_.metrics_bind_address.empty()) {
    metrics_server_ = std::make_unique<httplib::Server>();
    configure(*metrics_server_);
    RegisterRoutes(*metrics_server_, /*metrics_only=*/true);
    auto mp = bind(*metrics_server_, metrics_addr, options_.metrics_bind_address);
    if (!mp.ok()) {
      server_->stop();
      return mp.status();
    }
    metrics_port_ = *mp;
  }

  serve_thread_ = std::thread([this] { server_->listen_after_bind(); });
  if (metrics_server_) {
    metrics_thread_ = std::thread([this] { metrics_server_->listen_after_bind(); });
  }
  // httplib's stop() is a no-op until the accept loop runs, so Stop() right after Start()
  // would hang the join: wait (bounded) for both loops to be up.
  for (int i = 0;
       i < 5000 && !(server_->is_running() && (!metrics_server_ || metrics_server_->is_running()));
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (certificate_) {
    poll_thread_ = std::thread([this] { PollCertificates(); });
  }
  spdlog::info("serving {} on {} (port {}){}", certificate_ ? "HTTPS" : "HTTP",
               options_.bind_address, port_,
               metrics_server_ ? ", metrics on " + options_.metrics_bind_address + " (port " +
                                     std::to_string(metrics_port_) + ")"
                               : std::string());
  return OkStatus();
}

Result<bool> SchedulerHttpServer::ReloadCertificate() {
  if (!certificate_) {
    return false;
  }
  auto changed = certificate_->ReloadIfChanged();
  if (!changed.ok()) {
    metrics_->CountCertificateReload(false);
    spdlog::error("serving certificate changed but the new pair is unusable, keeping {}: {}",
                  certificate_->Describe(), changed.status().message());
    return changed.status();
  }
  if (*changed) {
    metrics_->CountCertificateReload(true);
    metrics_->SetCertificateGeneration(certificate_->Generation());
    spdlog::info("serving certificate reloaded: {}", certificate_->Describe());
  }
  return *changed;
}

void SchedulerHttpServer::PollCertificates() {
  MutexLock lock(&poll_mu_);
  while (!stopping_) {
    poll_cv_.WaitFor(&poll_mu_, options_.cert_poll_period,
                     [this]() NPUSHARE_REQUIRES(poll_mu_) { return stopping_; });
    if (stopping_) {
      break;
    }
    lock.Unlock();
    ReloadCertificate().status().IgnoreError();  // logged and counted inside
    lock.Lock();
  }
}

void SchedulerHttpServer::Stop() {
  {
    MutexLock lock(&poll_mu_);
    stopping_ = true;
  }
  poll_cv_.NotifyAll();
  if (poll_thread_.joinable()) {
    poll_thread_.join();
  }
  if (server_) {
    server_->stop();
  }
  if (metrics_server_) {
    metrics_server_->stop();
  }
  if (serve_thread_.joinable()) {
    serve_thread_.join();
  }
  if (metrics_thread_.joinable()) {
    metrics_thread_.join();
  }
}

}  // namespace npushare::scheduler::http
