// Threads on real dumps, with the kernel itself as the oracle: the guest ran sysrq-t just before
// crashing, so the log inside the dump holds the kernel's own unwinder's backtrace of every task,
// and the panic printed the crashing stack. crash's `ps` and `mod` are checked where crash can
// answer (its task list is broken on this kernel: it finds only the tasks on a CPU).
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>

#include "coroner/debuginfo/debug_info.hpp"
#include "coroner/os/linux/linux_view.hpp"
#include "coroner/os/linux/memory_search.hpp"
#include "coroner/os/linux/stack_references.hpp"
#include "coroner/target/expression.hpp"
#include "kernel_traces.hpp"
#include "real_dumps.hpp"

using namespace coroner;
using namespace coroner::linux_kernel;
using coroner::testing::dumps_dir;
using coroner::testing::slurp;

namespace {

using Opened = coroner::testing::OpenedDump;
Opened open_dump(const std::string& scenario, const std::string& file) {
  return coroner::testing::open_real_dump(scenario, file);
}

std::vector<std::string> reliable_functions(const Backtrace& bt) {
  std::vector<std::string> out;
  for (const Frame& f : bt.frames) {
    if (!f.reliable) continue;
    std::ostringstream s;
    s << f.where.function << "+0x" << std::hex << f.where.offset;
    out.push_back(s.str());
  }
  return out;
}

// From the frame after `function` to the end.
std::vector<std::string> after(const std::vector<std::string>& frames, const std::string& function) {
  for (size_t i = 0; i < frames.size(); ++i) {
    if (frames[i].rfind(function + "+", 0) == 0) return {frames.begin() + static_cast<long>(i) + 1, frames.end()};
  }
  return {};
}

// Every line of a crash oracle file that matches `row`: the whole line, then its groups.
std::vector<std::vector<std::string>> crash_rows(const std::string& file, const std::regex& row) {
  std::istringstream in(slurp(file));
  std::string line;
  std::vector<std::vector<std::string>> out;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, row)) out.emplace_back(m.begin(), m.end());
  }
  return out;
}

// When a task last ran, on the scheduler's clock, which printk's timestamps read too
// (sched_clock): the later of when it last came on a CPU (sched_info.last_arrival) and when its
// runtime was last accounted (se.exec_start, which stops when it goes to sleep). A member this
// kernel's build lacks is left out; nullopt when it has neither.
std::optional<uint64_t> last_ran_ns(TypedMemory& objects, const Task& t) {
  std::optional<uint64_t> latest;
  for (const char* member : {"sched_info.last_arrival", "se.exec_start"}) {
    std::ostringstream e;
    e << "((struct task_struct *)0x" << std::hex << t.address << ")->" << member;
    if (auto v = evaluate_integer(objects, e.str())) latest = std::max(latest.value_or(0), *v);
  }
  return latest;
}

// A task that ran after sysrq-t printed it may sleep elsewhere now, or in another state: how long
// the guest took between sysrq-t and the crash depends on the host's load, not on coroner.
bool ran_after_printed(TypedMemory& objects, const Task& t, const coroner::testing::KernelTrace& printed) {
  auto ran = last_ran_ns(objects, t);
  return ran && printed.printed_ns && *ran > printed.printed_ns;
}

// One dump of one kernel: Debian's linux-image-FLAVOUR, a scenario of scripts/real-dumps.sh, a file.
struct DumpParam {
  std::string flavour, scenario, file;
};
void PrintTo(const DumpParam& p, std::ostream* os) { *os << p.flavour << " " << p.scenario << " " << p.file; }

class Threads : public ::testing::TestWithParam<DumpParam> {
 protected:
  void SetUp() override {
    const DumpParam& p = GetParam();
    std::string dir = coroner::testing::flavour_dir(p.flavour);
    if (dir.empty()) GTEST_SKIP() << "no dumps of linux-image-" << p.flavour << " were made (CORONER_KERNELS)";
    o_ = coroner::testing::open_dump_in(dir, p.scenario, p.file, coroner::testing::debug_info_of(dir));
    ASSERT_TRUE(o_.view);
    auto tasks = o_.view->tasks();
    ASSERT_TRUE(tasks.ok()) << tasks.error().message;
    tasks_ = *tasks;
    traces_ = coroner::testing::parse_kernel_traces(slurp(dir + "/" + p.scenario + "/console.log"));
  }
  bool is_kdump() const { return GetParam().scenario.starts_with("kdump"); }
  // Whether the dump left out pages that held tasks, and coroner said so: Debian 12's makedumpfile
  // (1.7.2) does not know 6.12's page types and drops slab pages from a -d 31 capture of it.
  bool lost_tasks() const {
    return std::any_of(tasks_->problems.begin(), tasks_->problems.end(),
                       [](const std::string& p) { return p.find("was excluded from the dump") != std::string::npos; });
  }
  Opened o_;
  const ThreadList* tasks_ = nullptr;
  coroner::testing::KernelTraces traces_;
};

