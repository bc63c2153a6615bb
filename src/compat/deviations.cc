#include "compat/deviations.h"

namespace npushare::compat {

Result<DeviationTable> ParseDeviations(std::string_view markdown) {
  DeviationTable table;
  bool in_block = false;
  int line_no = 0;
  size_t pos = 0;
  while (pos <= markdown.size()) {
    size_t end = markdown.find('\n', pos);
    if (end == std::string_view::npos) {
      end = markdown.size();
    }
    std::string_view line = markdown.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (!in_block) {
      in_block = line == "```compat-deviation";
      continue;
    }
    if (line.substr(0, 3) == "```") {
      in_block = false;
      continue;
    }
    if (line.find_first_not_of(" \t") == std::string_view::npos) {
      continue;
    }
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("id") || !j["id"].is_string() || !j.contains("expected") ||
        !j["expected"].is_object()) {
      return InvalidArgumentError("line " + std::to_string(line_no) +
                                  ": expected {\"id\": ..., \"expected\": {...}}");
    }
    std::string id = j["id"].get<std::string>();
    if (!table.emplace(id, j["expected"]).second) {
      return InvalidArgumentError("line " + std::to_string(line_no) + ": duplicate id " + id);
    }
  }
  return table;
}

}  // namespace npushare::compat
