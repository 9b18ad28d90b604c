#pragma once
// Types for a Linux kernel that came without its vmlinux: the BTF it carries in memory
// (CONFIG_DEBUG_INFO_BTF), between the symbols __start_BTF and __stop_BTF.
#include <memory>

#include "coroner/debuginfo/debug_info.hpp"
#include "coroner/target/kernel.hpp"

namespace coroner::linux_kernel {

// The kernel's BTF as debug info; an error saying which symbol or bytes were missing.
Result<std::unique_ptr<DebugInfo>> read_kernel_btf(const Kernel& kernel);

}  // namespace coroner::linux_kernel
