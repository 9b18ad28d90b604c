#pragma once
// Where a Linux task's unwind starts, on x86-64: from the CPU's registers (the dump's notes) for
// tasks running at the crash, from the saved switch frame (thread.sp -> inactive_task_frame) for
// the others; across the task's stack and its CPU's IRQ and exception stacks. The unwinding itself
// is the one every kernel shares (target/unwinder.hpp), given the kernel's ORC tables.
#include "coroner/arch/x86_64_registers.hpp"
#include "coroner/os/linux/tasks.hpp"
#include "coroner/target/unwinder.hpp"

namespace coroner::linux_kernel {

using x86_64::kPtRegsCount;
using x86_64::pt_regs_name;
using x86_64::PtRegs;
using x86_64::register_value;
using x86_64::user_mode;

// The backtrace of `task`, as the kernel's own ORC unwinder computes it.
Backtrace task_backtrace(const Kernel& kernel, const ThreadList& tasks, const Unwinder& unwinder, const Task& task);

}  // namespace coroner::linux_kernel
