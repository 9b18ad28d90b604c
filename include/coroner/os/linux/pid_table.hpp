#pragma once
// The tasks the kernel's pid table holds (init_pid_ns.idr, every pid of every namespace at level
// 0), found the way pid_task() finds them: a second road to every task, independent of the task
// list, for dumps whose task list is broken by a page they left out.
#include <cstdint>
#include <string>
#include <vector>

#include "coroner/target/object.hpp"

namespace coroner::linux_kernel {

struct PidTableTasks {
  std::vector<uint64_t> tasks;        // struct task_struct addresses, in pid order
  std::vector<std::string> problems;  // pids or nodes that could not be read
};

// Fails when the debug info lacks what the table is read by (init_pid_ns with an idr, struct pid's
// tasks[], task_struct's pid_links[], PIDTYPE_PID), and says which.
Result<PidTableTasks> tasks_in_pid_table(TypedMemory& objects);

}  // namespace coroner::linux_kernel
