#pragma once
// The threads of a kernel described by an OsModel: read through the model's expressions, unwound
// by frame pointers, and searched for values (mdb's ::whatthread) on their stacks.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "coroner/dump/notes.hpp"
#include "coroner/os/model/model_log.hpp"
#include "coroner/os/model/os_model.hpp"
#include "coroner/target/object.hpp"
#include "coroner/target/stack_slot.hpp"
#include "coroner/target/thread.hpp"
#include "coroner/target/thread_list.hpp"
#include "coroner/target/unwinder.hpp"

namespace coroner::os_model {



// Every thread, in list order; a list that loops or runs past `limit` items stops with a problem.
// The panic message may come from the log (`panic.log`): `log`, when the caller has read it.
ThreadList read_threads(TypedMemory& objects, const OsModel& model, const Result<KernelLog>* log = nullptr,
                          size_t limit = 1 << 20);

// The unwinder for a model's kernel: its ELF symbols name the code, its DWARF call frame
// information (.debug_frame) unwinds where it has a rule, frame pointers where it has none.
Unwinder model_unwinder(TypedMemory& objects);

// The thread's frames from its saved pc, sp and fp (or its CPU's registers at the crash), across
// the interrupt stack they may be on and its own stack. Frame 0 is the saved pc itself.
Backtrace unwind(const Unwinder& unwinder, const Thread& thread);

// The lowest live word of the thread's own stack.
uint64_t lowest_live(const Thread& thread, const Backtrace& bt);
// Where a word of a thread's stack is: "frame #4 hati_page_unmap+0x2b", "below the stack pointer".
SlotPlace place_on_stack(const Thread& thread, const Backtrace& bt, uint64_t location);


// Words on every thread's stack whose value `match` accepts. `backtraces`, when the caller has
// unwound every thread already (one per thread, in order), are used instead of unwinding again.
std::vector<StackReference> find_stack_references(const Unwinder& unwinder, const ThreadList& threads,
                                                  const std::function<bool(uint64_t)>& match,
                                                  const std::vector<Backtrace>* backtraces = nullptr);

}  // namespace coroner::os_model
