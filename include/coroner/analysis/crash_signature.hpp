#pragma once
// A stable signature for de-duplicating crashes in a bug tracker, whatever the kernel: the cause
// with numbers and addresses taken out, and the first frames after the crash machinery (traps,
// interrupt entries, panic), hashed (FNV-1a, the same across builds and machines).
#include <string>
#include <vector>

namespace coroner::analysis {

// `functions`: the crashing thread's, innermost first, as the build named them: the signature uses
// their base names (rules::function_base_name), so that one bug has one signature on every build
// of the kernel. `machinery`: the functions that are the crash machinery (panic, assfail, ...),
// each a name or a prefix ending in '*' ("asm_*"), as the kernel's target supplies them; frames
// inside them are skipped. A machinery frame with nothing but machinery outside it (a trap from
// user mode, at the outer end) is how the thread got into the kernel, not how it crashed.
std::string crash_signature(const std::string& cause, const std::vector<std::string>& functions,
                            const std::vector<std::string>& machinery);

}  // namespace coroner::analysis
