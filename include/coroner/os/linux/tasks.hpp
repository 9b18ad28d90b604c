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
#include "coroner/target/thread_list.hpp"

namespace coroner::linux_kernel {

// A task is a Thread (target/thread.hpp): thread_id is its pid, process_id its tgid, parent_id its
// ppid, sp its thread.sp.
using Task = Thread;

// The per-CPU copy of a per-CPU variable (`runqueues`, `hardirq_stack_ptr`) on `cpu`.
Result<uint64_t> per_cpu_address(TypedMemory& objects, std::string_view symbol, uint32_t cpu);

Result<ThreadList> read_tasks(TypedMemory& objects);

}  // namespace coroner::linux_kernel
