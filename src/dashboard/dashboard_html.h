// File: dashboard/dashboard_html.h
//
// The dashboard page (src/dashboard/assets/dashboard.html), embedded at build time: CMake reads
// the file (file(READ)) into a raw string literal of a generated .cc
// (build/src/dashboard/dashboard_html_data.cc), and re-runs configure when the file changes.
// One document, no external assets: inline CSS, inline SVG charts, vanilla JS.
//
//   DashboardHtml()         live mode: the page polls ./api/v1/cluster every 2 s (serve at /ui)
//   ReportHtml(json)        report mode: the same page with the cluster JSON embedded; it renders
//                           once at load and never touches the network
//
// Usage:
//   res.set_content(std::string(DashboardHtml()), "text/html; charset=utf-8");
//   WriteFileAtomically(path, ReportHtml(EmbeddableJson(ClusterJson(s, h, o))), 0644);
//
// Thread safety: pure functions; the returned view points at static storage (valid forever).
#pragma once

#include <string>
#include <string_view>

namespace npushare::dashboard {

// DashboardHtml: the page as built in.
std::string_view DashboardHtml();

// ReportHtml: the page with `embedded_json` in its data element. REQUIRES: embedded_json is
// EmbeddableJson() output (no raw '<'), so it cannot close the <script> element.
std::string ReportHtml(std::string_view embedded_json);

}  // namespace npushare::dashboard