TEST_P(Threads, EverySleepingTaskUnwindsAsTheKernelUnwoundIt) {
  ASSERT_GT(traces_.tasks.size(), 40u) << "the console log holds no sysrq-t output";
  int compared = 0;
  std::vector<std::string> moved;
  for (const auto& [pid, trace] : traces_.tasks) {
    // A task that was running then (sysrq-t itself, or one on the other CPU, which the kernel
    // refuses to unwind and prints no frames for) has moved since.
    if (trace.state == 'R' || trace.frames.empty()) continue;
    const Task* t = tasks_->by_id(pid);
    if (!t && lost_tasks()) continue;
    ASSERT_NE(t, nullptr) << "pid " << pid << " (" << trace.comm << ") is missing";
    if (t->active_on) continue;
    if (ran_after_printed(*o_.objects, *t, trace)) {
      moved.push_back(trace.comm);
      continue;
    }
    auto bt = o_.view->backtrace(*t);
    ASSERT_TRUE(bt.ok());
    EXPECT_EQ(reliable_functions(*bt), trace.frames) << "pid " << pid << " " << trace.comm << "; unwind ended: " << bt->end;
    EXPECT_TRUE(bt->reliable) << "pid " << pid << ": " << bt->end;
    ++compared;
  }
  EXPECT_GT(compared, lost_tasks() ? 10 : 40);
  std::cout << compared << " sleeping tasks compared; left out, as they ran after sysrq-t printed them: "
            << ::testing::PrintToString(moved) << "\n";
}

TEST_P(Threads, ThePanickingTaskUnwindsThroughThePanicTrace) {
  ASSERT_TRUE(tasks_->panic_cpu.has_value());
  // On PREEMPT_RT panic() can block on a sleeping lock: the CPU is then idle, and the task that
  // panicked is found by its stack.
  const Task* t = o_.view->panicking_task();
  ASSERT_NE(t, nullptr);
  auto bt = o_.view->backtrace(*t);
  ASSERT_TRUE(bt.ok());
  auto functions = reliable_functions(*bt);
  if (!traces_.oops.empty()) {
    // The test module's oops (insmod's stack, through its init code): from the faulting RIP on,
    // the frames are the oops's, module ones named as the kernel names them.
    EXPECT_EQ(after(functions, "asm_exc_general_protection"), traces_.oops);
    EXPECT_EQ(t->comm, "insmod");
    EXPECT_EQ(bt->end, "user mode");
    return;
  }
  EXPECT_EQ(t->thread_id, 1);
  auto ours = after(functions, "panic");
  auto kernels = after(traces_.panic, "panic");
  ASSERT_FALSE(kernels.empty()) << "no panic trace in the console log";
  EXPECT_EQ(ours, kernels);
  // kdump: panic() called __crash_kexec, which saved this CPU's registers (crash_setup_regs).
  if (is_kdump()) {
    EXPECT_TRUE(functions.front().starts_with("__crash_kexec+")) << functions.front();
  }
  EXPECT_EQ(bt->end, "user mode");
  ASSERT_TRUE(bt->user_regs.has_value());
}

