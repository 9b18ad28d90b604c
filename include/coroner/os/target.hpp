#pragma once
// A kernel opened for analysis, the one object every typed command gets: the dump, the vmlinux's
// debug info and the typed memory between them, and which kernel it is, decided once: Linux (a
// LinuxView over its own structures) or one of data/os/'s models. Nothing else opens a dump with
// its types.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "coroner/debuginfo/debug_info.hpp"
#include "coroner/os/allocation.hpp"
#include "coroner/os/identity.hpp"
#include "coroner/os/linux/fault.hpp"
#include "coroner/os/linux/kernel_summary.hpp"
#include "coroner/os/linux/linux_view.hpp"
#include "coroner/os/linux/slab_allocation.hpp"
#include "coroner/os/linux/slub.hpp"
#include "coroner/os/model/os_model.hpp"
#include "coroner/poison/poison_catalog.hpp"
#include "coroner/target/kernel.hpp"
#include "coroner/target/object.hpp"
#include "coroner/target/stack_slot.hpp"
#include "coroner/target/thread_list.hpp"
#include "coroner/target/unwinder.hpp"

namespace coroner {

struct TargetOptions {
  std::string dump, vmlinux;              // vmlinux: empty to look for it (`search`)
  std::vector<std::string> module_dirs;   // the loaded modules' .ko files with debug info (Linux);
                                          // empty: the release's under the debug directories
  std::vector<std::string> poison_files;  // catalogs added to data/poison.yaml's
  DebugSearch search;                     // where the vmlinux is looked for when not given
  IndexCacheSettings cache;               // where the debug files' indexes are kept (none: empty)
};

// Which kernel the dump holds: "linux", or the OS of the model whose symbols its vmlinux has.
std::string kernel_os(const Kernel& kernel);

// What the kernel says about its crash, as analyze takes it: the summary, the panic texts the
// rules match, and what could not be read.
struct CrashAccount {
  linux_kernel::KernelSummary summary;
  std::vector<std::string> panic;
  std::vector<std::string> problems;
};

struct DebugSources {
  std::string symbols, types;
};

struct Target {
  // Opens the dump and the vmlinux, refuses a vmlinux whose symbols do not match the dump (saying
  // how to check), and detects the kernel. `kernel`: a dump already opened (`info` and `log` open
  // one before they know they need types).
  static Result<Target> open(const TargetOptions& options, std::unique_ptr<Kernel> kernel = nullptr);

  std::unique_ptr<Kernel> kernel;
  std::unique_ptr<DebugInfo> debug;
  std::unique_ptr<TypedMemory> objects;
  std::unique_ptr<linux_kernel::LinuxView> view;  // Linux: its structures, with the modules' debug info
  const os_model::OsModel* model = nullptr;       // a kernel data/os/ describes; then `view` is null
  PoisonCatalog poison;                           // the shipped catalog and the options' files
  std::vector<std::string> warnings;              // the debug info's index problems

  // Which kernel: "linux", or the model's OS ("illumos", "freebsd"; "linux" for an old Linux).
  std::string os() const { return kernel_os(*kernel); }
  // Every thread and CPU, read on first use, with the one that panicked; fails, saying why, when
  // no thread can be read.
  Result<const ThreadList*> threads();
  // A thread's frames, from its registers at the crash or where it was switched out.
  Result<Backtrace> backtrace(const Thread& thread);
  // Every word on every thread's stacks (and the registers of threads on a CPU) that `match`
  // accepts, placed in the frame that holds it.
  Result<std::vector<StackReference>> stack_references(const std::function<bool(uint64_t)>& match);
  // What an address is (whatis), with the word it holds and that word's poison.
  Identity identify(uint64_t address);
  // The code at a run-time address, named from the vmlinux or (Linux) a module's symbols;
  // `return_address`: named as the call before it (%pB).
  CodeLocation locate(uint64_t pc, bool return_address);
  // Linux's own structures, for what only they give (`needs`: "the slab caches", "the loaded
  // modules"); on a model kernel, an error naming the kernel, what it lacks, and the commands that
  // do work there: said in this one place.
  Result<linux_kernel::LinuxView*> linux_structures(std::string_view command, std::string_view needs);
  // The kernel's crash machinery, which a crash signature skips: Linux's panic() and entry code, a
  // model's `panic_machinery` (a name, or a prefix ending in '*').
  const std::vector<std::string>& crash_machinery() const;
  // The type of a thread structure ("struct task_struct"), when the debug info names one.
  const Type* thread_type() const;
  // Where the symbols and the types were read from, for the reports: the vmlinux's DWARF, or (with
  // no vmlinux) the dump's kallsyms and BTF.
  DebugSources debug_sources() const;
  // The kernel's log: Linux's printk ring, or the model's message buffer.
  Result<KernelLog> log() const;
  // What the kernel says about itself: release, CPUs, the panic.
  linux_kernel::KernelSummary summary() const;
  // The crash as the kernel tells it, from its variables and `log` (read once by the caller).
  CrashAccount crash_account(const Result<KernelLog>& log);
  // The allocator's object `address` is in, with its last allocation and free when `history`:
  // SLUB's object for any address inside it (its page says which slab), a kmem buffer for its
  // start (its buftag vouches for it). nullopt when it is in none, or the allocator is unreadable.
  std::optional<Allocation> allocation_at(uint64_t address, bool history = false);
  // Where and why the kernel faulted, from the crashing thread's backtrace: an exception's
  // registers and the code they ran (Linux). nullopt without an exception, or on a kernel
  // coroner has no fault reader for (a model's).
  std::optional<linux_kernel::FaultExplanation> explain_fault(const Backtrace& bt, const KernelLog* log);
  // Where a word of the thread's own stack sits among the frames of `bt`, its backtrace.
  SlotPlace place_on_stack(const Thread& thread, const Backtrace& bt, uint64_t location) const;
  // What was met on the way (unreadable tasks, modules, ORC tables), for the user.
  std::vector<std::string> problems() const;

  // The slab allocator, read on first use; null when unreadable (`slub_problem` says why) or not Linux.
  linux_kernel::Slub* slub();
  std::optional<std::string> slub_problem;

 private:
  std::optional<Result<linux_kernel::Slub>> slub_;
  std::optional<Result<ThreadList>> model_threads_;
  std::unique_ptr<Unwinder> model_unwinder_;
  std::optional<std::optional<os_model::KmemBuffers>> kmem_;  // a model's allocator, read on first use
  std::optional<linux_kernel::JiffyClock> jiffies_;            // SLUB's tracks' clock, read on first use
  const os_model::KmemBuffers* kmem();
  const Unwinder& model_unwinder();  // a model kernel's, made on first use
};

// The log and summary of a kernel that can be read from the dump alone (Linux: VMCOREINFO locates
// the printk ring); nullopt when the kernel is one a model reads through its types, so a Target
// must be opened first.
std::optional<Result<KernelLog>> log_without_types(const Kernel& kernel);
std::optional<linux_kernel::KernelSummary> summary_without_types(const Kernel& kernel);

// The OS model whose symbols the kernel's vmlinux has, if any: not Linux.
const os_model::OsModel* os_model_of(const Kernel& kernel);
// The shipped poison catalog with `files` merged in.
Result<PoisonCatalog> poison_catalog(const std::vector<std::string>& files);

}  // namespace coroner
