// Without -k, coroner finds the dump's vmlinux itself, as distributions lay debug files out: by the
// dump's build-id under DIR/.build-id, by its release under DIR/boot, and only when the file's own
// build-id is the dump's. The answers are the same as with -k.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "../support/json_output.hpp"
#include "coroner/debuginfo/elf_symbols.hpp"
#include "../support/run_command.hpp"
#include "real_dumps.hpp"

using coroner::testing::dumps_dir;
using coroner::testing::json_in_output;
using coroner::testing::run_command;
namespace fs = std::filesystem;

namespace {

std::string dump_path() { return dumps_dir() + "/slub-uaf/vmcore.kdump-zlib"; }
std::string vmlinux_path() { return dumps_dir() + "/kernel/vmlinux"; }

// A fresh directory laid out like /usr/lib/debug, removed at the end of the test.
class DebugDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("coroner-debug-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto info = json_in_output(run_command(std::string(CORONER_BINARY) + " info --json " + dump_path()).output);
    release_ = info["release"]["value"].get<std::string>();
    build_id_ = info["vmlinux"]["dump_build_id"].get<std::string>();
    ASSERT_EQ(build_id_.size(), 40u) << info.dump(1);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void link(const std::string& relative, const std::string& target) {
    fs::create_directories((dir_ / relative).parent_path());
    fs::create_symlink(target, dir_ / relative);
  }
  nlohmann::json info(const std::string& env = "", const std::string& extra = "") {
    return json_in_output(run_command(env + " " + CORONER_BINARY + " info --json " + dump_path() + " " + extra).output);
  }
  std::string dir() const { return dir_.string(); }

  fs::path dir_;
  std::string release_, build_id_;
};

TEST_F(DebugDir, TheVmlinuxIsFoundByTheDumpsBuildId) {
  link(".build-id/" + build_id_.substr(0, 2) + "/" + build_id_.substr(2) + ".debug", vmlinux_path());
  auto j = info("", "--debug-dir " + dir());
  EXPECT_EQ(j["vmlinux"]["verdict"], "match") << j["vmlinux"].dump(1);
  EXPECT_EQ(j["vmlinux"]["path"], dir() + "/.build-id/" + build_id_.substr(0, 2) + "/" + build_id_.substr(2) + ".debug");
  EXPECT_EQ(j["vmlinux"]["found_by"].get<std::string>().rfind("build-id " + build_id_, 0), 0u) << j["vmlinux"].dump(1);
}

TEST_F(DebugDir, TheVmlinuxIsFoundByReleaseThroughCoronerDebugPath) {
  link("boot/vmlinux-" + release_, vmlinux_path());
  auto j = info("CORONER_DEBUG_PATH=/nonexistent:" + dir());
  EXPECT_EQ(j["vmlinux"]["verdict"], "match") << j["vmlinux"].dump(1);
  EXPECT_EQ(j["vmlinux"]["path"], dir() + "/boot/vmlinux-" + release_);
  EXPECT_NE(j["vmlinux"]["found_by"].get<std::string>().find("release " + release_), std::string::npos);
}

// A file of the right name but another build is passed over, and said so; nothing else found is
// an error naming the dump's build-id and what to install.
TEST_F(DebugDir, AFileOfAnotherBuildIsNotTaken) {
  link("boot/vmlinux-" + release_, CORONER_FAKE_VMLINUX);
  auto j = info("", "--debug-dir " + dir());
  EXPECT_EQ(j["vmlinux"]["verdict"], "not given") << j["vmlinux"].dump(1);
  EXPECT_TRUE(j["vmlinux"]["path"].is_null());
  std::string looked = j["vmlinux"]["looked_in"].dump();
  EXPECT_NE(looked.find(dir() + "/boot/vmlinux-" + release_ + ": build-id "), std::string::npos) << looked;
  EXPECT_NE(looked.find("not the dump's " + build_id_), std::string::npos) << looked;
  // Passed over, the file leaves the dump to answer from its own kallsyms and BTF: the same threads.
  auto ps = run_command(std::string(CORONER_BINARY) + " ps " + dump_path() + " --debug-dir " + dir());
  EXPECT_EQ(ps.status, 0) << ps.output;
  EXPECT_EQ(ps.output, run_command(std::string(CORONER_BINARY) + " ps " + dump_path() + " -k " + vmlinux_path()).output);
}

// A loaded module's .ko is found by the build-id the dump's copy of the module carries, with the
// kernel's types from its vmlinux or, with none, from its BTF: the module's own types then name
// the objects analyze finds.
TEST_F(DebugDir, AModulesDebugFileIsFoundByItsLoadedBuildId) {
  std::string ko = dumps_dir() + "/test-module/coroner_test.ko";
  std::string id = coroner::elf_build_id(ko);
  ASSERT_EQ(id.size(), 40u) << ko;
  std::string at = dir() + "/.build-id/" + id.substr(0, 2) + "/" + id.substr(2) + ".debug";
  auto without = run_command(std::string(CORONER_BINARY) + " mod " + dump_path() + " --debug-dir " + dir());
  EXPECT_EQ(without.output.find(at), std::string::npos);
  link(".build-id/" + id.substr(0, 2) + "/" + id.substr(2) + ".debug", ko);
  for (const std::string& kernel : {std::string(" -k ") + vmlinux_path(), std::string()}) {
    auto mod = run_command(std::string(CORONER_BINARY) + " mod " + dump_path() + " --debug-dir " + dir() + kernel);
    EXPECT_EQ(mod.status, 0) << mod.output;
    EXPECT_NE(mod.output.find(at), std::string::npos) << mod.output;
    auto analyze = run_command(std::string(CORONER_BINARY) + " analyze " + dump_path() + " --debug-dir " + dir() + kernel);
    EXPECT_NE(analyze.output.find("freed struct coroner_obj (cache coroner_obj)"), std::string::npos) << analyze.output;
  }
}

// Every typed command answers the same through a found vmlinux as through -k.
TEST_F(DebugDir, CommandsAnswerAsWithK) {
  link("boot/vmlinux-" + release_, vmlinux_path());
  for (const char* command : {"ps", "bt --all"}) {
    auto found = run_command(std::string(CORONER_BINARY) + " " + command + " " + dump_path() + " --debug-dir " + dir());
    auto given = run_command(std::string(CORONER_BINARY) + " " + command + " " + dump_path() + " -k " + vmlinux_path());
    EXPECT_EQ(found.status, 0) << found.output;
    EXPECT_EQ(found.output, given.output) << command;
  }
}

}  // namespace

