#include "common/file_reader.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

namespace npushare {

Result<std::string> ReadFileLimited(const std::string& path, size_t max_bytes) {
  std::error_code ec;
  auto st = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(st)) {
    return NotFoundError(path + ": no such file");
  }
  if (!std::filesystem::is_regular_file(st)) {
    return InvalidArgumentError(path + ": not a regular file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return PermissionDeniedError(path + ": cannot open: " + std::strerror(errno));
  }
  std::string data(max_bytes + 1, '\0');
  in.read(data.data(), static_cast<std::streamsize>(max_bytes + 1));
  const auto n = static_cast<size_t>(in.gcount());
  if (n > max_bytes) {
    return OutOfRangeError(path + ": larger than " + std::to_string(max_bytes) + " bytes");
  }
  data.resize(n);
  return data;
}

}  // namespace npushare
