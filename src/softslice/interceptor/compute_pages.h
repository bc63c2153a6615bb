// File: softslice/interceptor/compute_pages.h
//
// Mapping the two compute pages of softslice/shared_state.h from inside a tenant:
//   * the tenant page (read-write, created by the first process of the container), and
//   * the node's grant page (read-only; written by npushare-arbiter).
// Allocation-free and exception-free (usable from libvnpu.so hooks). Callers serialise these
// calls; the returned mappings live until process exit.
#pragma once

#include <stdint.h>

#include "softslice/interceptor/config.h"
#include "softslice/shared_state.h"

namespace npushare::vnpu {

enum class PageError : uint8_t { kOk, kMissing, kIo, kBadFormat };

// OpenTenantPage: maps `<dir>/tenant.v2`, creating it (0600) with a random tenant id and
// cfg's core shares when it does not exist. Device chip ids start at -1 (unused); the gate
// publishes a device's chip when the container first launches on it. Same directory/file safety
// rules as Ledger::Open. *out is written only on kOk.
PageError OpenTenantPage(const char* dir, const Config& cfg, VnpuTenantPage** out);

// OpenGrantPage: maps `<dir>/grants.v2` read-only after validating magic, version and sizes,
// and guards the mapping against SIGBUS (mapping_guard.h). kMissing when the file does not
// exist (no arbiter yet). *out is written only on kOk.
PageError OpenGrantPage(const char* dir, const VnpuGrantPage** out);

// GrantPageLost: the mapping at `page` (from OpenGrantPage) was truncated under us (the SIGBUS
// guard replaced it with zeros, mapping_guard.h) or its header no longer validates.
bool GrantPageLost(const VnpuGrantPage* page);

// ReopenGrantPage: when `<dir>/grants.v2` is a valid page and either another file than the one
// mapped at `page` (replaced, e.g. rebuilt by the arbiter) or `page` is lost, maps it at the
// same address (pointers into `page` stay valid) and returns kOk. kMissing: no file, or the
// same file as mapped and not lost; kBadFormat/kIo otherwise (nothing changed).
// REQUIRES: `page` came from OpenGrantPage. Callers serialise it with OpenGrantPage.
PageError ReopenGrantPage(const char* dir, const VnpuGrantPage* page);

// ValidGrantHeader / ValidTenantHeader: whether a mapped page's header matches this build.
bool ValidGrantHeader(const VnpuGrantPage* page);
bool ValidTenantHeader(const VnpuTenantPage* page);

}  // namespace npushare::vnpu
