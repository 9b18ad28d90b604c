#include "coroner/os/model/model_threads.hpp"

#include <cctype>
#include <cstring>
#include <regex>
#include <set>

#include "coroner/format.hpp"
#include "coroner/os/model/model_log.hpp"
#include "coroner/os/model/model_summary.hpp"
#include "coroner/target/expression.hpp"

namespace coroner::os_model {
namespace {

constexpr uint64_t kPageSize = 4096;
constexpr uint64_t kMaxStack = 1 << 20;

// Expressions of a model, evaluated globally or on one structure of a known type.
class Evaluator {
 public:
  explicit Evaluator(TypedMemory& objects) : objects_(objects) {}

  Result<Value> global(const std::string& expression) { return evaluate(objects_, expression); }
  Result<Value> on(const std::string& type, uint64_t address, const std::string& member) {
    return evaluate(objects_, on_text(type, address, member));
  }
  Result<uint64_t> integer(const std::string& expression) { return evaluate_integer(objects_, expression); }
  Result<uint64_t> integer(const std::string& type, uint64_t address, const std::string& member) {
    return evaluate_integer(objects_, on_text(type, address, member));
  }
  Result<std::string> text(Result<Value> v) {
    if (!v) return v.error();
    return value_text(objects_, *v);
  }

 private:
  // "member.path" is read on the item; an expression naming `this` ("container_of(this->tasks.next,
  // struct task_struct, tasks)") has the item put in its place; any other ("&thread_return", "2")
  // is the same for every item.
  static std::string on_text(const std::string& type, uint64_t address, const std::string& member) {
    std::string item = "((" + type + " *)" + hex(address) + ")";
    static const std::regex kThis(R"(\bthis\b)");
    if (std::regex_search(member, kThis)) return std::regex_replace(member, kThis, item);
    bool member_path = !member.empty() && (std::isalpha(static_cast<unsigned char>(member[0])) || member[0] == '_');
    return member_path ? item + "->" + member : member;
  }

