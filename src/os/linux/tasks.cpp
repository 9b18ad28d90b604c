#include "coroner/os/linux/tasks.hpp"

#include <algorithm>
#include <unordered_set>

#include "coroner/format.hpp"
#include "coroner/os/linux/pid_table.hpp"
#include "coroner/target/list_walk.hpp"
#include "coroner/target/struct_reader.hpp"

namespace coroner::linux_kernel {
namespace {

constexpr uint64_t kPfKthread = 0x00200000;
constexpr uint64_t kTaskReport = 0x7f, kTaskIdle = 0x402, kTaskRtlockWait = 0x1000;

char state_letter(uint64_t state, uint64_t exit_state) {
  // task_state_index(): the highest reported bit picks the letter.
  static const char kLetters[] = "RSDTtXZPI";
  uint64_t reported = (state | exit_state) & kTaskReport;
  if ((state & kTaskIdle) == kTaskIdle) reported = kTaskReport + 1;
  if (state == kTaskRtlockWait) reported = 2;
  int index = 0;
  while (reported) {
    ++index;
    reported >>= 1;
  }
  return index < 9 ? kLetters[index] : '?';
}

std::optional<uint64_t> symbol(TypedMemory& objects, std::string_view name) {
  return objects.kernel().symbol_address(name);
}

uint64_t find_thread_size(TypedMemory& objects) {
  auto start = symbol(objects, "__start_init_task"), end = symbol(objects, "__end_init_task");
  if (start && end && *end > *start && *end - *start <= (1u << 20)) return *end - *start;
  return 16384;  // x86-64 without KASAN
}

class TaskReader {
 public:
  TaskReader(TypedMemory& objects, StructReader tasks, ThreadList& out)
      : objects_(objects), t_(std::move(tasks)), out_(out) {
    if (auto signal = StructReader::of(objects, "struct signal_struct"); signal && signal->has("thread_head")) {
      thread_head_offset_ = signal->offset_of("thread_head");
    }
  }

  // The task at `address`; nullopt, said once, when its task_struct is not in the dump at all (a
  // page the dump left out), rather than a task of pid 0 with no name.
  std::optional<Task> read(uint64_t address) {
    Task task;
    task.address = address;
    auto problem = [&](const std::string& what, const Error& e) {
      out_.problems.push_back("task " + hex(address) + ": " + what + ": " + e.message);
    };
    if (auto pid = t_.integer(address, "pid"); !pid) {
      out_.problems.push_back("task " + hex(address) + " is left out: " + pid.error().message);
      return std::nullopt;
    }
    auto get = [&](std::string_view path) -> uint64_t {
      auto v = t_.integer(address, path);
      if (!v) problem(std::string(path), v.error());
      return v.value_or(0);
    };
    task.thread_id = get("pid");
    task.process_id = static_cast<int32_t>(get("tgid"));
    auto comm = t_.text(address, "comm");
    if (comm) task.comm = *comm; else problem("comm", comm.error());
    uint64_t state = get(t_.has("__state") ? "__state" : "state");
    uint64_t exit_state = get("exit_state");
    task.state_bits = state | exit_state;
    task.state = state_letter(state, exit_state);
    task.last_cpu = static_cast<uint32_t>(get(t_.has("cpu") ? "cpu" : "thread_info.cpu"));
    task.kernel_thread = (get("flags") & kPfKthread) != 0;
    task.stack_low = get("stack");
    task.sp = get("thread.sp");
    if (uint64_t parent = get("real_parent")) {
      auto ppid = t_.integer(parent, "pid");
      task.parent_id = static_cast<int32_t>(ppid.value_or(0));
    }
    return task;
  }

  std::vector<uint64_t> threads_of(uint64_t leader) {
    ListRequest request{t_.type(), "", 0, false, 100000};
    if (t_.has("thread_node") && thread_head_offset_) {
      // Since 6.7 and in backports: threads hang on signal->thread_head.
      auto signal = t_.integer(leader, "signal");
      if (!signal || !*signal) return {leader};
      request.member = "thread_node";
      request.start = *signal + *thread_head_offset_;
      request.start_is_head = true;
    } else if (t_.has("thread_group")) {
      request.member = "thread_group";
      request.start = leader;
    } else {
      return {leader};
    }
    auto walk = walk_list(objects_, request);
    if (!walk) {
      out_.problems.push_back("threads of " + hex(leader) + ": " + walk.error().message);
      return {leader};
    }
    if (auto p = incomplete_walk(*walk, "the thread list of " + hex(leader))) out_.problems.push_back(*p);
    if (std::find(walk->entries.begin(), walk->entries.end(), leader) == walk->entries.end()) {
      walk->entries.insert(walk->entries.begin(), leader);
    }
    return walk->entries;
  }

