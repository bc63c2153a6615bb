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

}  // namespace npushare::dashboard