  TypedMemory& objects_;
};

// Every item of a list: from `first` (already evaluated), `next` on each, to NULL or a loop.
std::vector<uint64_t> walk(Evaluator& eval, const std::string& type, uint64_t first, const std::string& next,
                           size_t limit, std::vector<std::string>& problems) {
  std::vector<uint64_t> out;
  std::set<uint64_t> seen;
  for (uint64_t at = first; at != 0 && out.size() < limit;) {
    if (!seen.insert(at).second) break;  // back at an item already seen: the circle is closed
    out.push_back(at);
    auto n = eval.integer(type, at, next);
    if (!n) {
      problems.push_back("the list stops at " + hex(at) + ": " + n.error().message);
      break;
    }
    at = *n;
  }
  if (out.size() >= limit) problems.push_back("the list was cut at " + std::to_string(limit) + " items");
  return out;
}

Thread read_thread(Evaluator& eval, const OsModel& m, uint64_t address) {
  Thread t;
  t.address = address;
  auto number = [&](const std::string& expr, const char* what) -> std::optional<uint64_t> {
    if (expr.empty()) return std::nullopt;
    auto v = eval.integer(m.thread_type, address, expr);
    if (!v) {
      t.problems.push_back(std::string(what) + ": " + v.error().message);
      return std::nullopt;
    }
    return *v;
  };
  t.thread_id = number(m.id, "id").value_or(address);
  if (auto v = number(m.pid, "pid")) t.process_id = static_cast<int64_t>(*v);
  if (auto v = number(m.lwp, "lwp")) t.lwp = static_cast<int64_t>(*v);
  if (!m.comm.empty()) {
    auto c = eval.text(eval.on(m.thread_type, address, m.comm));
    if (c) {
      t.comm = *c;
    } else {
      t.problems.push_back("comm: " + c.error().message);
    }
  }
  if (auto v = number(m.state, "state")) {
    auto it = m.states.find(*v);
    t.state = it == m.states.end() ? '?' : it->second;
  }
  t.stack_low = number(m.stack_low, "stack_low").value_or(0);
  if (!m.stack_high.empty()) {
    t.stack_high = number(m.stack_high, "stack_high").value_or(0);
  } else if (auto pages = number(m.stack_pages, "stack_pages")) {
    t.stack_high = t.stack_low + *pages * kPageSize;
  }
  t.pc = number(m.pc, "pc").value_or(0);
  t.sp = number(m.sp, "sp").value_or(0);
  t.fp = number(m.fp, "fp").value_or(0);
  t.interrupt_stack_size = m.interrupt_stack_size;
  return t;
}

// Each NT_PRSTATUS note (one per CPU, in CPU order) gives the thread it names its registers at the
// crash: a running thread's saved context is from its last switch, long stale. The crashing CPU's
// thread is the panicking one.
void apply_cpu_registers(Evaluator& eval, const Kernel& kernel, const OsModel& m, ThreadList& out) {
  const auto& notes = kernel.dump().notes().prstatus;
  std::optional<uint64_t> panic_cpu;
  if (!m.panic_cpu.empty()) {
    auto cpu = eval.integer(m.panic_cpu);
    if (cpu) panic_cpu = *cpu;
    else out.problems.push_back("the crashing CPU (" + m.panic_cpu + "): " + cpu.error().message);
  }
  if (notes.empty()) out.problems.push_back("the dump has no NT_PRSTATUS notes: no thread's registers at the crash");
  for (size_t cpu = 0; cpu < notes.size(); ++cpu) {
    const PrStatus& note = notes[cpu];
    if (note.pid == 0) continue;  // an idle CPU: every idle task has pid 0, and only CPU 0's is on the list
    for (size_t i = 0; i < out.threads.size(); ++i) {
      Thread& t = out.threads[i];
      if (t.thread_id != static_cast<uint64_t>(note.pid)) continue;
      t.active_on = static_cast<uint32_t>(cpu);
      t.registers = note;
      t.pc = note.reg(Reg::rip);
      t.sp = note.reg(Reg::rsp);
      t.fp = note.reg(Reg::rbp);
      if (auto irq = t.interrupt_stack()) {
        auto saved = kernel.read_u64(irq->second + static_cast<uint64_t>(m.interrupted_sp_offset));
        if (saved && t.on_own_stack(*saved)) t.interrupted_sp = *saved;
      }
      if (panic_cpu && *panic_cpu == cpu) out.crashed = i;
      break;
    }
  }
  if (panic_cpu && !out.crashed) {
    out.problems.push_back("no thread on the list is the one CPU " + std::to_string(*panic_cpu) +
                           "'s NT_PRSTATUS note names (" + std::to_string(notes.size()) + " notes)");
  }
}

}  // namespace

ThreadList read_threads(TypedMemory& objects, const OsModel& m, const Result<KernelLog>* log, size_t limit) {
  ThreadList out;
  out.naming = ThreadNaming::process_id;  // a model kernel's threads live in processes, named by their pid
  Evaluator eval(objects);
  std::vector<uint64_t> addresses;
  auto first_of = [&](Result<uint64_t> n, const std::string& what) -> uint64_t {
    if (!n) out.problems.push_back(what + ": " + n.error().message);
    return n.value_or(0);
  };
  if (m.processes) {
    uint64_t first = first_of(eval.integer(m.processes->first), "processes `" + m.processes->first + "`");
    for (uint64_t p : walk(eval, m.process_type, first, m.processes->next, limit, out.problems)) {
      uint64_t t = first_of(eval.integer(m.process_type, p, m.threads.first), "threads of process " + hex(p));
      auto more = walk(eval, m.thread_type, t, m.threads.next, limit, out.problems);
      addresses.insert(addresses.end(), more.begin(), more.end());
    }
  } else {
    uint64_t first = first_of(eval.integer(m.threads.first), "threads `" + m.threads.first + "`");
    addresses = walk(eval, m.thread_type, first, m.threads.next, limit, out.problems);
  }
  for (uint64_t a : addresses) out.threads.push_back(read_thread(eval, m, a));
  out.panic_message = read_panic(objects, m, log, out.problems).message.value;
  std::optional<uint64_t> panic_address, panic_id;
  if (!m.panic_thread.empty()) panic_address = eval.integer(m.panic_thread).value_or(0);
  if (!m.panic_thread_id.empty()) panic_id = eval.integer(m.panic_thread_id).value_or(0);
  for (size_t i = 0; i < out.threads.size(); ++i) {
    const auto& t = out.threads[i];
    if ((panic_address && *panic_address && t.address == *panic_address) || (panic_id && *panic_id && t.thread_id == *panic_id)) {
      out.crashed = i;
    }
  }
  if (m.prstatus_registers) apply_cpu_registers(eval, objects.kernel(), m, out);
  if (out.crashed && !m.panic_pc.empty()) {
    Thread& t = out.threads[*out.crashed];
    auto pc = eval.integer(m.panic_pc);
    auto sp = eval.integer(m.panic_sp);
    auto fp = eval.integer(m.panic_fp);
    if (pc && sp && fp) {
      t.pc = *pc;
      t.sp = *sp;
      t.fp = *fp;
    } else {
      out.problems.push_back("the panic context (" + m.panic_pc + "): " + (!pc ? pc.error() : !sp ? sp.error() : fp.error()).message);
    }
  }
  return out;
}

Unwinder model_unwinder(TypedMemory& objects) {
  const Kernel& kernel = objects.kernel();
  DebugInfo& debug = objects.debug();
  // The model kernels' images are not relocated: a run-time address is the link-time one.
  CodeView code;
  code.is_text = [&kernel](uint64_t pc) { return kernel.symbols() && kernel.symbols()->in_code(pc); };
  code.locate = [&kernel](uint64_t pc, bool return_address) { return locate_in_image(kernel, pc, return_address); };
  code.line = [&debug](uint64_t pc) { return debug.source_line(pc); };
  code.call_frame_rule = [&debug](uint64_t pc) { return debug.call_frame_rule(pc); };
  return Unwinder(kernel, std::move(code));
}

// Frames chain from the interrupt stack (when the registers are on one) into the thread's own
// stack, never back.
Backtrace unwind(const Unwinder& unwinder, const Thread& t) {
  Backtrace bt;
  if (!t.pc) {
    bt.end = "no saved pc";
    return bt;
  }
  bt.start = t.active_on ? "registers of CPU " + std::to_string(*t.active_on) + " (NT_PRSTATUS)" : "the thread's saved context";
  std::vector<StackRange> stacks;
  if (auto irq = t.interrupt_stack()) stacks.push_back({"interrupt", irq->first, irq->second});
  if (t.stack_low < t.stack_high) stacks.push_back({"thread", t.stack_low, t.stack_high});
  UnwindStart start;
  start.ip = t.pc;
  start.sp = t.sp;
  start.bp = t.fp;
  start.exact_ip = true;
  unwinder.unwind(start, std::move(stacks), bt);
  return bt;
}

// The lowest live word of the thread's own stack: its stack pointer, or when its registers are on
// an interrupt stack, the stack pointer the interrupt saved, else the first frame the chain
// reaches on its own stack.
uint64_t lowest_live(const Thread& t, const Backtrace& bt) {
  if (t.sp && t.on_own_stack(t.sp)) return t.sp;
  if (t.interrupted_sp) return t.interrupted_sp;
  for (const auto& f : bt.frames) {
    if (t.on_own_stack(f.bp)) return f.bp;
  }
  return t.sp ? t.sp : (bt.frames.empty() ? 0 : bt.frames.front().bp);
}

// A frame owns the words from its callee's frame pointer up to its own: [fp_n-1, fp_n). Saved
// arguments (-msave-args) and locals sit just below a frame pointer, in that frame's range.
SlotPlace place_on_stack(const Thread& t, const Backtrace& bt, uint64_t location) {
  const uint64_t lowest = lowest_live(t, bt);
  for (size_t i = 0; i < bt.frames.size(); ++i) {
    const Frame& f = bt.frames[i];
    uint64_t low = i == 0 ? lowest : bt.frames[i - 1].bp;
    if (t.on_own_stack(location) && !t.on_own_stack(low)) low = lowest;  // the first frame past the interrupt stack
    uint64_t high = f.bp ? f.bp : t.stack_high;
    if (location >= low && location < high) {
      return {StackSlot::live_frame, "frame #" + std::to_string(f.level) + " " + f.where.short_text(f.pc), f};
    }
  }
  if (location < lowest) return {StackSlot::below_stack_pointer, kBelowStackPointerText};
  return {StackSlot::outside_frames, kOutsideFramesText};
}

std::vector<StackReference> find_stack_references(const Unwinder& unwinder, const ThreadList& threads,
                                                  const std::function<bool(uint64_t)>& match,
                                                  const std::vector<Backtrace>* backtraces) {
  const Kernel& kernel = unwinder.kernel();
  std::vector<StackReference> out;
  for (const Thread& t : threads.threads) {
    if (t.stack_high <= t.stack_low || t.stack_high - t.stack_low > kMaxStack) continue;
    std::vector<uint8_t> bytes(t.stack_high - t.stack_low);
    if (!kernel.read(t.stack_low, bytes)) continue;
    std::optional<Backtrace> bt;
    for (uint64_t off = 0; off + 8 <= bytes.size(); off += 8) {
      uint64_t v;
      std::memcpy(&v, bytes.data() + off, 8);
      if (!match(v)) continue;
      size_t i = static_cast<size_t>(&t - threads.threads.data());
      const bool known = backtraces && i < backtraces->size();
      if (!known && !bt) bt = unwind(unwinder, t);
      uint64_t location = t.stack_low + off;
      out.push_back({&t, v, location, "", "thread", place_on_stack(t, known ? (*backtraces)[i] : *bt, location)});
    }
  }
  return out;
}

}  // namespace coroner::os_model
