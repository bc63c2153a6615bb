// File: cli/schedule_command.h
//
// `npushare schedule`: dry-run placement of Pod manifests on described nodes.
// See README.md ("npushare schedule") for the JSON output schema, which is an
// interface others script against: keep it backward compatible.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "cli/dry_run.h"

namespace npushare::cli {

struct ScheduleArgs {
  std::string config_path;
  std::string nodes_path;
  std::string pods_path;
  std::string node_policy = "binpack";   // binpack|spread
  std::string device_policy = "spread";  // binpack|spread|mutex|numa|topology-aware|list
  std::string output = "table";          // table|json
  int64_t now_unix_seconds = -1;         // -1: the current time
};

// RunSchedule: returns the process exit code (0 ok, 1 bad input); errors go to `err`.
int RunSchedule(const ScheduleArgs& args, std::ostream& out, std::ostream& err);

// RenderTable / RenderJson: the two output formats for a list of decisions.
void RenderTable(const std::vector<PodDecision>& decisions, std::ostream& out);
void RenderJson(const std::vector<PodDecision>& decisions, std::ostream& out);

}  // namespace npushare::cli
