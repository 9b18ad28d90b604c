#include "coroner/os/linux/pid_table.hpp"

#include "coroner/format.hpp"
#include "coroner/target/struct_reader.hpp"
#include "coroner/target/xarray_walk.hpp"

namespace coroner::linux_kernel {
namespace {

// Where init_pid_ns keeps its IDR's xarray: pid_namespace.idr.idr_rt (4.15+; older kernels hash
// their pids in pid_hash, which this does not read).
Result<uint64_t> pid_xarray(TypedMemory& objects) {
  auto ns = objects.kernel().symbol_address("init_pid_ns");
  if (!ns) return make_error("no symbol init_pid_ns in the vmlinux");
  auto layout = StructReader::of(objects, "struct pid_namespace");
  if (!layout) return layout.error();
  auto idr = layout->member("idr.idr_rt");
  if (!idr) return make_error("struct pid_namespace has no idr.idr_rt (a kernel before 4.15 hashes its pids): " +
                              idr.error().message);
  return *ns + idr->offset;
}

// pid_task(pid, PIDTYPE_PID): the first task on pid->tasks[PIDTYPE_PID], through the hlist_node
// task_struct hangs there by (pid_links[] since 4.19, pids[].node before).
class PidTask {
 public:
  static Result<PidTask> of(TypedMemory& objects) {
    auto type = objects.debug().find_enumerator("PIDTYPE_PID");
    if (!type) return make_error("no enumerator PIDTYPE_PID in the debug info");
    std::string n = std::to_string(type->enumerator.value);
    auto pid = StructReader::of(objects, "struct pid");
    if (!pid) return pid.error();
    auto first = pid->member("tasks[" + n + "].first");
    if (!first) return make_error("struct pid has no tasks[]: " + first.error().message);
    auto task = StructReader::of(objects, "struct task_struct");
    if (!task) return task.error();
    auto link = task->member("pid_links[" + n + "]");
    if (!link) link = task->member("pids[" + n + "].node");
    if (!link) return make_error("struct task_struct has neither pid_links[] nor pids[].node");
    return PidTask(first->offset, link->offset);
  }

  Result<uint64_t> task_of(const Kernel& kernel, uint64_t pid) const {
    auto node = kernel.read_u64(pid + first_offset_);
    if (!node) return node.error();
    return *node ? *node - link_offset_ : 0;
  }

 private:
  PidTask(uint64_t first, uint64_t link) : first_offset_(first), link_offset_(link) {}
  uint64_t first_offset_, link_offset_;
};

}  // namespace

Result<PidTableTasks> tasks_in_pid_table(TypedMemory& objects) {
  auto xarray = pid_xarray(objects);
  if (!xarray) return xarray.error();
  auto pid_task = PidTask::of(objects);
  if (!pid_task) return pid_task.error();
  auto walk = walk_xarray(objects, *xarray);
  if (!walk) return walk.error();
  PidTableTasks out;
  for (const std::string& p : walk->problems) out.problems.push_back("init_pid_ns.idr: " + p);
  for (const XarrayEntry& e : walk->entries) {
    auto task = pid_task->task_of(objects.kernel(), e.pointer);
    if (!task) {
      out.problems.push_back("pid " + std::to_string(e.index) + ": struct pid at " + hex(e.pointer) +
                             " unreadable: " + task.error().message);
    } else if (*task) {
      out.tasks.push_back(*task);
    }
  }
  return out;
}

}  // namespace coroner::linux_kernel
