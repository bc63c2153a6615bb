// File: softslice/interceptor/mapping_guard.h
//
// SIGBUS guard for the shared files soft slicing maps (issue 15, "faults survived"). A file
// mapping faults with SIGBUS when its file is truncated or shrunk under it (disk full, an
// operator's `cp` over the grant page, a container truncating its own ledger or tenant page).
// The readers of these pages cannot afford a check per access (the launch fast path is one
// load of the grant word), so the fault itself is made harmless: a process-wide SIGBUS
// handler looks the faulting address up in a small table of guarded mappings and, when it
// falls in one, replaces that whole mapping in place with anonymous zero pages (mmap
// MAP_FIXED, async-signal-safe) and marks it lost. The faulting instruction then re-runs
// against zeros: a zero grant word never matches a held grant and a zero header never
// validates, so every reader falls back to its safe path, notices MappingLost on its slow path,
// logs once and remaps a valid file at the same address (RemapAt) when one is back.
//
// A SIGBUS outside every guarded mapping goes to the handler that was installed before ours
// (or the default action: the process dies as it would have without us). An application that
// later installs its own SIGBUS handler without chaining replaces the guard; the pages are then
// as unguarded as before this guard existed (docs/softslice.md §5).
//
// Usage: map, then GuardMapping(kind, base, len, writable); on the slow path check
// MappingLost(kind); RemapAt(kind, fd) puts a file back at the same address.
//
// Thread safety: every function may be called from any thread; the table is a fixed array of
// atomics (no allocation, no lock), read by the signal handler.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace npushare::vnpu {

enum class GuardedMap : uint8_t { kGrantPage = 0, kTenantPage, kLedger, kCount };

// GuardMapping: registers [base, base + len) as the mapping of `kind` (replacing any earlier
// registration of that kind) and installs the SIGBUS handler on first use. `writable`: the zero
// pages that replace a lost mapping are PROT_READ|PROT_WRITE (else PROT_READ).
void GuardMapping(GuardedMap kind, void* base, size_t len, bool writable);

// MappingLost: true once a SIGBUS in the mapping of `kind` replaced it with zeros (until
// RemapAt succeeds).
bool MappingLost(GuardedMap kind);

// RemapAt: maps `fd` (offset 0, MAP_SHARED, the registered length and protection) at the
// registered address of `kind` with MAP_FIXED, so pointers into the old mapping stay valid, and
// clears the lost mark. False (nothing changed) when `kind` is not registered or mmap fails.
bool RemapAt(GuardedMap kind, int fd);

// MappingLostAt: MappingLost(kind) for the mapping registered at `base` (false when `kind` is
// registered at another address: a process may hold several ledgers in tests).
bool MappingLostAt(GuardedMap kind, const void* base);

// ForgetMapping: unregisters `kind` if it is registered at `base` (before the caller unmaps it).
void ForgetMapping(GuardedMap kind, const void* base);

// SigbusesAbsorbed: how many faults the guard has turned into zero pages (all kinds).
uint64_t SigbusesAbsorbed();

}  // namespace npushare::vnpu
