#include <cstdint>
#include <limits>
#include <string>

#include "config/internal/decoders.h"

namespace npushare::config::internal {
namespace {

constexpr int64_t kI32Min = std::numeric_limits<int32_t>::min();
constexpr int64_t kI32Max = std::numeric_limits<int32_t>::max();

void DecodeFilter(const YAML::Node& node, const std::string& path, DecodeContext& ctx,
                  NodeConfigEntry* out) {
  MapEntries m;
  if (!ctx.ReadMap(node, path, {"uuid", "index"}, &m))
    return;
  if (auto seq = ctx.Sequence(m, "uuid", path, kMaxFilterEntries)) {
    const std::string upath = Join(path, "uuid");
    for (size_t i = 0; i < seq->size() && i < kMaxFilterEntries; ++i) {
      const std::string field = Index(upath, i);
      ctx.positions().Set(field, ctx.PosOf((*seq)[i]));
      // Keep the slot even when invalid so indexes in diagnostics match the file.
      out->filter_uuids.push_back(ctx.StringValue((*seq)[i], field).value_or(""));
    }
  }
  if (auto seq = ctx.Sequence(m, "index", path, kMaxFilterEntries)) {
    const std::string ipath = Join(path, "index");
    for (size_t i = 0; i < seq->size() && i < kMaxFilterEntries; ++i) {
      const std::string field = Index(ipath, i);
      ctx.positions().Set(field, ctx.PosOf((*seq)[i]));
      auto v = ctx.IntValue((*seq)[i], field, kI32Min, kI32Max);
      out->filter_indexes.push_back(static_cast<int32_t>(v.value_or(0)));
    }
  }
}

void DecodeEntry(const YAML::Node& node, const std::string& path, DecodeContext& ctx,
                 NodeConfigEntry* out) {
  MapEntries m;
  if (!ctx.ReadMap(node, path, {"name", "hami-vnpu-core", "vDeviceCount", "filterDevices"}, &m)) {
    return;
  }
  if (auto v = ctx.String(m, "name", path))
    out->name = *v;
  if (auto v = ctx.Bool(m, "hami-vnpu-core", path))
    out->hami_vnpu_core = *v;
  if (auto v = ctx.Int(m, "vDeviceCount", path, kI32Min, kI32Max)) {
    out->vdevice_count = static_cast<int32_t>(*v);
  }
  if (const YAML::Node* f = m.Find("filterDevices")) {
    DecodeFilter(*f, Join(path, "filterDevices"), ctx, out);
  }
}

}  // namespace

void DecodeNodeConfig(const YAML::Node& root, DecodeContext& ctx, NodeConfig* out) {
  MapEntries top;
  if (!ctx.ReadMap(root, "", {"nodes"}, &top))
    return;
  // `nodes:` with no entries is a valid, empty config.
  if (auto seq = ctx.Sequence(top, "nodes", "", kMaxNodes)) {
    for (size_t i = 0; i < seq->size() && i < kMaxNodes; ++i) {
      NodeConfigEntry entry;
      DecodeEntry((*seq)[i], Index("nodes", i), ctx, &entry);
      out->nodes.push_back(std::move(entry));
    }
  }
}

}  // namespace npushare::config::internal
