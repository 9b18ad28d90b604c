#pragma once
// Where scripts/prepare-real-tests.sh left the real dumps and crash's answers, reading them, and
// opening a dump with its LinuxView.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "coroner/debuginfo/debug_info.hpp"
#include "coroner/os/linux/linux_view.hpp"

namespace coroner::testing {

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every kernel's dump directory (scripts/real-dumps.sh), the reference kernel's (Debian 12's 6.1
// generic, where crash is the oracle) first.
inline std::vector<std::string> kernel_dirs() {
  std::istringstream in(slurp(CORONER_REAL_DUMPS_FILE));
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

// The reference kernel's dumps.
inline std::string dumps_dir() {
  auto dirs = kernel_dirs();
  return dirs.empty() ? std::string() : dirs.front();
}

// The dumps of Debian's linux-image-FLAVOUR ("amd64", "6.12-rt-amd64"), or "" when they were not
// made (CORONER_KERNELS chose other kernels).
inline std::string flavour_dir(const std::string& flavour) {
  for (const std::string& dir : kernel_dirs()) {
    std::string f = slurp(dir + "/flavour");
    while (!f.empty() && f.back() == '\n') f.pop_back();
    if (f == flavour) return dir;
  }
  return "";
}

// The lines of one of scripts/real-dumps.sh's tables (scripts/real-dump-*.txt), comments and blank
// lines left out. Read when the tests are listed, before any dump exists.
inline std::vector<std::vector<std::string>> dump_table(const std::string& name) {
  std::istringstream in(slurp(std::string(CORONER_SCRIPTS_DIR) + "/" + name));
  std::vector<std::vector<std::string>> rows;
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::vector<std::string> row;
    for (std::string w; words >> w;) row.push_back(w);
    if (!row.empty() && !row[0].starts_with("#")) rows.push_back(std::move(row));
  }
  return rows;
}

// Debian's kernel flavours scripts/real-dumps.sh makes dumps of, the reference first.
inline std::vector<std::string> all_flavours() {
  std::vector<std::string> out;
  for (const auto& row : dump_table("real-dump-kernels.txt")) out.push_back(row[0]);
  return out;
}

// Whether the dumps of `flavour` include `scenario` (scripts/real-dump-kernels.txt).
inline bool has_scenario(const std::string& flavour, const std::string& scenario) {
  for (const auto& row : dump_table("real-dump-kernels.txt")) {
    if (row[0] != flavour) continue;
    if (row.size() > 1 && row[1] == "all") {
      for (const auto& s : dump_table("real-dump-scenarios.txt")) {
        if (s[0] == scenario) return true;
      }
      return false;
    }
    return std::find(row.begin() + 1, row.end(), scenario) != row.end();
  }
  return false;
}

// A dump directory's vmlinux's debug info, indexed once for every test in the executable.
inline DebugInfo& debug_info_of(const std::string& dir) {
  static std::map<std::string, std::unique_ptr<DebugInfo>> opened;
  auto& debug = opened[dir];
  if (!debug) {
    auto d = DebugInfo::open(dir + "/kernel/vmlinux");
    EXPECT_TRUE(d.ok()) << d.error().message;
    if (d) debug = std::move(*d);
  }
  return *debug;
}

// The reference vmlinux's debug info.
inline DebugInfo& shared_debug_info() { return debug_info_of(dumps_dir()); }

// A real dump opened with its vmlinux, its typed objects and a LinuxView over them; `view` is null
// when the dump could not be opened (the test has failed already).
struct OpenedDump {
  std::unique_ptr<Kernel> kernel;
  std::unique_ptr<TypedMemory> objects;
  std::unique_ptr<linux_kernel::LinuxView> view;
};
inline OpenedDump open_dump_in(const std::string& dir, const std::string& scenario, const std::string& file,
                               DebugInfo& debug) {
  OpenedDump o;
  auto k = Kernel::open({dir + "/" + scenario + "/" + file, dir + "/kernel/vmlinux", std::nullopt});
  EXPECT_TRUE(k.ok()) << (k ? "" : k.error().message);
  if (!k) return o;
  o.kernel = std::move(*k);
  o.objects = std::make_unique<TypedMemory>(*o.kernel, debug);
  o.view = std::make_unique<linux_kernel::LinuxView>(*o.objects);
  return o;
}
inline OpenedDump open_real_dump(const std::string& scenario, const std::string& file,
                                 DebugInfo& debug = shared_debug_info()) {
  return open_dump_in(dumps_dir(), scenario, file, debug);
}

// A test name from a flavour name ("6.12-rt-amd64" -> "6_12_rt_amd64"), for INSTANTIATE_TEST_SUITE_P.
inline std::string flavour_test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string n = info.param;
  for (char& c : n) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return n;
}

// A test name for one kernel's scenario ("6.12-rt-amd64", "slub-uaf" -> "6_12_rt_amd64_slub_uaf"; the
// reference kernel's without its flavour), for INSTANTIATE_TEST_SUITE_P.
inline std::string flavour_scenario_test_name(const std::string& flavour, const std::string& scenario) {
  std::string name = (flavour == "amd64" ? "" : flavour + "_") + scenario;
  for (char& c : name) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return name;
}

// A test name from a scenario name ("sysrq-kaslr" -> "sysrq_kaslr"), for INSTANTIATE_TEST_SUITE_P.
inline std::string scenario_test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string n = info.param;
  std::replace(n.begin(), n.end(), '-', '_');
  return n;
}

}  // namespace coroner::testing
