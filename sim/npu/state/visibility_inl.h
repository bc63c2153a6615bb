// Internal: template body of ResolveVisibleDevices. Include state/visibility.h instead.
#pragma once

namespace npushare::sim {

template <typename VnpuLookup>
Result<std::vector<VisibleDevice>> ResolveVisibleDevices(uint32_t chip_count, bool apply_rt_visible,
                                                         VnpuLookup vnpu_chip) {
  std::vector<VisibleDevice> out;
  bool set = false;
  std::string visible = GetEnv("ASCEND_VISIBLE_DEVICES", &set);
  bool opts_set = false;
  bool is_virtual =
      GetEnv("ASCEND_RUNTIME_OPTIONS", &opts_set).find("VIRTUAL") != std::string::npos;
  if (!set) {
    for (uint32_t c = 0; c < chip_count; ++c) {
      out.push_back({c, 0});
    }
  } else {
    NPUSHARE_ASSIGN_OR_RETURN(std::vector<uint32_t> ids, ParseDeviceList(visible));
    for (uint32_t id : ids) {
      if (is_virtual) {
        uint32_t chip = 0;
        if (vnpu_chip(id, &chip)) {
          out.push_back({chip, id});
        }
      } else if (id < chip_count) {
        out.push_back({id, 0});
      }
    }
  }
  if (apply_rt_visible) {
    bool rt_set = false;
    std::string rt = GetEnv("ASCEND_RT_VISIBLE_DEVICES", &rt_set);
    if (rt_set) {
      NPUSHARE_ASSIGN_OR_RETURN(std::vector<uint32_t> idx, ParseDeviceList(rt));
      std::vector<VisibleDevice> picked;
      for (uint32_t i : idx) {
        if (i < out.size()) {
          picked.push_back(out[i]);
        }
      }
      out = std::move(picked);
    }
  }
  return out;
}

}  // namespace npushare::sim