  StructReader& reader() { return t_; }

 private:
  TypedMemory& objects_;
  StructReader t_;
  ThreadList& out_;
  std::optional<uint64_t> thread_head_offset_;
};

// This CPU's copy of a per-CPU variable, from the offset read_cpus() already holds.
std::optional<uint64_t> per_cpu(TypedMemory& objects, std::string_view name, const Cpu& cpu) {
  auto at = symbol(objects, name);
  if (!at) return std::nullopt;
  return *at + cpu.per_cpu_offset;
}

// This CPU's copy of a per-CPU value the kernel keeps as a variable of its own or as a member of
// struct pcpu_hot, the per-CPU struct that gathers the hottest ones (`hardirq_stack_ptr`).
std::optional<uint64_t> per_cpu_hot(TypedMemory& objects, const char* name, const Cpu& cpu) {
  if (auto own = per_cpu(objects, name, cpu)) return own;
  auto hot = per_cpu(objects, "pcpu_hot", cpu);
  auto layout = StructReader::of(objects, "struct pcpu_hot");
  if (!hot || !layout) return std::nullopt;
  auto member = layout->member(name);
  if (!member) return std::nullopt;
  return *hot + member->offset;
}

std::vector<StackRange> cpu_stacks(TypedMemory& objects, const Cpu& cpu, uint64_t thread_size, ThreadList& out) {
  std::vector<StackRange> stacks;
  const Kernel& k = objects.kernel();
  if (auto at = per_cpu_hot(objects, "hardirq_stack_ptr", cpu)) {
    // hardirq_stack_ptr points at the top word of the IRQ stack (IRQ_STACK_SIZE == THREAD_SIZE).
    if (auto top = k.read_u64(*at); top && *top) stacks.push_back({"IRQ", *top + 8 - thread_size, *top + 8});
  } else {
    out.problems.push_back("CPU " + std::to_string(cpu.id) +
                           ": no per-CPU hardirq_stack_ptr, nor one in struct pcpu_hot: its IRQ stack is unknown");
  }
  auto at = per_cpu(objects, "cea_exception_stacks", cpu);
  auto layout = StructReader::of(objects, "struct cea_exception_stacks");
  if (!at || !layout) return stacks;
  auto base = k.read_u64(*at);
  if (!base || !*base) {
    out.problems.push_back("CPU " + std::to_string(cpu.id) + ": exception stacks unreadable");
    return stacks;
  }
  for (const Member& m : objects.debug().members(layout->type())) {
    const std::string& n = m.name;
    if (n.size() <= 6 || n.compare(n.size() - 6, 6, "_stack") != 0 || !m.type) continue;
    stacks.push_back({n.substr(0, n.size() - 6), *base + m.offset, *base + m.offset + size_of(m.type)});
  }
  return stacks;
}

void read_cpus(TypedMemory& objects, ThreadList& out) {
  const Kernel& k = objects.kernel();
  uint32_t count = 1;
  if (auto n = symbol(objects, "nr_cpu_ids")) count = k.read_u32(*n).value_or(1);
  count = std::clamp<uint32_t>(count, 1, 8192);
  auto rq = StructReader::of(objects, "struct rq");
  const auto& notes = k.dump().notes().prstatus;
  auto offsets = symbol(objects, "__per_cpu_offset");
  for (uint32_t id = 0; id < count; ++id) {
    Cpu cpu;
    cpu.id = id;
    if (offsets) cpu.per_cpu_offset = k.read_u64(*offsets + 8 * id).value_or(0);
    if (id > 0 && cpu.per_cpu_offset == 0) break;  // beyond the possible CPUs
    auto runqueue = per_cpu(objects, "runqueues", cpu);
    if (rq && runqueue) {
      cpu.current = rq->integer(*runqueue, "curr").value_or(0);
      cpu.idle = rq->integer(*runqueue, "idle").value_or(0);
    }
    if (!cpu.current) out.problems.push_back("CPU " + std::to_string(id) + ": runqueue unreadable; its current task is unknown");
    // QEMU and the kernel's crash_notes write one NT_PRSTATUS per CPU, in CPU order.
    if (id < notes.size()) cpu.registers = notes[id];
    cpu.stacks = cpu_stacks(objects, cpu, out.thread_size, out);
    out.cpus.push_back(std::move(cpu));
  }
}

std::optional<uint32_t> find_panic_cpu(TypedMemory& objects, const ThreadList& out) {
  const Kernel& k = objects.kernel();
  for (const char* name : {"panic_cpu", "crashing_cpu"}) {
    auto at = symbol(objects, name);
    if (!at) continue;
    auto v = k.read_u32(*at);
    if (v && *v < out.cpus.size()) return *v;
  }
  if (auto c = k.dump().header().crashing_cpu; c && *c >= 0 && static_cast<size_t>(*c) < out.cpus.size()) {
    return static_cast<uint32_t>(*c);
  }
  return std::nullopt;
}

// A task list broken by a page the dump left out loses the processes between its breaks (and the
// threads of a leader it could not read); the pid table reaches them another way. Its problems
// matter only then: on a whole task list it adds nothing.
void add_tasks_only_the_pid_table_holds(TypedMemory& objects, TaskReader& reader, std::unordered_set<uint64_t>& seen,
                                        bool list_broken, ThreadList& out) {
  auto table = tasks_in_pid_table(objects);
  if (!table) {
    if (list_broken) out.problems.push_back("the pid table cannot stand in for the broken task list: " + table.error().message);
    return;
  }
  size_t added = 0;
  for (uint64_t address : table->tasks) {
    if (!seen.insert(address).second) continue;
    if (auto t = reader.read(address)) {
      out.threads.push_back(std::move(*t));
      ++added;
    }
  }
  if (added || list_broken) {
    out.problems.insert(out.problems.end(), table->problems.begin(), table->problems.end());
  }
  if (added) {
    out.problems.push_back(std::to_string(added) + (added == 1 ? " task" : " tasks") +
                           " reached only through the pid table (init_pid_ns.idr): the task list does not lead to " +
                           (added == 1 ? "it" : "them"));
  }
}

}  // namespace

Result<uint64_t> per_cpu_address(TypedMemory& objects, std::string_view name, uint32_t cpu) {
  auto at = objects.kernel().symbol_address(name);
  if (!at) return make_error("no symbol " + std::string(name) + " in the vmlinux");
  auto offsets = objects.kernel().symbol_address("__per_cpu_offset");
  if (!offsets) return make_error("no symbol __per_cpu_offset: is this an SMP kernel?");
  auto offset = objects.kernel().read_u64(*offsets + 8 * uint64_t{cpu});
  if (!offset) return offset.error();
  return *at + *offset;
}

Result<ThreadList> read_tasks(TypedMemory& objects) {
  ThreadList out;
  auto init_task = objects.kernel().symbol_address("init_task");
  if (!init_task) return make_error("no symbol init_task: give the vmlinux this kernel was built as");
  auto layout = StructReader::of(objects, "struct task_struct");
  if (!layout) return layout.error();
  out.thread_size = find_thread_size(objects);
  read_cpus(objects, out);
  TaskReader reader(objects, std::move(*layout), out);

  for (const Cpu& cpu : out.cpus) {
    if (cpu.id > 0 && !cpu.idle) continue;
    auto idle = reader.read(cpu.idle ? cpu.idle : *init_task);
    if (!idle) continue;
    idle->idle = true;
    idle->parent_id = 0;  // forked from init during SMP bring-up, but nobody's child (crash shows 0 too)
    out.threads.push_back(std::move(*idle));
  }
  auto processes = walk_list(objects, {reader.reader().type(), "tasks", *init_task, false, 1000000});
  if (!processes) return processes.error();
  auto broken = incomplete_walk(*processes, "init_task.tasks");
  if (broken) out.problems.push_back(*broken);
  std::unordered_set<uint64_t> seen;
  for (uint64_t leader : processes->entries) {
    if (leader == *init_task) continue;
    for (uint64_t thread : reader.threads_of(leader)) {
      if (!seen.insert(thread).second) continue;
      if (auto t = reader.read(thread)) out.threads.push_back(std::move(*t));
    }
  }
  add_tasks_only_the_pid_table_holds(objects, reader, seen, broken.has_value(), out);
  for (Task& t : out.threads) {
    t.stack_high = t.stack_low + out.thread_size;
    for (const Cpu& cpu : out.cpus) {
      if (t.address == cpu.current) t.active_on = cpu.id;
    }
  }
  out.panic_cpu = find_panic_cpu(objects, out);
  return out;
}

}  // namespace coroner::linux_kernel
