#pragma once
// The kernel log from the lockless printk ring buffer (Linux 5.10+), located and decoded with the
// offsets VMCOREINFO publishes, so it needs no vmlinux.
#include <cstdint>
#include <string>
#include <vector>

#include "coroner/target/kernel.hpp"
#include "coroner/target/kernel_log.hpp"

namespace coroner::linux_kernel {

using coroner::KernelLog;
using coroner::LogRecord;

Result<KernelLog> read_printk_log(const Kernel& kernel);

// "[    4.074068] text" lines, one per line of each record, as `dmesg` and crash's `log` print.
std::string format_log_line(const LogRecord& record);
std::string caller_name(uint32_t caller_id);  // "T123" or "C1"

}  // namespace coroner::linux_kernel
