#pragma once
// Finding a kernel's debug file when the user gives none, as distributions lay them out: by the
// dump's build-id under each debug directory's .build-id/, then by release (Debian and Ubuntu's
// boot/vmlinux-RELEASE, Fedora and RHEL's lib/modules/RELEASE/vmlinux), then from a debuginfod
// server (DEBUGINFOD_URLS, through elfutils' libdebuginfod and its cache). A candidate is taken
// only when its own build-id is the dump's.
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace coroner {

struct DebugSearch {
  std::vector<std::string> dirs;  // the user's (--debug-dir), searched before the system's
  bool debuginfod = true;         // ask the servers DEBUGINFOD_URLS names, when it names any
  // Told a download's progress (bytes so far, total or 0 when unknown).
  std::function<void(long done, long total)> progress;
};

struct LocatedDebugFile {
  std::string path;
  std::string how;  // "build-id 6a2b... under /usr/lib/debug/.build-id", "debuginfod (https://...)"
};

struct DebugLookup {
  std::optional<LocatedDebugFile> found;
  std::vector<std::string> tried;  // every place looked, and why it was not the file
};

// Every directory searched, in order: `search.dirs`, then CORONER_DEBUG_PATH's (colon-separated)
// or, when it is not set, /usr/lib/debug. Set and empty, it keeps coroner out of the system's.
std::vector<std::string> debug_directories(const DebugSearch& search);

// The vmlinux whose build-id is `build_id` (hex; may be empty when the dump names none, then a
// file found by `release` is taken unverified, for the dump's own check to judge).
DebugLookup locate_vmlinux(const std::string& build_id, const std::string& release, const DebugSearch& search);

// A module's debug file (its .ko with DWARF) by the build-id of the module loaded in the dump:
// DIR/.build-id/xx/rest.debug, then debuginfod (only its cache when `search.debuginfod` is false).
std::optional<LocatedDebugFile> locate_module_debug(const std::string& build_id, const DebugSearch& search);

// The directories of the release's module debug files (DIR/lib/modules/RELEASE) that exist.
std::vector<std::string> module_debug_directories(const std::string& release, const DebugSearch& search);

}  // namespace coroner