TEST_P(Threads, PsListsEveryTaskTheKernelListed) {
  std::set<std::tuple<int, int, std::string>> kernels, ours;
  int newest_listed = 0;
  for (const auto& [pid, trace] : traces_.tasks) {
    kernels.insert({pid, trace.ppid, trace.comm});
    newest_listed = std::max(newest_listed, pid);
  }
  int states = 0, started_after = 0;
  for (const Task& t : tasks_->threads) {
    if (t.idle) continue;
    // The kernel hands out pids in increasing order: one above every pid sysrq-t listed belongs to
    // a task started after it (insmod, the test module's threads, a kworker the load called for).
    if (!traces_.tasks.contains(static_cast<int>(t.thread_id)) && static_cast<int>(t.thread_id) > newest_listed) {
      ++started_after;
      continue;
    }
    ours.insert({t.thread_id, t.parent_id, t.comm.substr(0, 15)});
    // Running then, woken since (R now), or run since: its state may have changed.
    auto it = traces_.tasks.find(t.thread_id);
    if (it == traces_.tasks.end() || it->second.state == 'R' || t.state == 'R' ||
        ran_after_printed(*o_.objects, t, it->second)) {
      continue;
    }
    EXPECT_EQ(t.state, it->second.state) << "pid " << t.thread_id;
    ++states;
  }
  EXPECT_EQ(tasks_->cpus.size(), 2u);
  if (lost_tasks()) {
    // What is in the dump is right, and coroner said what is not.
    EXPECT_TRUE(std::includes(kernels.begin(), kernels.end(), ours.begin(), ours.end()));
    EXPECT_GT(states, 10);
    std::cout << "the dump lost " << kernels.size() - ours.size() << " of the " << kernels.size()
              << " tasks sysrq-t listed; coroner said: " << tasks_->problems.front() << "\n";
    return;
  }
  EXPECT_EQ(ours, kernels);
  EXPECT_GT(states, 40);
  EXPECT_TRUE(tasks_->problems.empty()) << tasks_->problems.front();
  std::cout << states << " states compared; " << started_after << " tasks started after sysrq-t\n";
}

// The other CPU was stopped wherever it happened to be, which depends on the host's load, not on
// coroner: in QEMU dumps by the panic's stop IPI (or, when that is slow, its NMI), so its registers
// are in stop_this_cpu(); in kdump dumps by the crashing CPU's NMI, which saved the registers it
// interrupted. Whatever it ran (its idle loop, a task, a softirq under a timer interrupt, user
// space), its stack must unwind whole: every frame reliable, each stack left once and for good, to
// the end of the task's stack or to user mode.
TEST_P(Threads, OtherCpuUnwindsWhole) {
  uint32_t other = *tasks_->panic_cpu == 0 ? 1 : 0;
  const Task* t = tasks_->active_on(other);
  ASSERT_NE(t, nullptr);
  auto bt = o_.view->backtrace(*t);
  ASSERT_TRUE(bt.ok());
  ASSERT_FALSE(bt->frames.empty());
  EXPECT_TRUE(bt->reliable) << bt->end;
  EXPECT_EQ(bt->frames.front().source, FrameSource::registers);
  EXPECT_TRUE(bt->end == "end of stack" || bt->end == "user mode") << bt->end;
  EXPECT_EQ(bt->frames.back().stack, "task");
  std::vector<std::string> left;  // the stacks unwound through, in order
  for (const Frame& f : bt->frames) {
    EXPECT_TRUE(f.reliable) << "#" << f.level << " " << f.where.function;
    if (!left.empty() && left.back() == f.stack) continue;
    EXPECT_EQ(std::find(left.begin(), left.end(), f.stack), left.end())
        << "stack " << f.stack << " entered again at #" << f.level << ": " << ::testing::PrintToString(left);
    left.push_back(f.stack);
  }
  auto functions = reliable_functions(*bt);
  auto has = [&](const char* function) {
    return std::any_of(functions.begin(), functions.end(), [&](const std::string& f) { return f.starts_with(std::string(function) + "+"); });
  };
  if (!is_kdump()) {
    EXPECT_TRUE(has("stop_this_cpu")) << ::testing::PrintToString(functions);
  }
  if (t->idle) {
    EXPECT_TRUE(has("do_idle")) << ::testing::PrintToString(functions);
    EXPECT_EQ(bt->end, "end of stack");
  }
  // Not an assertion: what the CPU was doing in this dump, for whoever reads the test's output.
  std::cout << ::testing::PrintToString(GetParam()) << ": CPU " << other << " ran "
            << (t->idle ? "its idle task" : "pid " + std::to_string(t->thread_id) + " (" + t->comm + ")") << " across "
            << ::testing::PrintToString(left) << ", " << bt->frames.size() << " frames to " << bt->end << "\n";
}

