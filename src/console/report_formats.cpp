#include "report_formats.hpp"


#include "coroner/console/stack_frames.hpp"

namespace coroner::console {
namespace {

using enum Role;
using FS = FrameSource;
using TR = TypeRule;

// Most specific first: the first format whose needle and pattern match a line names it. Formats
// from the kernel's printk sources (mm/kasan/report.c, mm/kfence/report.c, mm/kmsan/report.c,
// lib/ubsan.c, kernel/locking/lockdep.c, kernel/rcu/tree_stall.h, kernel/watchdog*.c,
// kernel/hung_task.c, kernel/sched/core.c, lib/list_debug.c, lib/refcount.c, lib/debugobjects.c,
// mm/slub.c, mm/page_alloc.c, mm/memory.c, mm/kmemleak.c, mm/oom_kill.c, kernel/panic.c,
// arch/x86/kernel/dumpstack.c, traps.c, arch/x86/mm/fault.c, arch/arm64/mm/fault.c,
// arch/arm64/kernel/traps.c); titles in syzbot's published convention.
constexpr Format kFormats[] = {
    // Messages printed just before the WARNING or BUG they name.
    Format{"list-corruption", "list", false, R"(^h?list_\w+ (corruption|double add))", preface,
           "BUG: corrupted list in {func}", "data-corruption", TR::fixed, FS::location, 0, false, "oops", ""},
    Format{"refcount", "refcount_t: ", true, R"(^refcount_t: (.+?)\.?$)", preface, "WARNING: refcount bug in {func}",
           "refcount", TR::refcount, FS::location, 0, false, "warn", ""},
    Format{"odebug", "ODEBUG: ", true, R"(^ODEBUG: )", preface, "WARNING: ODEBUG bug in {func}", "object-lifetime",
           TR::fixed, FS::location, kAllocator, false, "warn", ""},
    Format{"slab-kind", "[", true, R"(^\[((?:Left |Right )?Redzone overwritten|Poison overwritten|Object padding overwritten|Padding overwritten)\])",
           preface, "", "data-corruption", TR::slab, FS::trace, kAllocator, false, "taint", ""},
    Format{"memory-leak-banner", "BUG: memory leak", true, R"(^BUG: memory leak$)", preface, "memory leak in {func}",
           "memory-leak", TR::fixed, FS::trace, kAllocator, false, "", ""},
    // The sanitizers.
    Format{"kasan", "BUG: KASAN: ", true, R"(^BUG: KASAN: (.+?) in (\S+))", header, "KASAN: {1} {access} in {func}",
           "invalid-access", TR::kasan, FS::header, kAllocator, false, "warn", "bad-access in {func}"},
    Format{"kasan-range", "KASAN: ", true, R"(^KASAN: (?:maybe )?([a-z-]+) in range)", continuation, "general protection fault in {func}", "invalid-access",
           TR::kasan, FS::location, 0, true, "oops", ""},
    Format{"kfence", "BUG: KFENCE: ", true, R"(^BUG: KFENCE: (.+?) in (\S+))", header, "KFENCE: {1} in {func}",
           "invalid-access", TR::kfence, FS::header, kAllocator, false, "warn", "bad-access in {func}"},
    Format{"kmsan", "BUG: KMSAN: ", true, R"(^BUG: KMSAN: (\S+) in (\S+))", header, "KMSAN: {1} in {func}",
           "uninit-value", TR::kmsan, FS::header, 0, false, "warn", ""},
    Format{"ubsan", "UBSAN: ", true, R"(^UBSAN: (.+?) in \S+)", header, "UBSAN: {1} in {func}", "undefined-behavior",
           TR::ubsan, FS::trace, 0, false, "warn", ""},
    // lockdep.
    Format{"circular-locking", "WARNING: possible circular locking", true, R"(^WARNING: possible circular locking dependency detected)",
           header, "possible deadlock in {func}", "lockdep", TR::fixed, FS::lock_at, 0, false, "warn", ""},
    Format{"recursive-locking", "WARNING: possible recursive locking", true, R"(^WARNING: possible recursive locking detected)",
           header, "possible deadlock in {func}", "lockdep", TR::fixed, FS::lock_at, 0, false, "warn", ""},
    Format{"irq-inversion", "WARNING: possible irq lock inversion", true, R"(^WARNING: possible irq lock inversion dependency detected)",
           header, "possible deadlock in {func}", "lockdep", TR::fixed, FS::lock_at, 0, false, "warn", ""},
    Format{"irq-lock-order", "WARNING: ", true, R"(^WARNING: (?:HARD|SOFT)IRQ-(?:READ-)?safe -> (?:HARD|SOFT)IRQ-(?:READ-)?unsafe lock order detected)",
           header, "possible deadlock in {func}", "lockdep", TR::fixed, FS::lock_at, 0, false, "warn", ""},
    Format{"inconsistent-lock", "WARNING: inconsistent lock state", true, R"(^WARNING: inconsistent lock state)", header,
           "inconsistent lock state in {func}", "lockdep", TR::fixed, FS::lock_at, 0, false, "warn", ""},
    Format{"bad-unlock", "WARNING: bad unlock balance", true, R"(^WARNING: bad unlock balance detected)", header,
           "WARNING: bad unlock balance in {func}", "lockdep", TR::fixed, FS::lock_at, 0, false, "warn", ""},
    Format{"held-lock-freed", "held lock freed", false, R"(^(?:WARNING|BUG): held lock freed)", header,
           "WARNING: held lock freed in {func}", "lockdep", TR::fixed, FS::lock_at, 0, false, "warn", ""},
    Format{"lock-held-returning", "lock held when returning to user space", false,
           R"(^(?:WARNING|BUG): lock held when returning to user space)", header,
           "WARNING: lock held when returning to user space in {func}", "lockdep", TR::fixed, FS::lock_at, 0, false, "warn", ""},
    Format{"locks-held-at-exit", "still has locks held", false, R"(^WARNING: \S+ still has locks held)", header,
           "WARNING: still has locks held in {func}", "lockdep", TR::fixed, FS::lock_at, 0, false, "warn", ""},
    Format{"suspicious-rcu", "WARNING: suspicious RCU usage", true, R"(^WARNING: suspicious RCU usage)", header,
           "WARNING: suspicious RCU usage in {func}", "lockdep", TR::fixed, FS::trace, 0, false, "warn", ""},
    Format{"nested-lock", "WARNING: Nested lock was not taken", true, R"(^WARNING: Nested lock was not taken)", header,
           "WARNING: nested lock was not taken in {func}", "lockdep", TR::fixed, FS::lock_at, 0, false, "warn", ""},
    Format{"lockdep-limit", "BUG: MAX_", true, R"(^BUG: (MAX_\w+) too low)", header, "BUG: {1} too low!", "lockdep",
           TR::fixed, FS::none, 0, false, "warn", ""},
    Format{"invalid-subclass", "BUG: looking up invalid subclass", true, R"(^BUG: looking up invalid subclass)", header,
           "BUG: looking up invalid subclass in {func}", "lockdep", TR::fixed, FS::trace, 0, false, "warn", ""},
    Format{"non-static-key", "INFO: trying to register non-static key", true, R"(^INFO: trying to register non-static key)",
           header, "INFO: trying to register non-static key in {func}", "lockdep", TR::fixed, FS::trace, 0, false, "warn", ""},
    // Stalls, lockups and hangs.
    Format{"rcu-stall", "INFO: rcu", false, R"(^(?:rcu: )?INFO: rcu_\w+ (?:self-)?detected (?:expedited )?stall)", header,
           "INFO: rcu detected stall in {func}", "stall", TR::fixed, FS::location, kInterrupt, false, "rcu", ""},
    Format{"soft-lockup", "BUG: soft lockup", false, R"(^(?:NMI )?(?:watchdog: )?BUG: soft lockup - CPU#\d+ stuck)", header,
           "BUG: soft lockup in {func}", "lockup", TR::fixed, FS::location, kInterrupt, false, "softlockup", ""},
    Format{"hard-lockup", "hard LOCKUP", false, R"(Watchdog detected hard LOCKUP on cpu \d+)", header, "BUG: hard lockup in {func}",
           "lockup", TR::fixed, FS::location, kInterrupt, false, "hardlockup", ""},
    Format{"workqueue-lockup", "BUG: workqueue lockup", true, R"(^BUG: workqueue lockup)", header, "BUG: workqueue lockup",
           "hang", TR::fixed, FS::none, 0, false, "hang", ""},
    Format{"hung-task", "INFO: task ", true, R"(^INFO: task .+ (?:blocked|can't die) for more than)", header,
           "INFO: task hung in {func}", "hang", TR::fixed, FS::trace, kScheduler, false, "hang", ""},
    // Sleeping and preemption in the wrong context.
    Format{"scheduling-while-atomic", "BUG: scheduling while atomic", true, R"(^BUG: scheduling while atomic)", header,
           "BUG: scheduling while atomic in {func}", "atomic-sleep", TR::fixed, FS::trace, kScheduler, false, "warn", ""},
    Format{"sleep-in-atomic", "BUG: sleeping function called from invalid context", true,
           R"(^BUG: sleeping function called from invalid context)", header,
           "BUG: sleeping function called from invalid context in {func}", "atomic-sleep", TR::fixed, FS::trace, kScheduler,
           false, "warn", ""},
    Format{"preemptible", "BUG: using ", true, R"(^BUG: using (\S+) in preemptible)", header,
           "BUG: using {1} in preemptible code in {func}", "preemption", TR::fixed, FS::trace, 0, false, "warn", ""},
    Format{"spinlock", "BUG: ", true, R"(^BUG: (spinlock|rwlock) ([a-z ]+?) on CPU#\d+)", header, "BUG: {1} {2} in {func}",
           "locking", TR::spinlock, FS::trace, 0, false, "warn", ""},
    // The page and slab allocators.
    Format{"bad-page", "BUG: Bad page ", true, R"(^BUG: Bad page (state|map) in process)", header, "BUG: Bad page {1} in {func}",
           "data-corruption", TR::fixed, FS::trace, kPageAllocator, false, "taint", ""},
    Format{"bad-rss", "BUG: Bad rss-counter state", true, R"(^BUG: Bad rss-counter state)", header, "BUG: Bad rss-counter state",
           "data-corruption", TR::fixed, FS::none, 0, false, "taint", ""},
    Format{"pgtables-bytes", "BUG: non-zero pgtables_bytes", true, R"(^BUG: non-zero pgtables_bytes on freeing mm)", header,
           "BUG: non-zero pgtables_bytes on freeing mm", "data-corruption", TR::fixed, FS::none, 0, false, "taint", ""},
    Format{"slab", "BUG ", true, R"(^BUG (\S+) \((?:Not tainted|Tainted: [^)]*)\): (.+)$)", header, "BUG: {2} in cache {1}",
           "data-corruption", TR::slab, FS::none, 0, false, "taint", ""},
    Format{"memory-leak", "unreferenced object 0x", false, R"(^(?:kmemleak: )?unreferenced object 0x[0-9a-f]+ \(size \d+\))",
           header, "memory leak in {func}", "memory-leak", TR::fixed, FS::trace, kAllocator, false, "", ""},
    Format{"oom", "invoked oom-killer: ", false, R"(invoked oom-killer: )", header, "out of memory in {func}", "out-of-memory",
           TR::fixed, FS::trace, kAllocator | kPageAllocator, false, "oom", ""},
    // Stack overflows.
    Format{"double-fault", "PANIC: double fault", false, R"(^(?:traps: )?PANIC: double fault)", header,
           "PANIC: double fault in {func}", "stack-overflow", TR::fixed, FS::location, 0, true, "oops", ""},
    Format{"stack-guard", "stack guard page was hit", false, R"(^BUG: (?:\w+ )?stack guard page was hit)", header,
           "BUG: stack guard page was hit in {func}", "stack-overflow", TR::fixed, FS::location, 0, true, "oops", ""},
    // Faults and BUG()s.
    Format{"kernel-bug", "ernel BUG at ", false, R"(^[Kk]ernel BUG at (.+):\d+!)", header, "kernel BUG in {func}", "bug",
           TR::fixed, FS::location, 0, true, "oops", "kernel BUG at {1}:LINE!"},
    Format{"null-deref", "NULL pointer dereference", false,
           R"(^BUG: (?:kernel NULL pointer dereference|unable to handle kernel NULL pointer dereference))", header,
           "BUG: unable to handle kernel NULL pointer dereference in {func}", "null-deref", TR::fixed, FS::location, 0, true,
           "oops", "bad-access in {func}"},
    Format{"paging-request", "BUG: unable to handle ", true,
           R"(^BUG: unable to handle (?:page fault for address: |kernel paging request at )(\S+))", header,
           "BUG: unable to handle kernel paging request in {func}", "invalid-access", TR::address, FS::location, 0, true, "oops",
           "bad-access in {func}"},
    Format{"arm64-null", "Unable to handle kernel NULL pointer dereference", true,
           R"(^Unable to handle kernel NULL pointer dereference)", header,
           "BUG: unable to handle kernel NULL pointer dereference in {func}", "null-deref", TR::fixed, FS::location, 0, true,
           "oops", "bad-access in {func}"},
    Format{"arm64-paging", "Unable to handle kernel paging request", true,
           R"(^Unable to handle kernel paging request at virtual address (\S+))", header,
           "BUG: unable to handle kernel paging request in {func}", "invalid-access", TR::address, FS::location, 0, true, "oops",
           "bad-access in {func}"},
    Format{"arm64-unable", "Unable to handle kernel ", true, R"(^Unable to handle kernel (.+?) at virtual address)", header,
           "BUG: unable to handle kernel {1} in {func}", "invalid-access", TR::fixed, FS::location, 0, true, "oops",
           "bad-access in {func}"},
    Format{"gpf", "general protection fault", true, R"(^general protection fault(?:, probably for non-canonical address (0x[0-9a-f]+))?)",
           header, "general protection fault in {func}", "invalid-access", TR::address, FS::location, 0, true, "oops",
           "bad-access in {func}"},
    Format{"arm64-internal", "Internal error: ", true, R"(^Internal error: (.+?): ?[0-9a-f]+ \[#\d+\])", continuation,
           "Internal error in {func}", "oops", TR::fixed, FS::location, 0, true, "oops", ""},
    Format{"oops", "Oops", true, R"(^Oops(?: - \w+)?: [0-9a-f]+ \[#\d+\])", continuation, "Oops in {func}", "oops", TR::fixed,
           FS::location, 0, true, "oops", ""},
    Format{"die", " [#", false, R"(^([a-z][a-z0-9 ]+): [0-9a-f]{4} \[#\d+\])", continuation, "{1} in {func}", "oops", TR::die,
           FS::location, 0, true, "oops", ""},
    // WARN().
    Format{"warning", "WARNING: CPU: ", true, R"(^WARNING: CPU: \d+ PID: \d+ at (?:(\S+):\d+ )?(\S+))", header,
           "WARNING in {func}", "warning", TR::fixed, FS::header, 0, false, "warn", ""},
    Format{"warning-new", "WARNING: ", true, R"(^WARNING: (\S+):\d+ at (\S+?),? CPU#\d+)", header, "WARNING in {func}",
           "warning", TR::fixed, FS::header, 0, false, "warn", ""},
    Format{"warning-old", "WARNING: at ", true, R"(^WARNING: at (?:(\S+):\d+ )?(\S+))", header, "WARNING in {func}", "warning",
           TR::fixed, FS::header, 0, false, "warn", ""},
    // panic().
    Format{"panic", "Kernel panic - not syncing: ", true, R"(^Kernel panic - not syncing: ?(.*)$)", panic, "kernel panic: {1}",
           "panic", TR::panic, FS::trace, kScheduler, true, "", ""},
    // Whatever else the kernel calls a BUG or a WARNING.
    Format{"bug", "BUG: ", true, R"(^BUG: (.+)$)", header, "BUG: {1} in {func}", "bug", TR::fixed, FS::trace, 0, false, "warn", ""},
    Format{"warning-other", "WARNING: ", true, R"(^WARNING: (.+)$)", header, "WARNING: {1} in {func}", "warning", TR::fixed,
           FS::trace, 0, false, "warn", ""},
};

}  // namespace

const std::vector<CompiledFormat>& report_formats() {
  static const std::vector<CompiledFormat> compiled = [] {
    std::vector<CompiledFormat> out;
    for (const Format& f : kFormats) out.push_back({&f, std::regex(std::string(f.pattern), std::regex::optimize)});
    return out;
  }();
  return compiled;
}

}  // namespace coroner::console
