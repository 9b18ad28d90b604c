#pragma once
// Where scripts/prepare-real-tests.sh left the real dumps and crash's answers, reading them, and
// opening a dump with its LinuxView.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "coroner/debuginfo/debug_info.hpp"
#include "coroner/os/linux/linux_view.hpp"

namespace coroner::testing {

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string dumps_dir() {
  std::string dir = slurp(CORONER_REAL_DUMPS_FILE);
  while (!dir.empty() && dir.back() == '\n') dir.pop_back();
  return dir;
}

// The vmlinux's debug info, indexed once for every test in the executable.
inline DebugInfo& shared_debug_info() {
  static std::unique_ptr<DebugInfo> debug = [] {
    auto d = DebugInfo::open(dumps_dir() + "/kernel/vmlinux");
    EXPECT_TRUE(d.ok()) << d.error().message;
    return d ? std::move(*d) : nullptr;
  }();
  return *debug;
}

// A real dump opened with the vmlinux, its typed objects and a LinuxView over them; `view` is null
// when the dump could not be opened (the test has failed already).
struct OpenedDump {
  std::unique_ptr<Kernel> kernel;
  std::unique_ptr<Objects> objects;
  std::unique_ptr<linux_kernel::LinuxView> view;
};
inline OpenedDump open_real_dump(const std::string& scenario, const std::string& file,
                                 DebugInfo& debug = shared_debug_info()) {
  OpenedDump o;
  auto k = Kernel::open({dumps_dir() + "/" + scenario + "/" + file, dumps_dir() + "/kernel/vmlinux"});
  EXPECT_TRUE(k.ok()) << (k ? "" : k.error().message);
  if (!k) return o;
  o.kernel = std::move(*k);
  o.objects = std::make_unique<Objects>(*o.kernel, debug);
  o.view = std::make_unique<linux_kernel::LinuxView>(*o.objects);
  return o;
}

// A test name from a scenario name ("sysrq-kaslr" -> "sysrq_kaslr"), for INSTANTIATE_TEST_SUITE_P.
inline std::string scenario_test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string n = info.param;
  std::replace(n.begin(), n.end(), '-', '_');
  return n;
}

}  // namespace coroner::testing