TEST_P(Threads, EveryFrameLiesInsideItsCallersFrame) {
  for (const Task& t : tasks_->threads) {
    auto bt = o_.view->backtrace(t);
    ASSERT_TRUE(bt.ok());
    for (const Frame& f : bt->frames) {
      EXPECT_LE(f.sp, f.caller_sp) << t.thread_id << " #" << f.level;
      EXPECT_FALSE(f.stack.empty()) << t.thread_id << " #" << f.level;
    }
  }
}

std::string param_name(const ::testing::TestParamInfo<DumpParam>& info) {
  std::string s = (info.param.flavour == "amd64" ? "" : info.param.flavour + "_") + info.param.scenario + "_" + info.param.file;
  for (char& c : s) {
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return s;
}

// Debian 12's 6.1, the reference kernel, in every way it was dumped.
INSTANTIATE_TEST_SUITE_P(Debian, Threads,
                         ::testing::Values(DumpParam{"amd64", "sysrq-nokaslr", "vmcore.kdump-zlib"},
                                           DumpParam{"amd64", "sysrq-nokaslr", "vmcore.elf"},
                                           DumpParam{"amd64", "sysrq-kaslr", "vmcore.kdump-zlib"},
                                           DumpParam{"amd64", "sysrq-la57", "vmcore.kdump-zlib"},
                                           DumpParam{"amd64", "novmcoreinfo-kaslr", "vmcore.kdump-zlib"},
                                           DumpParam{"amd64", "kdump-kaslr", "vmcore.kdump-zlib"},
                                           DumpParam{"amd64", "kdump-kaslr", "vmcore.elf"},
                                           DumpParam{"amd64", "slub-uaf", "vmcore.kdump-zlib"}),
                         param_name);

// Every other kernel a user brings: Debian 13's 6.12 (Debian 12 offers it too) and the RT and
// cloud builds, each dumped by QEMU and by its own kdump capture kernel, with the test module's
// use after free.
std::vector<DumpParam> every_other_kernel() {
  std::vector<DumpParam> out;
  for (const std::string& flavour : coroner::testing::all_flavours()) {
    if (flavour == "amd64") continue;
    for (auto [scenario, file] : {std::pair{"sysrq-kaslr", "vmcore.kdump-zlib"}, {"kdump-kaslr", "vmcore.kdump-zlib"},
                                  {"kdump-kaslr", "vmcore.elf"}, {"slub-uaf", "vmcore.kdump-zlib"}}) {
      if (coroner::testing::has_scenario(flavour, scenario)) out.push_back({flavour, scenario, file});
    }
  }
  return out;
}
INSTANTIATE_TEST_SUITE_P(EveryKernel, Threads, ::testing::ValuesIn(every_other_kernel()), param_name);

// drgn (0.0.22) on the same real kdump capture: it finds tasks through the pid table, not the
// task list, so the two agree only if coroner read every task the dump holds.
class KdumpThreads : public Threads {};

using TaskKey = std::tuple<int, std::string, uint64_t>;

struct DrgnTasks {
  std::set<TaskKey> tasks;
  int faults = 0;
};

DrgnTasks drgn_tasks(const std::string& flavour, const std::string& file) {
  std::string path = coroner::testing::flavour_dir(flavour) + "/kdump-kaslr/drgn-tasks-" + file + ".jsonl";
  std::ifstream in(path);
  EXPECT_TRUE(in) << path << ": no drgn oracle: scripts/prepare-real-tests.sh makes it";
  DrgnTasks out;
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    if (j.contains("fault")) {
      ++out.faults;
      continue;
    }
    out.tasks.insert({j["pid"].get<int>(), j["comm"].get<std::string>(), std::stoull(j["task"].get<std::string>(), nullptr, 16)});
  }
  return out;
}

