#pragma once
// The frames of a console's stack traces, and the kernel's reporting machinery a report's guilty
// frame is chosen past: what printed the report (kasan, ubsan, lockdep, printk, panic, warn,
// dump_stack), how the CPU got there (entry code, exceptions, interrupts, the watchdog), and the
// generic helpers a bug is only noticed in (locking primitives, list and refcount checks, string
// and copy routines, the allocators, the scheduler's waits).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace coroner::console {

struct StackFrame {
  std::string function;  // as printed: "__handle_sysrq.cold"
  std::string module;    // "[coroner_test]" names it; empty for the kernel's own
  bool reliable = true;  // false: printed with "? " (a stale return address the unwinder passed)
};

// A frame line of any of the kernel's trace formats: " func+0x1d4/0x1000 [mod]", " ? func+0x3/0x9",
// " [<ffffffff81234567>] func+0x5c/0x78", arm64's " func+0x14/0x20 (P)", a symbolised
// " func+0x12/0x40 fs/ext4/inode.c:123" or " __dump_stack lib/dump_stack.c:88 [inline]".
std::optional<StackFrame> parse_frame(std::string_view line);

// The function of "func+0x59/0x38b [mod]" at the start of `text` ("RIP: 0010:" and the like
// already taken off); nullopt for an address with no symbol ("0x47b7a0").
std::optional<StackFrame> parse_location(std::string_view text);

// Sets of frames a report is made by, besides those every report has.
enum Machinery : unsigned {
  kCommon = 0,
  kScheduler = 1u << 0,   // hangs and atomic-context bugs: the waits a task sleeps in
  kAllocator = 1u << 1,   // leaks and slab corruption: the allocators' entry points
  kPageAllocator = 1u << 2,  // bad page state and map
  kInterrupt = 1u << 3,   // stalls and lockups: the timer interrupt that noticed
};

// Whether `function` (clone suffixes aside) is reporting machinery under `sets`.
bool is_machinery(std::string_view function, unsigned sets);

}  // namespace coroner::console
