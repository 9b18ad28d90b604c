#pragma once
// A stable signature for de-duplicating crashes in a bug tracker, whatever the kernel: the cause
// with numbers and addresses taken out, and the first frames after the crash machinery (traps,
// interrupt entries, panic), hashed (FNV-1a, the same across builds and machines).
#include <string>
#include <vector>

namespace coroner::rules {

// `functions`: the crashing thread's, innermost first. `machinery`: the functions that are the
// crash machinery (panic, assfail, ...), each a name or a prefix ending in '*' ("asm_*"); frames
// inside them are skipped. A machinery frame with nothing but machinery outside it (a trap from
// user mode, at the outer end) is how the thread got into the kernel, not how it crashed.
std::string crash_signature(const std::string& cause, const std::vector<std::string>& functions,
                            const std::vector<std::string>& machinery);

// Linux's crash machinery: panic() and the entry code of exceptions and interrupts.
const std::vector<std::string>& linux_crash_machinery();

}  // namespace coroner::rules
