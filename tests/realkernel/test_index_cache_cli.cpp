// The index cache on a real vmlinux (a 15 MB entry, written about 0.4 s into a cold run): a run
// killed at any moment, or two runs started together, never leave an entry that a later run reads
// wrong; --no-cache leaves nothing behind.
#include <gtest/gtest.h>

#include <filesystem>

#include "../support/run_command.hpp"
#include "../support/temp_file.hpp"
#include "real_dumps.hpp"

using namespace coroner;
using namespace coroner::testing;
namespace fs = std::filesystem;

namespace {

const std::string kCoroner = CORONER_BINARY;

// An XDG_CACHE_HOME of the test's own.
class CacheHome : public TempDir {
 public:
  std::string index_dir() const { return path() + "/coroner/index"; }
  size_t entries() const {
    std::error_code ec;
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(index_dir(), ec)) n += e.path().filename().string().starts_with(".") ? 0 : 1;
    return n;
  }
  std::string env() const { return "XDG_CACHE_HOME=" + path() + " "; }
};

std::string struct_command() { return kCoroner + " struct -k " + dumps_dir() + "/kernel/vmlinux dentry -o"; }

std::string reference() {
  static const std::string out = run_command(struct_command() + " --no-cache").output;
  return out;
}

}  // namespace

TEST(IndexCacheCli, NoCacheWritesNothing) {
  CacheHome home;
  auto r = run_command(home.env() + struct_command() + " --no-cache");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("struct dentry {"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(home.index_dir()));
  auto cached = run_command(home.env() + struct_command());
  EXPECT_EQ(cached.output, r.output);
  EXPECT_EQ(home.entries(), 1u);
}

TEST(IndexCacheCli, ARunKilledAtAnyMomentLeavesNothingThatMisleadsTheNext) {
  const std::string expected = reference();
  ASSERT_NE(expected.find("struct dentry {"), std::string::npos) << expected;
  // From before the index is built to after its entry is written.
  for (const char* delay : {"0.05", "0.2", "0.3", "0.35", "0.4", "0.45", "0.5", "0.6", "0.8"}) {
    CacheHome home;
    run_command(home.env() + "timeout -s KILL " + delay + " " + struct_command());
    auto next = run_command(home.env() + struct_command());
    EXPECT_EQ(next.status, 0) << "killed after " << delay << " s: " << next.output;
    EXPECT_EQ(next.output, expected) << "killed after " << delay << " s";
    EXPECT_EQ(home.entries(), 1u) << "killed after " << delay << " s";
    auto mapped = run_command(home.env() + struct_command());
    EXPECT_EQ(mapped.output, expected) << "killed after " << delay << " s, read from the entry";
  }
}

TEST(IndexCacheCli, TwoRunsStartedTogetherOnANewVmlinuxBothAnswer) {
  const std::string expected = reference();
  CacheHome home;
  std::string a = home.path() + "/a.out", b = home.path() + "/b.out";
  auto r = run_command("(" + home.env() + struct_command() + " > " + a + " 2>&1 & " + home.env() + struct_command() +
                       " > " + b + " 2>&1 & wait)");
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(slurp(a), expected);
  EXPECT_EQ(slurp(b), expected);
  EXPECT_EQ(home.entries(), 1u);
  EXPECT_EQ(run_command(home.env() + struct_command()).output, expected);
}