namespace {

// A debuginfod server on loopback serving the reference kernel's vmlinux (Debian's debuginfod,
// indexing the directory it is in), stopped at the end of the test.
class LocalDebuginfod : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("coroner-debuginfod-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    port_ = 20000 + ::getpid() % 10000;
    // fts does not follow a symlinked root: the kernel directory as it really is.
    std::string kernel_dir = fs::canonical(dumps_dir() + "/kernel").string();
    auto started = run_command("debuginfod -F -p " + std::to_string(port_) + " -d " + (dir_ / "index.sqlite").string() +
                               " -I '^.*/vmlinux$' -t 0 -g 0 " + kernel_dir + " > " + (dir_ / "server.log").string() +
                               " 2>&1 & echo $!");
    pid_ = std::atoi(started.output.c_str());
    ASSERT_GT(pid_, 0) << started.output;
  }
  void TearDown() override {
    if (pid_ > 0 && ::kill(pid_, SIGTERM) == 0) {
      // Its index is removed only once it has let go of it (exited, or a zombie).
      for (int i = 0; i < 50 && !stopped(); ++i) ::usleep(100000);
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  bool stopped() const {
    std::string status = coroner::testing::slurp("/proc/" + std::to_string(pid_) + "/status");
    return status.empty() || status.find("State:\tZ") != std::string::npos;
  }
  // Runs `command` on the dump asking only this server, with the client cache `cache` (a miss is
  // cached by the client: each attempt until the server has indexed the file starts empty).
  coroner::testing::CommandResult run(const std::string& command, const std::string& cache) {
    return run_command("DEBUGINFOD_URLS=http://127.0.0.1:" + std::to_string(port_) + " DEBUGINFOD_CACHE_PATH=" +
                       (dir_ / cache).string() + " CORONER_DEBUG_PATH= " + CORONER_BINARY + " " + command + " " + dump_path());
  }

  fs::path dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

TEST_F(LocalDebuginfod, TheVmlinuxIsDownloadedByBuildIdAndInfoSaysSo) {
  coroner::testing::CommandResult ps;
  std::string cache;
  nlohmann::json j;
  // The server indexes the 600 MB vmlinux after it starts: ask until it has, two minutes at most.
  // (Until then ps answers from the dump's own kallsyms and BTF, and nothing is in the cache.)
  for (int attempt = 0; attempt < 120; ++attempt) {
    cache = "cache" + std::to_string(attempt);
    ps = run("ps", cache);
    j = json_in_output(run("info --json", cache).output);
    if (ps.status == 0 && j["vmlinux"]["verdict"] == "match") break;
    ::sleep(1);
  }
  ASSERT_EQ(j["vmlinux"]["verdict"], "match") << ps.output << coroner::testing::slurp((dir_ / "server.log").string());
  EXPECT_EQ(ps.output, run_command(std::string(CORONER_BINARY) + " ps " + dump_path() + " -k " + vmlinux_path()).output);
  // info downloads nothing, but finds what ps downloaded in the client's cache.
  EXPECT_EQ(j["vmlinux"]["found_by"].get<std::string>().rfind("debuginfod's cache", 0), 0u) << j["vmlinux"].dump(1);
  auto elsewhere = json_in_output(run("info --json", "empty-cache").output);
  EXPECT_EQ(elsewhere["vmlinux"]["verdict"], "not given") << elsewhere["vmlinux"].dump(1);
  EXPECT_NE(elsewhere["vmlinux"]["looked_in"].dump().find("not asked by this command"), std::string::npos);
}

}  // namespace
