// File: dashboard/http_routes.h
//
// RegisterDashboardRoutes: mounts the dashboard on an existing cpp-httplib server (the
// scheduler's metrics port), read-only:
//
//   GET /ui                 the page (DashboardHtml(); text/html, no external assets)
//   GET /api/v1/cluster     ClusterJson of the latest refresh (application/json);
//                           ?history_points=N (0..max_history_points, default 60) per chip
//   any other method on these paths -> 405 with `Allow: GET, HEAD`
//
// Both answers carry `Cache-Control: no-store` and `X-Content-Type-Options: nosniff`; the page
// carries a Content-Security-Policy allowing only its own inline script/style and
// connect-src 'self'. A JSON body larger than max_response_bytes is retried without history,
// then answered 503 with {"version":..,"error":"response too large"} (bounded memory per
// request). A malformed history_points is 400.
//
// Usage:
//   httplib::Server& server = ...;             // already has /metrics etc.
//   RegisterDashboardRoutes(server, dashboard, {});
//
// Thread safety: handlers run on the server's worker threads; Dashboard is thread-safe.
// REQUIRES: `dashboard` outlives the server's serving.
#pragma once

#include <cstddef>
#include <string>

#include "dashboard/dashboard.h"

namespace httplib {
class Server;
}

namespace npushare::dashboard {

struct DashboardRouteOptions {
  std::string ui_path = "/ui";
  std::string api_path = "/api/v1/cluster";
  // max_response_bytes: see above. Default 32 MiB (1,000 nodes x 8 chips with 60 history
  // points each is ~20 MB).
  size_t max_response_bytes = size_t{32} << 20;
  // max_history_points: upper bound of ?history_points. Default 300 (2 s over 10 min).
  size_t max_history_points = 300;
  size_t default_history_points = 60;
};

// RegisterDashboardRoutes: adds the routes above to `server`. Paths are regex-escaped by the
// caller's choice: use plain paths without regex metacharacters.
void RegisterDashboardRoutes(httplib::Server& server, Dashboard& dashboard,
                             DashboardRouteOptions options = {});

}  // namespace npushare::dashboard
