#pragma once
// A Linux kernel seen through its dump and debug info: tasks, modules, ORC tables and the
// unwinder, each read once on first use. The commands that need threads (ps, bt, whatthread,
// search --stacks) share one.
#include <memory>
#include <optional>

#include "coroner/os/linux/backtrace.hpp"
#include "coroner/os/linux/kernel_btf.hpp"
#include "coroner/os/linux/module_debuginfo.hpp"
#include "coroner/os/linux/modules.hpp"
#include "coroner/os/linux/tasks.hpp"

namespace coroner::linux_kernel {

class LinuxView {
 public:
  explicit LinuxView(TypedMemory& objects) : objects_(objects) {}
  ~LinuxView();  // takes its modules' debug info back out of the kernel's
  LinuxView(const LinuxView&) = delete;
  LinuxView& operator=(const LinuxView&) = delete;
  TypedMemory& objects() { return objects_; }

  Result<const ThreadList*> tasks();
  // The same, with the panicking task (panicking_task()) marked as `crashed`.
  Result<const ThreadList*> threads();
  // Modules are optional: a kernel without them (or an unreadable list) gives an empty list and
  // a problem.
  const ModuleList& modules();
  // Loads the .ko debug info of the loaded modules found under `dirs` and makes it reachable
  // through the kernel's debug info (types, variables), the unwinder (ORC) and bt (lines).
  // Call before the first orc() or backtrace().
  // Modules none of `dirs` holds are looked for by their build-ids, when `search` is given.
  // Their name indexes are kept in `cache`.
  void load_module_debug(const std::vector<std::string>& dirs, const std::optional<DebugSearch>& search = std::nullopt,
                         const IndexCache& cache = IndexCache({}));
  const ModuleDebugSet& module_debug() const { return module_debug_; }
  // With the kernel's types from BTF: the loaded modules' BTF (those no .ko was loaded for), made
  // reachable through the kernel's types.
  void load_module_btf();
  const x86_64::OrcIndex& orc();
  Result<Backtrace> backtrace(const Task& task);
  // The task that called panic(): the panicking CPU's current task, unless that is its idle task
  // whose stack holds no panic() while another task that last ran there does (under PREEMPT_RT
  // panic() can block on a sleeping lock, and the CPU goes idle). Null when no CPU is known.
  const Task* panicking_task();
  // file:line and the DWARF call frame rule of a run-time code address, from the vmlinux or a
  // module's .ko; empty when neither covers it.
  std::string source_line(uint64_t pc);
  std::optional<CallFrameRule> call_frame_rule(uint64_t pc);
  // Problems met while reading tasks, modules and ORC tables, for the user.
  std::vector<std::string> problems() const;

 private:
  TypedMemory& objects_;
  std::optional<Result<ThreadList>> tasks_;
  bool crashed_known_ = false;
  std::optional<ModuleList> modules_;
  ModuleDebugSet module_debug_;
  std::vector<ModuleBtf> module_btf_;
  std::vector<std::string> module_btf_problems_;
  std::optional<x86_64::OrcIndex> orc_;
  std::optional<Unwinder> unwinder_;  // one for all backtraces: text ranges and line tables are shared
  std::vector<std::string> orc_problems_;
  // The debug info covering a run-time code address and the address to ask it with: the vmlinux
  // (link-time addresses) or a module's relocated .ko (run-time ones).
  std::pair<DebugInfo*, uint64_t> debug_info_for(uint64_t pc);
};

}  // namespace coroner::linux_kernel
