#include "hami/pod_devices.h"

#include <vector>

#include "hami/go_text.h"

namespace npushare::hami {
namespace {

// Split: pieces between `sep`, keeping empty ones (Go's strings.Split semantics:
// "" -> {""}). Stops after `max_pieces + 1` pieces so a hostile input cannot make us
// allocate more than the caller is willing to accept.
std::vector<std::string_view> Split(std::string_view s, char sep, size_t max_pieces) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (out.size() <= max_pieces) {
    const size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      break;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
  return out;
}

}  // namespace

std::string EncodeContainerDevices(const ContainerDevices& devices) {
  std::string out;
  for (const ContainerDevice& d : devices) {
    out += d.uuid;
    out += ',';
    out += d.type;
    out += ',';
    out += std::to_string(d.usedmem);
    out += ',';
    out += std::to_string(d.usedcores);
    out += ':';
  }
  return out;
}

std::string EncodePodDevices(const PodDevices& pod) {
  std::string out;
  for (const ContainerDevices& c : pod) {
    out += EncodeContainerDevices(c);
    out += ';';
  }
  return out;
}

Result<ContainerDevices> DecodeContainerDevices(std::string_view piece) {
  ContainerDevices out;
  // Walk the ':'-pieces without materialising them: junk pieces (no comma) are
  // skipped upstream, so their number is only bounded by the text size.
  size_t start = 0;
  while (start <= piece.size()) {
    size_t end = piece.find(':', start);
    if (end == std::string_view::npos) {
      end = piece.size();
    }
    const std::string_view dev = piece.substr(start, end - start);
    start = end + 1;
    if (dev.find(',') == std::string_view::npos) {
      continue;
    }
    if (out.size() >= kMaxDevicesPerContainer) {
      return InvalidArgumentError("pod annotation has more than " +
                                  std::to_string(kMaxDevicesPerContainer) +
                                  " devices in one container");
    }
    const std::vector<std::string_view> f = Split(dev, ',', 4);
    if (f.size() < 4) {
      return InvalidArgumentError(
          "pod annotation format error, missing fields, do not use nodeName in task spec");
    }
    const std::optional<int64_t> mem = ParseGoInt(f[2], 32);
    if (!mem) {
      return InvalidArgumentError("invalid memory field");
    }
    const std::optional<int64_t> cores = ParseGoInt(f[3], 32);
    if (!cores) {
      return InvalidArgumentError("invalid core field");
    }
    out.push_back(ContainerDevice{std::string(f[0]), std::string(f[1]), static_cast<int32_t>(*mem),
                                  static_cast<int32_t>(*cores)});
  }
  return out;
}

Result<PodDevices> DecodePodDevices(std::string_view text) {
  if (text.size() > kMaxPodDevicesTextBytes) {
    return InvalidArgumentError("pod annotation of " + std::to_string(text.size()) +
                                " bytes exceeds the limit of " +
                                std::to_string(kMaxPodDevicesTextBytes));
  }
  const std::vector<std::string_view> pieces = Split(text, ';', kMaxPodDevicesContainers);
  if (pieces.size() > kMaxPodDevicesContainers) {
    return InvalidArgumentError("pod annotation has more than " +
                                std::to_string(kMaxPodDevicesContainers) + " container entries");
  }
  PodDevices out;
  out.reserve(pieces.size());
  for (std::string_view piece : pieces) {
    NPUSHARE_ASSIGN_OR_RETURN(ContainerDevices devices, DecodeContainerDevices(piece));
    out.push_back(std::move(devices));
  }
  return out;
}

Result<PoppedContainer> PopFirstNonEmptyContainer(PodDevices& pod) {
  for (size_t i = 0; i < pod.size(); ++i) {
    if (!pod[i].empty()) {
      PoppedContainer popped{i, std::move(pod[i])};
      pod[i].clear();
      return popped;
    }
  }
  return NotFoundError("no pending device allocation found");
}

}  // namespace npushare::hami
