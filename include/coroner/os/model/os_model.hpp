#pragma once
// Kernels other than Linux, described as data (data/os/*.yaml): which symbols say a dump is that
// kernel's, where its panic string and panicking thread are, and how to walk its threads and read
// each one's name, ids, state, stack and saved registers, each an expression over the kernel's
// DWARF. Threads then unwind as every kernel's do (target/unwinder.hpp): by the kernel's DWARF call
// frame information where its debug info has .debug_frame, by frame pointers elsewhere. Adding a
// kernel means adding a file, not C++.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "coroner/result.hpp"

namespace coroner::os_model {

// A list in the kernel's memory: `first` evaluated once (globally, or on the item that owns the
// list), then `next` on each item; it ends at NULL or back at the first.
struct WalkedList {
  std::string first, next;
};

// The kernel's message buffer, in one of two shapes:
// - a ring of bytes (FreeBSD's msgbuf, Linux before 3.5): `buffer` (a char *) holds `size` bytes,
//   and `write` is a sequence number whose remainder by size is where the next byte goes, so the
//   oldest text starts there. Bytes never written are NUL. With `levels`, each line starts with a
//   "<N>" log level (Linux 2.6), which is dropped.
// - a ring of records (Linux 3.5 to 5.9): `record` is the header's type (struct printk_log, with
//   ts_nsec, len and text_len), `first` the offset of the oldest record and `next` the offset past
//   the newest; a record of len 0 sends the reader back to the buffer's start.
struct LogRing {
  std::string buffer, size, write;
  bool levels = false;
  std::string record, first, next;
};

struct OsModel {
  std::string os, file;
  std::vector<std::string> detect;  // symbols that must all be present
  std::vector<std::string> absent;  // and symbols that must not be (a later version's)
  std::string release, version, cpus;  // what `info` shows: expressions (text, text, number)
  std::optional<LogRing> log;
  std::string panic_message, panic_thread, panic_thread_id;
  std::vector<std::string> panic_machinery;  // functions a crash signature skips: panic, vpanic, assfail
  std::string panic_pc, panic_sp, panic_fp;  // where the panicking thread's registers were saved, if not its own
  // Where the panic message is when no variable holds it (Linux): regular expressions over the
  // log's lines; each pattern's first matching line gives one panic fact (its first group).
  std::vector<std::string> panic_log;
  // `prstatus`: the dump's NT_PRSTATUS notes, one per CPU in CPU order, hold the registers of the
  // thread each names (pr_pid is the thread's id) as the crash found it, and `panic_cpu` (an
  // expression) says whose note is the crashing CPU's.
  bool prstatus_registers = false;
  std::string panic_cpu;
  // A thread running on a CPU may be on that CPU's interrupt stack: a block of this many bytes,
  // aligned to its size, holding the registers' stack pointer. Its frames chain on into the
  // thread's own stack, and the entry code saved the stack pointer it interrupted at this offset
  // from the interrupt stack's top. Size 0: no interrupt stacks.
  uint64_t interrupt_stack_size = 0;
  int64_t interrupted_sp_offset = -8;
  std::optional<WalkedList> processes;  // with `threads` walked inside each process
  std::string process_type;
  WalkedList threads;  // of all threads, or of one process's
  std::string thread_type;
  // Per-thread expressions, evaluated on the thread (its type is thread_type).
  std::string id, pid, lwp, comm, state, stack_low, stack_high, stack_pages, pc, sp, fp;
  std::map<uint64_t, char> states;  // state value -> ps letter
  std::string unwind = "frame-pointer";  // where .debug_frame has no rule: the only fallback there is
  // The kernel's allocator, for telling freed buffers from live ones: its kind (the code that
  // knows its bookkeeping, "illumos-kmem") and the list of its caches.
  std::string allocator;
  std::optional<WalkedList> caches;
  std::string cache_type;
};

// A model as YAML; errors name `name`:line:column and what is wrong.
Result<OsModel> parse_os_model(std::string_view yaml, const std::string& name);
// The models shipped in data/os/ (built into the binary).
const std::vector<OsModel>& shipped_os_models();
// The first shipped model whose detect symbols `has_symbol` finds all of, and none of its absent ones.
template <typename HasSymbol>
const OsModel* detect_os_model(HasSymbol&& has_symbol) {
  for (const OsModel& m : shipped_os_models()) {
    bool all = !m.detect.empty();
    for (const auto& s : m.detect) all = all && has_symbol(s);
    for (const auto& s : m.absent) all = all && !has_symbol(s);
    if (all) return &m;
  }
  return nullptr;
}

}  // namespace coroner::os_model
