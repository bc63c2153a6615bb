#include "dashboard/dashboard_html.h"

namespace npushare::dashboard {

// Defined in the generated dashboard_html_data.cc (see CMakeLists.txt).
extern const char kDashboardHtmlData[];
extern const size_t kDashboardHtmlSize;

namespace {
constexpr std::string_view kDataMarker = "/*NPUSHARE_EMBEDDED_DATA*/";
}  // namespace

std::string_view DashboardHtml() {
  return std::string_view(kDashboardHtmlData, kDashboardHtmlSize);
}

std::string ReportHtml(std::string_view embedded_json) {
  const std::string_view page = DashboardHtml();
  const size_t at = page.find(kDataMarker);
  std::string out;
  if (at == std::string_view::npos) {
    return std::string(page);  // unreachable: CMake checks the asset has the marker
  }
  out.reserve(page.size() + embedded_json.size());
  out.append(page.substr(0, at));
  out.append(embedded_json);
  out.append(page.substr(at + kDataMarker.size()));
  return out;
}

}  // namespace npushare::dashboard
