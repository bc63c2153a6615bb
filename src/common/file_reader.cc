#include "common/file_reader.h"

#include <algorithm>
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
  // Read in chunks up to one byte past the limit: the limit is a ceiling (callers pass tens
  // of MiB), so allocating and zeroing it up front would cost that much for every small file.
  constexpr size_t kChunk = size_t{64} << 10;
  std::string data;
  while (in && data.size() <= max_bytes) {
    const size_t have = data.size();
    const size_t want = std::min(kChunk, max_bytes + 1 - have);
    data.resize(have + want);
    in.read(data.data() + have, static_cast<std::streamsize>(want));
    data.resize(have + static_cast<size_t>(in.gcount()));
  }
  if (data.size() > max_bytes) {
    return OutOfRangeError(path + ": larger than " + std::to_string(max_bytes) + " bytes");
  }
  return data;
}

}  // namespace npushare
