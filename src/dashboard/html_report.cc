#include "dashboard/html_report.h"

#include "common/atomic_file.h"
#include "dashboard/cluster_json.h"
#include "dashboard/dashboard_html.h"

namespace npushare::dashboard {

std::string HtmlReport(const History& history, const ClusterSnapshot& final_snapshot) {
  ClusterJsonOptions o;
  o.history_points = history.Capacity();
  return ReportHtml(EmbeddableJson(ClusterJson(final_snapshot, history, o)));
}

Status WriteHtmlReport(const std::string& path, const History& history,
                       const ClusterSnapshot& final_snapshot) {
  return WriteFileAtomically(path, HtmlReport(history, final_snapshot), 0644)
      .WithContext("while writing the dashboard report");
}

Result<std::string> HtmlReportFromJson(std::string_view cluster_json) {
  constexpr size_t kMaxJsonBytes = size_t{64} << 20;
  if (cluster_json.size() > kMaxJsonBytes) {
    return InvalidArgumentError("cluster JSON larger than 64 MiB");
  }
  nlohmann::json parsed = nlohmann::json::parse(cluster_json, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return InvalidArgumentError("cluster JSON is not a JSON object");
  }
  auto version = parsed.find("version");
  if (version == parsed.end() || !version->is_number()) {
    return InvalidArgumentError("cluster JSON has no numeric `version` (not /api/v1/cluster?)");
  }
  return ReportHtml(EmbeddableJson(parsed));
}

Status WriteHtmlReportFromJson(const std::string& path, std::string_view cluster_json) {
  NPUSHARE_ASSIGN_OR_RETURN(std::string html, HtmlReportFromJson(cluster_json));
  return WriteFileAtomically(path, html, 0644).WithContext("while writing the dashboard report");
}

}  // namespace npushare::dashboard