TEST_P(KdumpThreads, PsFindsTheTasksDrgnFinds) {
  DrgnTasks drgn = drgn_tasks(GetParam().flavour, GetParam().file);
  std::set<TaskKey> ours;
  for (const Task& t : tasks_->threads) {
    if (!t.idle) ours.insert({t.thread_id, t.comm, t.address});
  }
  std::cout << drgn.tasks.size() << " tasks found by drgn, " << ours.size() << " by coroner; " << drgn.faults
            << " reads drgn could not make\n";
  if (!drgn.faults) {
    EXPECT_EQ(ours, drgn.tasks);
    EXPECT_GT(drgn.tasks.size(), 40u);
    return;
  }
  // A capture that dropped pages (makedumpfile 1.7.2 does not know 6.10+'s slab page type and
  // drops task_structs, pids and xa_nodes with the free pages): coroner, which walks the task list
  // both ways and the pid table, must find every task drgn found, and only tasks the unfiltered
  // capture of the same moment (vmcore.elf, the same /proc/vmcore) holds. drgn's own walk of the
  // pid table can stop at its first node; the second oracle still holds then.
  EXPECT_TRUE(std::includes(ours.begin(), ours.end(), drgn.tasks.begin(), drgn.tasks.end()));
  ASSERT_NE(GetParam().file, "vmcore.elf") << "the unfiltered capture lost pages";
  DrgnTasks whole = drgn_tasks(GetParam().flavour, "vmcore.elf");
  ASSERT_EQ(whole.faults, 0);
  EXPECT_TRUE(std::includes(whole.tasks.begin(), whole.tasks.end(), ours.begin(), ours.end()));
  EXPECT_GT(ours.size(), whole.tasks.size() / 2) << "coroner found under half the tasks of the unfiltered capture";
}

// Every kernel's real kdump capture, raw (/proc/vmcore) and filtered (makedumpfile -d 31); drgn
// 0.0.22 cannot open QEMU's dumps.
std::vector<DumpParam> kdump_captures() {
  std::vector<DumpParam> out;
  for (const std::string& flavour : coroner::testing::all_flavours()) {
    if (!coroner::testing::has_scenario(flavour, "kdump-kaslr")) continue;
    for (const char* file : {"vmcore.elf", "vmcore.kdump-zlib"}) out.push_back({flavour, "kdump-kaslr", file});
  }
  return out;
}
INSTANTIATE_TEST_SUITE_P(EveryKernel, KdumpThreads, ::testing::ValuesIn(kdump_captures()), param_name);

// crash's `ps` knows only the tasks on a CPU on this kernel; each must be ours, on the same CPU.
TEST(ThreadsAgainstCrash, PsAgreesOnTheTasksCrashFinds) {
  for (const char* scenario : {"sysrq-nokaslr", "sysrq-kaslr", "kdump-kaslr"}) {
    Opened o = open_dump(scenario, "vmcore.kdump-zlib");
    ASSERT_TRUE(o.view);
    auto tasks = o.view->tasks();
    ASSERT_TRUE(tasks.ok());
    static const std::regex kRow(R"(^[> ]\s+(\d+)\s+(\d+)\s+(\d+)\s+([0-9a-f]+)\s+(\w+)\s+\S+\s+\d+\s+\d+\s+\[?([^\]]+)\]?$)");
    auto rows = crash_rows(dumps_dir() + "/" + scenario + "/oracle-kdump/ps.txt", kRow);
    for (const auto& m : rows) {
      const std::string& line = m[0];
      uint64_t address = std::stoull(m[4], nullptr, 16);
      const Task* t = (*tasks)->by_address(address);
      ASSERT_NE(t, nullptr) << line;
      EXPECT_EQ(t->thread_id, std::stoi(m[1])) << line;
      EXPECT_EQ(t->active_on.value_or(t->last_cpu.value_or(~0u)), static_cast<uint32_t>(std::stoi(m[3]))) << line;
      EXPECT_EQ(t->comm, m[6]) << line;
    }
    EXPECT_GE(rows.size(), 3u) << scenario;
  }
}

TEST(ThreadsAgainstCrash, ModAgreesWithCrash) {
  for (const char* scenario : {"sysrq-kaslr", "kdump-kaslr"}) {
    Opened o = open_dump(scenario, "vmcore.kdump-zlib");
    ASSERT_TRUE(o.view);
    const ModuleList& modules = o.view->modules();
    static const std::regex kRow(R"(^([0-9a-f]{16})\s+(\S+)\s+([0-9a-f]{16})\s+(\d+)\s.*$)");
    auto rows = crash_rows(dumps_dir() + "/" + scenario + "/oracle-kdump/mod.txt", kRow);
    for (const auto& m : rows) {
      const std::string& line = m[0];
      auto it = std::find_if(modules.modules.begin(), modules.modules.end(),
                             [&](const LoadedModule& mod) { return mod.name == m[2]; });
      ASSERT_NE(it, modules.modules.end()) << line;
      EXPECT_EQ(it->address, std::stoull(m[1], nullptr, 16));
      EXPECT_EQ(it->base, std::stoull(m[3], nullptr, 16));
      EXPECT_EQ(it->size, std::stoull(m[4]));
      EXPECT_GT(it->symbols.size(), 10u);
      EXPECT_GT(it->orc_count, 0u);
    }
    EXPECT_EQ(rows.size(), modules.modules.size()) << scenario;
    EXPECT_EQ(rows.size(), 7u) << scenario;
  }
}

