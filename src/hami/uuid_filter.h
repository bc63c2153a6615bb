// File: hami/uuid_filter.h
//
// The user's device white- and blacklists (hami-protocol.md §3.1):
// hami.io/use-<cw>-uuid and hami.io/no-use-<cw>-uuid, comma-separated device ids.
//
// Thread safety: pure function.
#pragma once

#include <string>
#include <string_view>

#include "hami/types.h"

namespace npushare::hami {

// CheckUuid: whether device `device_id` may be used by a pod with `pod_annotations` for
// chip `cw`. Elements are whitespace-trimmed and compared exactly; an empty or
// whitespace-only list means "no constraint". The whitelist is checked first (the
// device must be in it), then the blacklist (it must not be).
bool CheckUuid(const Annotations& pod_annotations, const std::string& cw,
               std::string_view device_id);

}  // namespace npushare::hami
