#pragma once
// A stable signature for de-duplicating crashes in a bug tracker, whatever the kernel: the cause
// with numbers and addresses taken out, and the first frames after the crash machinery (traps,
// interrupt entries, panic), hashed (FNV-1a, the same across builds and machines).
#include <string>
#include <vector>

namespace coroner::rules {

// `functions`: the crashing thread's, innermost first. `machinery`: names whose frames, and all
// frames inside them, are the crash machinery (panic, assfail, ...); names starting with "asm_"
// always are. A machinery frame with nothing but machinery outside it (a trap from user mode, at
// the outer end) is how the thread got into the kernel, not how it crashed.
std::string crash_signature(const std::string& cause, const std::vector<std::string>& functions,
                            const std::vector<std::string>& machinery = {"panic"});

}  // namespace coroner::rules