// Source lines against binutils' addr2line on the same vmlinux, for every frame of every task.
TEST(SourceLines, EveryFramesLineIsAddr2linesLine) {
  Opened o = open_dump("sysrq-kaslr", "vmcore.kdump-zlib");
  ASSERT_TRUE(o.view);
  auto tasks = o.view->tasks();
  ASSERT_TRUE(tasks.ok());
  std::vector<std::pair<uint64_t, std::string>> lines;  // link address looked up, our line
  for (const Task& t : (*tasks)->threads) {
    auto bt = o.view->backtrace(t);
    ASSERT_TRUE(bt.ok());
    for (const Frame& f : bt->frames) {
      if (!f.reliable || f.where.function.empty() || !f.where.module.empty()) continue;
      uint64_t pc = f.regs_address || f.source == FrameSource::registers ? f.pc : f.pc - 1;
      lines.emplace_back(pc - o.kernel->layout().kaslr_offset, f.line);
    }
  }
  ASSERT_GT(lines.size(), 300u);
  std::string command = "addr2line -e " + dumps_dir() + "/kernel/vmlinux";
  for (const auto& [address, line] : lines) {
    std::ostringstream a;
    a << " 0x" << std::hex << address;
    command += a.str();
  }
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, pipe)) output.append(buf, n);
  pclose(pipe);
  std::istringstream in(output);
  std::string theirs;
  size_t i = 0, known = 0;
  for (; i < lines.size() && std::getline(in, theirs); ++i) {
    theirs = theirs.substr(0, theirs.find(" (discriminator"));
    const std::string& ours = lines[i].second;
    if (theirs.rfind("??", 0) == 0) continue;
    ++known;
    ASSERT_FALSE(ours.empty()) << std::hex << lines[i].first << " addr2line: " << theirs;
    EXPECT_TRUE(theirs.size() >= ours.size() && theirs.compare(theirs.size() - ours.size(), ours.size(), ours) == 0)
        << std::hex << lines[i].first << ": ours " << ours << ", addr2line " << theirs;
  }
  EXPECT_EQ(i, lines.size());
  EXPECT_GT(known, lines.size() * 9 / 10);
}

// The guest left two `cat`s blocked reading one FIFO whose writer is `sleep`: both readers' wait
// queue entries are linked into the same pipe_inode_info, found here from the writer's fd 1.
struct Fifo {
  uint64_t pipe = 0, size = 0, private_data_slot = 0;
  std::set<int> readers;
};
Fifo find_fifo(Opened& o) {
  Fifo f;
  auto tasks = o.view->tasks();
  EXPECT_TRUE(tasks.ok());
  const Task* writer = nullptr;
  for (const Task& t : (*tasks)->threads) {
    if (t.comm == "cat") f.readers.insert(t.thread_id);
    if (t.comm == "sleep") writer = &t;
  }
  EXPECT_NE(writer, nullptr);
  EXPECT_EQ(f.readers.size(), 2u);
  if (!writer) return f;
  std::ostringstream file;
  file << "((struct task_struct *)0x" << std::hex << writer->address << ")->files->fdt->fd[1]";
  auto pipe = evaluate_address(*o.objects, file.str() + "->private_data");
  auto slot = evaluate_address(*o.objects, "&" + file.str() + "->private_data");
  auto type = o.objects->debug().find_type("struct pipe_inode_info");
  EXPECT_TRUE(pipe.ok() && slot.ok() && type.ok());
  if (!pipe || !slot || !type) return f;
  f.pipe = *pipe;
  f.private_data_slot = *slot;
  f.size = (*type)->size;
  return f;
}

// QEMU's dumps and the capture kernel's (raw /proc/vmcore, and makedumpfile -d 31 without user,
// free and cache pages).
const std::pair<const char*, const char*> kDumpsWithTheFifo[] = {
    {"sysrq-kaslr", "vmcore.kdump-zlib"}, {"sysrq-kaslr", "vmcore.elf"},
    {"kdump-kaslr", "vmcore.kdump-zlib"}, {"kdump-kaslr", "vmcore.elf"}};

