#pragma once
// Every thread a kernel had at the crash and what each CPU was running, as every target reports
// them: Linux's tasks and runqueues, a model kernel's thread list. What a kernel does not say
// (a model reads no CPUs) stays empty.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "coroner/dump/notes.hpp"
#include "coroner/target/stack_range.hpp"
#include "coroner/target/thread.hpp"

namespace coroner {

struct Cpu {
  uint32_t id = 0;
  uint64_t per_cpu_offset = 0;
  uint64_t current = 0;  // the thread it was running (Linux: rq->curr)
  uint64_t idle = 0;     // its idle thread (rq->idle)
  std::optional<PrStatus> registers;  // from the dump's notes
  std::vector<StackRange> stacks;     // interrupt and exception stacks ("IRQ", "NMI", "DF", ...)
};

// Which id the kernel's messages and its engineers name a thread by: Linux's per-task pid (a
// Thread's thread_id), or, on kernels that number threads inside processes, the process's id.
enum class ThreadNaming { thread_id, process_id };

struct ThreadList {
  std::vector<Thread> threads;  // Linux: idle tasks by CPU, then processes and their threads in list order
  std::vector<Cpu> cpus;
  std::optional<uint32_t> panic_cpu;   // Linux: panic_cpu / crashing_cpu / the dump header
  std::optional<size_t> crashed;       // index of the thread that panicked, when known
  std::optional<std::string> panic_message;  // what the kernel's own panic variable or log says
  uint64_t thread_size = 0;            // bytes of a thread's stack, when the kernel fixes one
  std::vector<std::string> problems;   // what could not be read, and where
  ThreadNaming naming = ThreadNaming::thread_id;

  // The thread with this id (Linux's pid), a CPU's idle thread last.
  const Thread* by_id(uint64_t id) const;
  const Thread* by_address(uint64_t address) const;
  const Thread* active_on(uint32_t cpu) const;
  const Cpu* cpu(uint32_t id) const;
  const Thread* crashed_thread() const { return crashed && *crashed < threads.size() ? &threads[*crashed] : nullptr; }
  size_t index_of(const Thread& t) const { return static_cast<size_t>(&t - threads.data()); }
  StackRange own_stack(const Thread& t) const { return {"task", t.stack_low, t.stack_high}; }
  // Every stack `t` may be running on: its own, and when it is on a CPU, that CPU's interrupt and
  // exception stacks.
  std::vector<StackRange> stacks_of(const Thread& t) const;
};

// mdb's "ksh/1": the process's command and the thread's lwp id.
std::string thread_name(const Thread& thread);
// "0xffffd033e590a400 (sh/1, pid 101)".
std::string thread_label(const Thread& thread);
// The pid the thread is named by, as `threads.naming` says.
int64_t named_pid(const ThreadList& threads, const Thread& thread);
// How analysis names a thread in its evidence: "pid 7 (ext4lazyinit)" where threads are named by
// their own pid (Linux), thread_label's address and process id where they are not.
std::string evidence_label(const ThreadList& threads, const Thread& thread);
// The label of the thread at `address`, or the address and that no thread on the list is there.
std::string thread_label(const ThreadList& threads, uint64_t address);

}  // namespace coroner
