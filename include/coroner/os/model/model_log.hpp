#pragma once
// The message buffer of a kernel described by an OS model (FreeBSD's msgbuf, Linux's log_buf
// before 5.10): the model's LogRing, read oldest text first, one record per line (text only).
#include <string>
#include <vector>

#include "coroner/os/model/os_model.hpp"
#include "coroner/result.hpp"
#include "coroner/target/kernel_log.hpp"
#include "coroner/target/object.hpp"

namespace coroner::os_model {

// Fails, saying why, when the model has no `log` or the buffer cannot be read.
Result<KernelLog> read_log(TypedMemory& objects, const OsModel& model);

// The panic facts the model's `panic.log` patterns find in these lines: for each pattern in turn,
// its first group on the first line it matches.
std::vector<std::string> panic_from_log(const OsModel& model, const std::vector<std::string>& lines);
// The same from the model's log: `log` when the caller has read it, else read here. Empty when the
// model has no `panic.log`; a log that cannot be read adds a problem.
std::vector<std::string> panic_from_log(TypedMemory& objects, const OsModel& model, const Result<KernelLog>* log,
                                        std::vector<std::string>& problems);

}  // namespace coroner::os_model
