#pragma once
// A kernel thread as every target reports it: a Linux task, an illumos kthread_t, a FreeBSD
// struct thread. Each field is what the kernel at hand says; what it has no notion of keeps its
// default.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "coroner/dump/notes.hpp"

namespace coroner {

struct Thread {
  uint64_t address = 0;    // the thread structure: task_struct, kthread_t, struct thread
  uint64_t thread_id = 0;  // Linux's pid, illumos' t_did, FreeBSD's td_tid
  int64_t process_id = -1; // Linux's tgid, the process's p_pid
  int64_t parent_id = -1;  // Linux's ppid
  int64_t lwp = -1;        // illumos and FreeBSD: the lwp's id within its process
  std::string comm;
  char state = '?';         // the kernel's letter: Linux's R S D T t X Z P I, a model's from its states table
  uint64_t state_bits = 0;  // Linux: __state | exit_state
  std::optional<uint32_t> last_cpu;  // the CPU it last ran on, when the kernel keeps it (Linux)
  std::optional<uint32_t> active_on;  // the CPU it was running on at the crash
  bool idle = false;        // a CPU's idle task
  bool kernel_thread = false;
  uint64_t stack_low = 0, stack_high = 0;  // its own kernel stack, [low, high)
  // Where it was switched out (Linux keeps only sp: thread.sp, its inactive_task_frame), or for a
  // model kernel's thread on a CPU, its registers at the crash.
  uint64_t pc = 0, sp = 0, fp = 0;
  std::optional<PrStatus> registers;  // all its registers at the crash, when a note names the thread
  uint64_t interrupt_stack_size = 0;  // a model's: sp may be on an interrupt stack this big
  uint64_t interrupted_sp = 0;        // then: the stack pointer on its own stack the interrupt left
  std::vector<std::string> problems;  // fields that could not be read

  bool on_own_stack(uint64_t a) const { return a >= stack_low && a < stack_high; }
  // [low, high) of the interrupt stack its registers' stack pointer is on, if it is on one.
  std::optional<std::pair<uint64_t, uint64_t>> interrupt_stack() const {
    if (!interrupt_stack_size || !sp || on_own_stack(sp)) return std::nullopt;
    uint64_t low = sp & ~(interrupt_stack_size - 1);
    return std::pair{low, low + interrupt_stack_size};
  }
};

}  // namespace coroner
