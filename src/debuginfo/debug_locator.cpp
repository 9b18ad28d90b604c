#include "coroner/debuginfo/debug_locator.hpp"

#include <elfutils/debuginfod.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "coroner/debuginfo/elf_symbols.hpp"

namespace coroner {

namespace {

namespace fs = std::filesystem;

constexpr const char* kSystemDebugDir = "/usr/lib/debug";

bool is_file(const std::string& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);  // follows symlinks, as .build-id's are
}

// Whether `path` is the file wanted: its build-id is the dump's, or (the dump naming none) it
// exists. Says why not in `tried`.
bool matches(const std::string& path, const std::string& build_id, std::vector<std::string>& tried) {
  if (!is_file(path)) return false;
  if (build_id.empty()) return true;
  std::string id = elf_build_id(path);
  if (same_build_id(id, build_id)) return true;
  tried.push_back(path + ": build-id " + (id.empty() ? "unreadable" : id) + ", not the dump's " + build_id);
  return false;
}

std::optional<LocatedDebugFile> from_directory(const std::string& dir, const std::string& build_id, const std::string& release,
                                               std::vector<std::string>& tried) {
  if (build_id.size() > 2) {
    std::string path = dir + "/.build-id/" + build_id.substr(0, 2) + "/" + build_id.substr(2) + ".debug";
    if (matches(path, build_id, tried)) return LocatedDebugFile{path, "build-id " + build_id + " under " + dir + "/.build-id"};
  }
  if (release.empty()) return std::nullopt;
  for (const std::string& path : {dir + "/boot/vmlinux-" + release, dir + "/lib/modules/" + release + "/vmlinux"}) {
    if (!matches(path, build_id, tried)) continue;
    std::string how = "release " + release + " under " + dir;
    if (build_id.empty()) how += " (the dump names no build-id: unverified until the dump is checked against it)";
    else how += ", build-id " + build_id + " checked";
    return LocatedDebugFile{path, how};
  }
  return std::nullopt;
}

// Where libdebuginfod keeps what it downloaded: DEBUGINFOD_CACHE_PATH, else XDG's cache, else
// ~/.cache (elfutils' own order; a miss is kept there as an empty file).
std::string debuginfod_cache() {
  if (const char* path = std::getenv("DEBUGINFOD_CACHE_PATH"); path && *path) return path;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::string(xdg) + "/debuginfod_client";
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "") + "/.cache/debuginfod_client";
}

int on_progress(debuginfod_client* client, long done, long total) {
  auto* report = static_cast<const std::function<void(long, long)>*>(debuginfod_get_user_data(client));
  if (report && *report) (*report)(done, total);
  return 0;  // go on
}

std::optional<LocatedDebugFile> from_debuginfod(const std::string& build_id, const DebugSearch& search,
                                                std::vector<std::string>& tried) {
  const char* urls = std::getenv("DEBUGINFOD_URLS");
  if (build_id.empty() || !urls || !*urls) return std::nullopt;
  if (!search.debuginfod) {
    std::string cached = debuginfod_cache() + "/" + build_id + "/debuginfo";
    std::error_code ec;
    if (is_file(cached) && fs::file_size(cached, ec) > 0) return LocatedDebugFile{cached, "debuginfod's cache, build-id " + build_id};
    tried.push_back(std::string("debuginfod (") + urls + "): not asked by this command (those that read types download), and " +
                    cached + " is not there");
    return std::nullopt;
  }
  debuginfod_client* client = debuginfod_begin();
  if (!client) {
    tried.push_back("debuginfod: the client could not start");
    return std::nullopt;
  }
  debuginfod_set_user_data(client, const_cast<std::function<void(long, long)>*>(&search.progress));
  debuginfod_set_progressfn(client, on_progress);
  char* path = nullptr;
  int fd = debuginfod_find_debuginfo(client, reinterpret_cast<const unsigned char*>(build_id.c_str()), 0, &path);
  debuginfod_end(client);
  if (fd < 0) {
    tried.push_back(std::string("debuginfod (") + urls + "): build-id " + build_id + ": " + std::strerror(-fd));
    return std::nullopt;
  }
  ::close(fd);
  LocatedDebugFile out{path ? path : "", std::string("debuginfod (") + urls + "), build-id " + build_id};
  std::free(path);
  if (out.path.empty()) return std::nullopt;
  return out;
}

}  // namespace

std::vector<std::string> debug_directories(const DebugSearch& search) {
  std::vector<std::string> out = search.dirs;
  const char* env = std::getenv("CORONER_DEBUG_PATH");
  if (!env) {
    out.push_back(kSystemDebugDir);
  } else {
    std::string list = env;
    for (size_t start = 0; start <= list.size();) {
      size_t end = list.find(':', start);
      if (end == std::string::npos) end = list.size();
      if (end > start) out.push_back(list.substr(start, end - start));
      start = end + 1;
    }
  }
  return out;
}

DebugLookup locate_vmlinux(const std::string& build_id, const std::string& release, const DebugSearch& search) {
  DebugLookup out;
  for (const std::string& dir : debug_directories(search)) {
    if ((out.found = from_directory(dir, build_id, release, out.tried))) return out;
    out.tried.push_back(dir + ": no " + (build_id.empty() ? "" : ".build-id/" + build_id.substr(0, 2) + "/... nor ") +
                        "vmlinux for release " + (release.empty() ? "(unknown)" : release));
  }
  if (!build_id.empty()) out.found = from_debuginfod(build_id, search, out.tried);
  return out;
}

std::optional<LocatedDebugFile> locate_module_debug(const std::string& build_id, const DebugSearch& search) {
  if (build_id.size() <= 2) return std::nullopt;
  std::vector<std::string> tried;
  for (const std::string& dir : debug_directories(search)) {
    if (auto found = from_directory(dir, build_id, "", tried)) return found;
  }
  return from_debuginfod(build_id, search, tried);
}

std::vector<std::string> module_debug_directories(const std::string& release, const DebugSearch& search) {
  std::vector<std::string> out;
  if (release.empty()) return out;
  for (const std::string& dir : debug_directories(search)) {
    std::error_code ec;
    std::string modules = dir + "/lib/modules/" + release;
    if (fs::is_directory(modules, ec)) out.push_back(modules);
  }
  return out;
}

}  // namespace coroner
