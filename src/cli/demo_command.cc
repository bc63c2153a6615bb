#include "cli/demo_command.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <ostream>

namespace npushare::cli {

std::string DemoBinaryPath() {
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) {
    return "";
  }
  return (self.parent_path() / "npushare-demo").string();
}

int RunDemo(const std::vector<std::string>& args, std::ostream& err) {
  std::string path = DemoBinaryPath();
  if (path.empty()) {
    err << "npushare demo: cannot find this program's directory (/proc/self/exe)\n";
    return 127;
  }
  std::vector<std::string> argv_storage = {path};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_storage) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  err.flush();
  ::execv(path.c_str(), argv.data());
  err << "npushare demo: cannot run " << path << ": " << std::strerror(errno)
      << " (build it with the npushare-demo target)\n";
  return 127;
}

}  // namespace npushare::cli
