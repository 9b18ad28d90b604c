#pragma once
// Every Linux task in the dump (each process's threads, and one idle task per CPU), what each CPU
// was running at the crash, and where each CPU's stacks are. Read from the kernel's own structures
// (init_task.tasks, signal->thread_head, per-CPU runqueues) with the layout from DWARF.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "coroner/dump/notes.hpp"
#include "coroner/target/object.hpp"
#include "coroner/target/stack_range.hpp"
#include "coroner/target/thread.hpp"

namespace coroner::linux_kernel {

// A task is a Thread (target/thread.hpp): thread_id is its pid, process_id its tgid, parent_id its
// ppid, sp its thread.sp.
using Task = Thread;

struct Cpu {
  uint32_t id = 0;
  uint64_t per_cpu_offset = 0;
  uint64_t current = 0;  // rq->curr
  uint64_t idle = 0;     // rq->idle
  std::optional<PrStatus> registers;  // from the dump's notes
  std::vector<StackRange> stacks;     // IRQ and exception stacks ("IRQ", "NMI", "DF", "DB", "MCE", "VC", "VC2")
};

struct TaskList {
  std::vector<Task> tasks;  // idle tasks by CPU, then processes and their threads in list order
  std::vector<Cpu> cpus;
  std::optional<uint32_t> panic_cpu;  // from panic_cpu / crashing_cpu / the dump header
  uint64_t thread_size = 0;
  std::vector<std::string> problems;  // what could not be read, and where

  const Task* by_pid(uint64_t pid) const;
  const Task* by_address(uint64_t task) const;
  const Task* active_on(uint32_t cpu) const;
  const Cpu* cpu(uint32_t id) const;
  StackRange task_stack(const Task& t) const { return {"task", t.stack_low, t.stack_high}; }
  // Every stack `t` may be running on: its own, and when it is on a CPU, that CPU's IRQ and
  // exception stacks.
  std::vector<StackRange> stacks_of(const Task& t) const;
};

// The per-CPU copy of a per-CPU variable (`runqueues`, `hardirq_stack_ptr`) on `cpu`.
Result<uint64_t> per_cpu_address(TypedMemory& objects, std::string_view symbol, uint32_t cpu);

Result<TaskList> read_tasks(TypedMemory& objects);

// "RU", "IN", "UN", "ID"...: crash's abbreviations of a kernel state letter.
const char* crash_state_name(char state);

}  // namespace coroner::linux_kernel
