#pragma once
// The name a function has in the source, whatever its build called it: rules match stacks by it
// and signatures hash it, so that one bug reads the same on every build of a kernel.
#include <string_view>

namespace coroner::rules {

// The function a compiler's clone or split part was made from: `__handle_sysrq.cold`,
// `foo.isra.0`, `bar.constprop.0.isra.0`, `baz.part.0`, clang's `qux.llvm.123` are `__handle_sysrq`,
// `foo`, `bar`, `baz`, `qux`. C names hold no '.', so everything from the first one on is the
// compiler's (a name that starts with '.', an assembler label, is kept whole).
std::string_view function_base_name(std::string_view name);

}  // namespace coroner::rules
