#include "dashboard/http_routes.h"

#include <httplib.h>

#include <charconv>
#include <optional>

#include "dashboard/dashboard_html.h"

namespace npushare::dashboard {
namespace {

constexpr const char* kPageCsp =
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'";

void CommonHeaders(httplib::Response& res) {
  res.set_header("Cache-Control", "no-store");
  res.set_header("X-Content-Type-Options", "nosniff");
}

void MethodNotAllowed(const httplib::Request&, httplib::Response& res) {
  CommonHeaders(res);
  res.status = 405;
  res.set_header("Allow", "GET, HEAD");
  res.set_content("{\"error\":\"method not allowed: this endpoint is read-only (GET)\"}",
                  "application/json");
}

std::optional<size_t> ParseCount(const std::string& text, size_t max) {
  size_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || v > max) {
    return std::nullopt;
  }
  return v;
}

void RejectOtherMethods(httplib::Server& server, const std::string& path) {
  server.Post(path, MethodNotAllowed);
  server.Put(path, MethodNotAllowed);
  server.Patch(path, MethodNotAllowed);
  server.Delete(path, MethodNotAllowed);
  server.Options(path, MethodNotAllowed);
}

}  // namespace

void RegisterDashboardRoutes(httplib::Server& server, Dashboard& dashboard,
                             DashboardRouteOptions options) {
  server.Get(options.ui_path, [](const httplib::Request&, httplib::Response& res) {
    CommonHeaders(res);
    res.set_header("Content-Security-Policy", kPageCsp);
    res.set_header("X-Frame-Options", "DENY");
    const std::string_view page = DashboardHtml();
    res.set_content(page.data(), page.size(), "text/html; charset=utf-8");
  });
  server.Get(options.api_path,
             [&dashboard, options](const httplib::Request& req, httplib::Response& res) {
               CommonHeaders(res);
               size_t points = options.default_history_points;
               if (req.has_param("history_points")) {
                 std::optional<size_t> n =
                     ParseCount(req.get_param_value("history_points"), options.max_history_points);
                 if (!n.has_value()) {
                   res.status = 400;
                   res.set_content("{\"error\":\"history_points must be a whole number 0.." +
                                       std::to_string(options.max_history_points) + "\"}",
                                   "application/json");
                   return;
                 }
                 points = *n;
               }
               std::string body = EmbeddableJson(dashboard.Json(points));
               if (body.size() > options.max_response_bytes && points > 0) {
                 body = EmbeddableJson(dashboard.Json(0));
               }
               if (body.size() > options.max_response_bytes) {
                 res.status = 503;
                 body = "{\"version\":" + std::to_string(kClusterJsonVersion) +
                        ",\"error\":\"response too large\"}";
               }
               res.set_content(std::move(body), "application/json");
             });
  RejectOtherMethods(server, options.ui_path);
  RejectOtherMethods(server, options.api_path);
}

}  // namespace npushare::dashboard
