#pragma once
// The answers `coroner info` gives: what this dump is and what the kernel was doing when it died.
#include <optional>
#include <string>
#include <vector>

#include "coroner/os/linux/printk_log.hpp"
#include "coroner/target/kernel.hpp"

namespace coroner::linux_kernel {

template <class T>
struct Sourced {  // a fact and where it came from
  std::optional<T> value;
  std::string source;
};

struct KernelSummary {
  std::string os = "linux";  // or the OS model's (data/os/*.yaml)
  std::string arch = "x86_64";
  Sourced<std::string> release, version;
  Sourced<int> cpus, online_cpus, crashing_cpu;
  uint64_t dump_memory_bytes = 0;  // physical memory the dump describes
  Sourced<uint64_t> kernel_memory_bytes;  // present pages of all online nodes, as crash's MEMORY
  Sourced<std::string> panic_message;  // "Kernel panic - not syncing: ..."
  Sourced<std::string> panic_cause;    // the first report of the crash (oops, BUG, sysrq, ...)
  Sourced<int64_t> crash_time;
  std::vector<std::string> warnings;
};

KernelSummary summarize(const Kernel& kernel, const KernelLog* log);

// Linux's crash machinery, which a crash signature skips: panic() and the entry code of exceptions
// and interrupts (a name, or a prefix ending in '*').
const std::vector<std::string>& crash_machinery();

// UTS_VERSION from a banner: "Linux version R (who@host) (compiler) VERSION".
std::optional<std::string> version_from_banner(std::string_view banner);

}  // namespace coroner::linux_kernel
