// The thread commands end to end through the coroner binary on a real dump: JSON shapes, the
// defaults (the panicking task; an object's size from its pointer type) and the errors a user meets.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "../support/json_output.hpp"
#include "../support/run_command.hpp"
#include "real_dumps.hpp"

using coroner::testing::dumps_dir;
using coroner::testing::json_in_output;
using coroner::testing::run_command;

namespace {

std::string base_args() {
  return std::string(CORONER_BINARY) + " %s " + dumps_dir() + "/sysrq-kaslr/vmcore.kdump-zlib -k " + dumps_dir() +
         "/kernel/vmlinux ";
}

coroner::testing::CommandResult coroner_run(const std::string& command, const std::string& args) {
  std::string line = base_args();
  line.replace(line.find("%s"), 2, command);
  return run_command(line + args);
}

nlohmann::json json_of(const std::string& command, const std::string& args) {
  auto r = coroner_run(command, args + " --json");
  EXPECT_EQ(r.status, 0) << r.output;
  return json_in_output(r.output);
}

TEST(ThreadsCli, BtDefaultsToThePanickingTaskAndNamesEveryFrame) {
  auto j = json_of("bt", "");
  ASSERT_EQ(j["schema"], "coroner.bt");
  ASSERT_EQ(j["backtraces"].size(), 1u);
  const auto& bt = j["backtraces"][0];
  EXPECT_EQ(bt["thread"]["tid"], 1);
  EXPECT_EQ(bt["end"], "user mode");
  std::vector<std::string> functions;
  for (const auto& f : bt["frames"]) {
    functions.push_back(f["function"]);
    EXPECT_EQ(f["stack"], "task");
    EXPECT_TRUE(f["line"].is_string()) << f.dump();
  }
  EXPECT_NE(std::find(functions.begin(), functions.end(), "sysrq_handle_crash"), functions.end());
  EXPECT_EQ(functions.back(), "entry_SYSCALL_64_after_hwframe");
  EXPECT_EQ(bt["user_regs"]["cs"], "0x33");
}

TEST(ThreadsCli, WhatthreadTakesTheSizeFromATypedPointer) {
  auto ps = json_of("ps", "");
  std::string writer;
  std::set<int> readers;
  for (const auto& t : ps["threads"]) {
    if (t["comm"] == "sleep") writer = t["address"];
    if (t["comm"] == "cat") readers.insert(t["tid"].get<int>());
  }
  ASSERT_FALSE(writer.empty());
  auto pipe = coroner_run("print", "'((struct task_struct *)" + writer + ")->files->fdt->fd[1]->private_data'");
  ASSERT_EQ(pipe.status, 0) << pipe.output;
  std::string address = pipe.output.substr(pipe.output.rfind(' ') + 1);
  address.erase(address.find_last_not_of("\n") + 1);
  auto j = json_of("whatthread", "'(struct pipe_inode_info *)" + address + "'");
  EXPECT_EQ(j["object"], "struct pipe_inode_info");
  EXPECT_GT(j["size"].get<int>(), 100);
  std::set<int> holders;
  for (const auto& r : j["references"]) holders.insert(r["thread"]["tid"].get<int>());
  EXPECT_EQ(holders, readers);
  auto stacks = json_of("search", address + " --stacks");
  EXPECT_EQ(stacks["scope"], "stacks");
  EXPECT_GE(stacks["hits"].size(), 2u);
}

TEST(ThreadsCli, ModListsTheGuestsModulesWithSymbols) {
  auto j = json_of("mod", "");
  ASSERT_EQ(j["modules"].size(), 7u);
  std::set<std::string> names;
  for (const auto& m : j["modules"]) {
    names.insert(m["name"]);
    EXPECT_GT(m["symbols"].get<int>(), 10) << m;
    EXPECT_TRUE(m["object_file"].is_null()) << m;  // no --modules
  }
  EXPECT_TRUE(names.contains("qemu_fw_cfg") && names.contains("virtio_blk"));
}

TEST(ThreadsCli, ErrorsSayWhatIsWrongAndWhatToDo) {
  auto missing = coroner_run("bt", "99999");
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.output.find("no thread 99999 in the dump (see `coroner ps`)"), std::string::npos) << missing.output;
  auto cpu = coroner_run("bt", "--cpu 7");
  EXPECT_EQ(cpu.status, 1);
  EXPECT_NE(cpu.output.find("the dump has 2 CPUs"), std::string::npos) << cpu.output;
  auto mask = coroner_run("search", "0x1 --mask zz");
  EXPECT_EQ(mask.status, 1);
  EXPECT_NE(mask.output.find("--mask 'zz' is not a number"), std::string::npos) << mask.output;
  auto both = coroner_run("search", "0x1 --stacks --physical");
  EXPECT_NE(both.status, 0);
}

}  // namespace
