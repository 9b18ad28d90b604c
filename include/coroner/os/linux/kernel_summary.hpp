#pragma once
// The answers `coroner info` gives: what this dump is and what the kernel was doing when it died.
#include <optional>
#include <string>
#include <vector>

#include "coroner/console/crash_reports.hpp"
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
  Sourced<std::string> panic_cause;    // the first line of the crash's report (oops, BUG, KASAN, ...)
  console::ConsoleReading reports;     // every report the log holds, and which is the crash's
  Sourced<int64_t> crash_time;
  std::vector<std::string> warnings;
};

KernelSummary summarize(const Kernel& kernel, const KernelLog* log);
// The reports a log holds, into the summary: the panic message, the crash's first line and CPU.
void summarize_reports(console::ConsoleReading reading, KernelSummary& s);

// Linux's crash machinery, which a crash signature skips: panic() and the entry code of exceptions
// and interrupts (a name, or a prefix ending in '*').
const std::vector<std::string>& crash_machinery();

// UTS_VERSION from a banner: "Linux version R (who@host) (compiler) VERSION".
std::optional<std::string> version_from_banner(std::string_view banner);
// R, the release, from the same banner.
std::optional<std::string> release_from_banner(std::string_view banner);

}  // namespace coroner::linux_kernel
