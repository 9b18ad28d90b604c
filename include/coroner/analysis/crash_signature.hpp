#pragma once
// A stable signature for de-duplicating crashes in a bug tracker, whatever the kernel: the cause
// with numbers and addresses taken out, and the first frames after the crash machinery (traps,
// interrupt entries, panic), hashed (FNV-1a, the same across builds and machines).
#include <string>
#include <vector>

#include "coroner/console/crash_reports.hpp"

namespace coroner::analysis {

// `functions`: the crashing thread's, innermost first, as the build named them: the signature uses
// their base names (rules::function_base_name), so that one bug has one signature on every build
// of the kernel. `machinery`: the functions that are the crash machinery (panic, assfail, ...),
// each a name or a prefix ending in '*' ("asm_*"), as the kernel's target supplies them; frames
// inside them are skipped. A machinery frame with nothing but machinery outside it (a trap from
// user mode, at the outer end) is how the thread got into the kernel, not how it crashed.
std::string crash_signature(const std::string& cause, const std::vector<std::string>& functions,
                            const std::vector<std::string>& machinery);

// A console report's: its title and its first frames from the guilty one on. Three frames, because
// the frames further out are where two builds of a kernel differ (6.12 loads a module through
// init_module_from_file where 6.1 has __do_sys_finit_module) while the bug is the same.
std::string report_signature(const console::CrashReport& report);

}  // namespace coroner::analysis