TEST(Whatthread, BothFifoReadersHoldThePipeInPipeReadFrames) {
  for (const auto& [scenario, file] : kDumpsWithTheFifo) {
    Opened o = open_dump(scenario, file);
    ASSERT_TRUE(o.view);
    Fifo fifo = find_fifo(o);
    ASSERT_NE(fifo.pipe, 0u);
    auto refs = find_stack_references(*o.view, fifo.pipe, fifo.pipe + fifo.size);
    ASSERT_TRUE(refs.ok());
    std::set<int> holders, in_pipe_read;
    for (const auto& r : *refs) {
      holders.insert(r.thread->thread_id);
      ASSERT_TRUE(r.location.has_value());
      EXPECT_GE(r.value, fifo.pipe);
      EXPECT_LT(r.value, fifo.pipe + fifo.size);
      auto word = o.kernel->read_u64(*r.location);
      ASSERT_TRUE(word.ok());
      EXPECT_EQ(*word, r.value);
      if (r.place.frame && r.place.frame->where.function == "pipe_read") in_pipe_read.insert(r.thread->thread_id);
    }
    EXPECT_EQ(holders, fifo.readers) << scenario << " " << file;
    EXPECT_EQ(in_pipe_read, fifo.readers) << scenario << " " << file;
  }
}

// The physical scan and the stack walk are independent paths (one reads physical pages, the other
// translates the vmalloc'd stacks): each must find what the other finds.
TEST(Search, PhysicalScanFindsThePipeOnBothStacksAndInTheWritersFile) {
  for (const auto& [scenario, file] : kDumpsWithTheFifo) {
    SCOPED_TRACE(std::string(scenario) + " " + file);
    Opened o = open_dump(scenario, file);
    ASSERT_TRUE(o.view);
    Fifo fifo = find_fifo(o);
    ASSERT_NE(fifo.pipe, 0u);
    auto result = search_physical(*o.view, {fifo.pipe, ~uint64_t{0}, 100000, true});
    // Every byte the dump holds: all of an ELF dump's segments; of makedumpfile -d 31's, the pages
    // it kept (about 85 MiB), not the excluded ones.
    if (std::string(file) == "vmcore.elf") {
      EXPECT_EQ(result.bytes_scanned, o.kernel->dump().physical_memory_size());
    } else {
      EXPECT_LE(result.bytes_scanned, o.kernel->dump().physical_memory_size());
    }
    EXPECT_GT(result.bytes_scanned, 80ull << 20);
    std::set<uint64_t> found;
    for (const auto& h : result.hits) {
      EXPECT_EQ(h.word, fifo.pipe);
      ASSERT_TRUE(h.virtual_address.has_value());
      auto word = o.kernel->read_u64(*h.virtual_address);
      ASSERT_TRUE(word.ok()) << std::hex << *h.virtual_address;
      EXPECT_EQ(*word, fifo.pipe) << h.where;
      found.insert(*h.virtual_address);
    }
    EXPECT_TRUE(found.count(fifo.private_data_slot)) << "file->private_data of the writer's fd 1";
    auto refs = find_stack_references(*o.view, fifo.pipe, fifo.pipe + 1);
    ASSERT_TRUE(refs.ok());
    ASSERT_FALSE(refs->empty());
    for (const auto& r : *refs) EXPECT_TRUE(found.count(*r.location)) << std::hex << *r.location;
  }
}

