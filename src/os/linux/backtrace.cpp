#include "coroner/os/linux/backtrace.hpp"

#include "coroner/format.hpp"

namespace coroner::linux_kernel {
namespace slot = x86_64::pt_regs_slot;

Backtrace task_backtrace(const Kernel& k, const ThreadList& tasks, const Unwinder& unwinder, const Task& task) {
  Backtrace out;
  UnwindStart s;
  const Cpu* cpu = task.active_on ? tasks.cpu(*task.active_on) : nullptr;
  if (cpu && cpu->registers) {
    PtRegs regs = x86_64::regs_from_note(*cpu->registers);
    out.start = "registers of CPU " + std::to_string(cpu->id) + " (NT_PRSTATUS)";
    out.start_regs = regs;
    if (user_mode(regs)) {
      out.user_regs = regs;
      out.end = "user mode";
      return out;
    }
    s.ip = regs[slot::ip];
    s.sp = regs[slot::sp];
    s.bp = regs[slot::bp];
    s.regs = regs;
    s.exact_ip = true;
  } else {
    if (task.active_on) out.start = "CPU " + std::to_string(*task.active_on) + " has no registers in the dump; ";
    // __switch_to_asm pushed an inactive_task_frame: r15 r14 r13 r12 bx bp, then the return address.
    auto bp = k.read_u64(task.sp + 5 * 8), ip = k.read_u64(task.sp + 6 * 8);
    out.start += "saved switch frame at thread.sp " + hex(task.sp);
    if (!bp || !ip) {
      out.end = "switch frame unreadable: " + (bp ? ip.error() : bp.error()).message;
      out.reliable = false;
      return out;
    }
    s.sp = task.sp + 7 * 8;
    s.bp = *bp;
    s.ip = *ip;
    auto ret_from_fork = k.symbol_address("ret_from_fork");
    s.exact_ip = ret_from_fork && *ip == *ret_from_fork;
  }
  unwinder.unwind(s, tasks.stacks_of(task), out);
  return out;
}

}  // namespace coroner::linux_kernel
