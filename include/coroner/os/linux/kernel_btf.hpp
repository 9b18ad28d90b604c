#pragma once
// Types for a Linux kernel that came without its vmlinux: the BTF it carries in memory
// (CONFIG_DEBUG_INFO_BTF), between the symbols __start_BTF and __stop_BTF, and its loaded modules'
// (CONFIG_DEBUG_INFO_BTF_MODULES), which it keeps on the list btf_modules once their .BTF section
// is gone with the rest of the module's load-time copy.
#include <memory>
#include <string>
#include <vector>

#include "coroner/debuginfo/debug_info.hpp"
#include "coroner/target/kernel.hpp"
#include "coroner/target/object.hpp"

namespace coroner::linux_kernel {

// The kernel's BTF as debug info; an error saying which symbol or bytes were missing.
Result<std::unique_ptr<DebugInfo>> read_kernel_btf(const Kernel& kernel);

struct ModuleBtf {
  std::string module;
  std::unique_ptr<DebugInfo> debug;  // split on the kernel's: its ids below its own are the kernel's
};

// Every loaded module's BTF, read through the kernel's own types (struct btf_module, struct btf);
// `objects`' debug info must be the kernel's BTF. What could not be read is added to `problems`.
std::vector<ModuleBtf> read_module_btf(TypedMemory& objects, std::vector<std::string>& problems);

}  // namespace coroner::linux_kernel
