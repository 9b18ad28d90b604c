#pragma once
// A stable signature for de-duplicating crashes in a bug tracker, whatever the kernel: the cause
// with numbers and addresses taken out, and the first frames after the crash machinery (traps,
// interrupt entries, panic), hashed (FNV-1a, the same across builds and machines).
#include <string>
#include <string_view>
#include <vector>

namespace coroner::rules {

// The function a compiler's clone or split part was made from: `__handle_sysrq.cold`,
// `foo.isra.0`, `bar.constprop.0.isra.0`, `baz.part.0`, clang's `qux.llvm.123` are `__handle_sysrq`,
// `foo`, `bar`, `baz`, `qux`. C names hold no '.', so everything from the first one on is the
// compiler's (a name that starts with '.', an assembler label, is kept whole).
std::string_view function_base_name(std::string_view name);

// `functions`: the crashing thread's, innermost first, as the build named them: the signature uses
// their base names, so that one bug has one signature on every build of the kernel. `machinery`: the functions that are the
// crash machinery (panic, assfail, ...), each a name or a prefix ending in '*' ("asm_*"); frames
// inside them are skipped. A machinery frame with nothing but machinery outside it (a trap from
// user mode, at the outer end) is how the thread got into the kernel, not how it crashed.
std::string crash_signature(const std::string& cause, const std::vector<std::string>& functions,
                            const std::vector<std::string>& machinery);

// Linux's crash machinery: panic() and the entry code of exceptions and interrupts.
const std::vector<std::string>& linux_crash_machinery();

}  // namespace coroner::rules