// However many threads share the pass, it finds the same words and lists the first ones by address.
TEST(Search, ThreadsShareThePassWithoutChangingItsAnswer) {
  for (const auto& [scenario, file] : kDumpsWithTheFifo) {
    SCOPED_TRACE(std::string(scenario) + " " + file);
    Opened o = open_dump(scenario, file);
    ASSERT_TRUE(o.view);
    // Every word whose upper half is a kernel address's: hundreds of thousands, over all memory.
    SearchRequest request{0xffff800000000000, 0xffff800000000000, 5000, false, 1};
    auto one = search_physical(*o.view, request);
    EXPECT_EQ(one.threads, 1u);
    ASSERT_EQ(one.hits.size(), 5000u);
    EXPECT_GT(one.total_hits, 100000u);
    EXPECT_TRUE(std::is_sorted(one.hits.begin(), one.hits.end(),
                               [](const SearchHit& a, const SearchHit& b) { return a.physical < b.physical; }));
    for (unsigned threads : {2u, 3u}) {
      request.threads = threads;
      auto many = search_physical(*o.view, request);
      EXPECT_EQ(many.threads, threads);
      EXPECT_EQ(many.total_hits, one.total_hits);
      EXPECT_EQ(many.bytes_scanned, one.bytes_scanned);
      EXPECT_EQ(many.bytes_unreadable, one.bytes_unreadable);
      ASSERT_EQ(many.hits.size(), one.hits.size());
      for (size_t i = 0; i < one.hits.size(); ++i) {
        ASSERT_EQ(many.hits[i].physical, one.hits[i].physical) << i;
        ASSERT_EQ(many.hits[i].word, one.hits[i].word) << i;
      }
    }
  }
}

}  // namespace

namespace {

// The modules the guest's kernel listed in /proc/modules before it crashed (scripts/guest-init.sh
// printed each line): name -> {address, size}.
std::map<std::string, std::pair<uint64_t, uint64_t>> proc_modules(const std::string& console) {
  static const std::regex kLine(R"(coroner-guest: /proc/modules: (\S+) (\d+) \d+ \S+ \S+ 0x([0-9a-f]+))");
  std::map<std::string, std::pair<uint64_t, uint64_t>> out;
  for (std::sregex_iterator it(console.begin(), console.end(), kLine), end; it != end; ++it) {
    out[(*it)[1]] = {std::stoull((*it)[3], nullptr, 16), std::stoull((*it)[2])};
  }
  return out;
}

class Modules : public ::testing::TestWithParam<std::string> {};

// `mod` against the kernel's own /proc/modules (address and size) on every kernel, whatever
// struct module's layout (core_layout, or mem[] since 6.4); and against the oops's "Modules linked
// in:" line, which names every module loaded when the test module crashed.
TEST_P(Modules, ModListsWhatTheKernelListed) {
  std::string dir = coroner::testing::flavour_dir(GetParam());
  if (dir.empty()) GTEST_SKIP() << "no dumps of linux-image-" << GetParam() << " were made (CORONER_KERNELS)";
  DebugInfo& debug = coroner::testing::debug_info_of(dir);
  for (const char* scenario : {"sysrq-kaslr", "kdump-kaslr"}) {
    SCOPED_TRACE(scenario);
    auto listed = proc_modules(slurp(dir + "/" + scenario + "/console.log"));
    Opened o = coroner::testing::open_dump_in(dir, scenario, "vmcore.kdump-zlib", debug);
    ASSERT_TRUE(o.view);
    const ModuleList& modules = o.view->modules();
    EXPECT_TRUE(modules.problems.empty()) << modules.problems.front();
    EXPECT_EQ(modules.modules.size(), listed.size());
    for (const LoadedModule& m : modules.modules) {
      auto it = listed.find(m.name);
      ASSERT_NE(it, listed.end()) << m.name << " is not in /proc/modules";
      EXPECT_EQ(m.base, it->second.first) << m.name;
      EXPECT_EQ(m.size, it->second.second) << m.name;
      EXPECT_GT(m.symbols.size(), 10u) << m.name;
      EXPECT_GT(m.orc_count, 0u) << m.name;
      EXPECT_TRUE(m.contains(m.base) && m.in_text(m.base)) << m.name;
    }
  }
  std::string oops = slurp(dir + "/slub-uaf/console.log");
  std::smatch linked;
  ASSERT_TRUE(std::regex_search(oops, linked, std::regex(R"(Modules linked in: ([^\r\n]*))")));
  std::set<std::string> named, ours;
  std::istringstream words(linked[1].str());
  for (std::string w; words >> w;) named.insert(w.substr(0, w.find('(')));
  Opened uaf = coroner::testing::open_dump_in(dir, "slub-uaf", "vmcore.kdump-zlib", debug);
  ASSERT_TRUE(uaf.view);
  for (const LoadedModule& m : uaf.view->modules().modules) ours.insert(m.name);
  EXPECT_EQ(ours, named);
}

INSTANTIATE_TEST_SUITE_P(EveryKernel, Modules,
                         ::testing::ValuesIn(coroner::testing::all_flavours()), coroner::testing::flavour_test_name);

}  // namespace
