#include "coroner/analysis/model_facts.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <regex>
#include <set>

#include "coroner/arch/x86_64_paging.hpp"
#include "coroner/format.hpp"
#include "coroner/os/model/kmem_buffers.hpp"
#include "coroner/os/model/model_log.hpp"
#include "coroner/os/model/model_summary.hpp"
#include "coroner/analysis/object_fields.hpp"
#include "coroner/analysis/object_index.hpp"

namespace coroner::analysis {
using namespace os_model;

namespace {

constexpr int kDwarfRbp = 6;  // DWARF register 6 on x86-64

// Addresses the panic string names ("backing_object 0xfffff800534a1600 was somehow
// re-referenced"): objects the crash itself points at, untyped until a rule reads them `as` a type.
void add_named_objects(TypedMemory& objects, const PoisonCatalog& poison, const std::string& os, CrashAnalysis& a) {
  if (!a.threads.panic_message) return;
  static const std::regex kAddress(R"(0x([0-9a-fA-F]{8,16})\b)");
  const std::string& text = *a.threads.panic_message;
  std::set<uint64_t> seen;
  for (std::sregex_iterator it(text.begin(), text.end(), kAddress), end; it != end && a.facts.objects.size() < kMaxObjects; ++it) {
    uint64_t address = std::stoull((*it)[1].str(), nullptr, 16);
    if (address < x86_64::kLowestKernelAddress || !seen.insert(address).second) continue;
    rules::ObjectFacts o;
    o.address = address;
    o.place = rules::ObjectPlace::panic_message;
    o.found_as = "named in the panic message";
    o.as_type = [&objects, &poison, os, address](const std::string& type) {
      return object_field_reader(objects, poison, os, type, address);
    };
    a.facts.objects.push_back(std::move(o));
  }
}

// Every thread whose live frames point at an object: into [address, address + size) for the
// allocator's buffers (`sizes`), at the address itself for the others.
void find_holders(const Unwinder& unwinder, CrashAnalysis& a, const std::map<uint64_t, uint64_t>& sizes) {
  ObjectIndex by_address;
  for (size_t i = 0; i < a.facts.objects.size(); ++i) {
    auto size = sizes.find(a.facts.objects[i].address);
    by_address.add(i, a.facts.objects[i].address, size == sizes.end() ? 1 : size->second);
  }
  if (by_address.empty()) return;
  auto refs = find_stack_references(unwinder, a.threads, [&](uint64_t v) { return by_address.find(v).has_value(); }, &a.backtraces);
  std::map<const Thread*, size_t> index;
  for (size_t i = 0; i < a.threads.threads.size(); ++i) index[&a.threads.threads[i]] = i;
  for (const auto& r : refs) {
    add_holder_of(by_address, a.facts.objects, index[r.thread], r.value, r.place.slot,
                  [&] { return "stack slot " + hex(*r.location) + ", " + r.place.text; });
  }
}

// The words of each of the panicking thread's frames that could be kernel pointers.
// Where the debug info keeps the function's pointer parameters and locals in this frame, and what
// they hold. A frame's CFA is its caller's stack pointer; the outermost frame's, when the unwind
// knows no caller, is taken as a frame-pointer frame's: its frame pointer plus 16 (the saved rbp,
// the return address).
std::vector<rules::FrameWords::Variable> frame_variables(TypedMemory& objects, const Backtrace& bt, size_t i) {
  std::vector<rules::FrameWords::Variable> out;
  const Frame& frame = bt.frames[i];
  if (frame.where.function.empty() || !frame.bp) return out;
  auto layout = objects.debug().frame_layout(frame.where.function);
  if (!layout) return out;
  bool caller_known = i + 1 < bt.frames.size() && bt.frames[i + 1].source != FrameSource::stack_scan;
  uint64_t cfa = caller_known ? bt.frames[i + 1].sp : frame.bp + 16;
  uint64_t base = 0;
  if (layout->base.cfa) base = cfa;
  else if (layout->base.reg == kDwarfRbp) base = frame.bp + static_cast<uint64_t>(layout->base.offset);
  else return out;
  for (const FrameVariable& v : layout->variables) {
    const Type* t = strip_typedefs(v.type);
    if (!t || t->kind != TypeKind::pointer) continue;
    uint64_t location = base + static_cast<uint64_t>(v.base_offset);
    auto value = objects.kernel().read_u64(location);
    if (!value) continue;
    out.push_back({v.name, type_name(v.type), t->target ? type_name(t->target) : "", v.parameter, location, *value});
  }
  return out;
}

void add_crashing_frames(TypedMemory& objects, CrashAnalysis& a) {
  const Kernel& k = objects.kernel();
  const Thread& t = a.threads.threads[*a.threads.crashed];
  const Backtrace& bt = a.backtraces[*a.threads.crashed];
  uint64_t low = t.sp ? t.sp : t.fp;
  for (size_t i = 0; i < bt.frames.size(); ++i) {
    uint64_t high = bt.frames[i].bp ? bt.frames[i].bp : t.stack_high;
    if (t.on_own_stack(high) != t.on_own_stack(low)) low = high;  // the frame that left the interrupt stack
    rules::FrameWords f{bt.frames[i].level, bt.frames[i].where.function, {}, frame_variables(objects, bt, i)};
    if (high > low && high - low <= 0x10000) {
      std::vector<uint8_t> bytes(high - low);
      if (k.read(low, bytes)) {
        for (size_t off = 0; off + 8 <= bytes.size(); off += 8) {
          uint64_t v;
          std::memcpy(&v, bytes.data() + off, 8);
          if (v >= x86_64::kLowestKernelAddress) f.words.push_back({low + off, v});
        }
      }
    }
    a.facts.crashing_frames.push_back(std::move(f));
    low = high;
  }
}

// The structures the crashing frames' pointer parameters and locals point to, typed by the debug
// info: what a debugger's `p *dentry` in that frame shows.
void add_frame_objects(TypedMemory& objects, const PoisonCatalog& poison, const std::string& os, CrashAnalysis& a) {
  for (const rules::FrameWords& f : a.facts.crashing_frames) {
    for (const auto& v : f.variables) {
      auto pointee = objects.debug().find_type(v.pointee);
      const Type* t = pointee ? strip_typedefs(*pointee) : nullptr;
      if (!t || (t->kind != TypeKind::structure && t->kind != TypeKind::union_type) || v.value < x86_64::kLowestKernelAddress) continue;
      std::string where = v.name + ", " + (v.parameter ? "parameter" : "local") + " of frame #" + std::to_string(f.level) + " " +
                          f.function + " at " + hex(v.location);
      auto same = std::find_if(a.facts.objects.begin(), a.facts.objects.end(), [&](const auto& o) { return o.address == v.value; });
      if (same != a.facts.objects.end()) {
        if (!same->type.empty()) continue;
        same->type = v.pointee;  // a stack address the registers hold, typed by the variable that points to it
        same->field = object_field_reader(objects, poison, os, v.pointee, v.value);
        same->found_as += "; " + where;
        continue;
      }
      if (a.facts.objects.size() >= kMaxObjects) return;
      rules::ObjectFacts o;
      o.address = v.value;
      o.place = rules::ObjectPlace::frame;
      o.type = v.pointee;
      o.found_as = where;
      o.field = object_field_reader(objects, poison, os, v.pointee, v.value);
      a.facts.objects.push_back(std::move(o));
    }
  }
}

// Addresses the crashing CPU's registers hold that are on a thread's stack: its own below the
// frames it was interrupted in, or another thread's. A frame that returned and whose memory the
// crash still uses is how seed 003's completion died.
void add_stack_addresses(CrashAnalysis& a) {
  const Thread& crashing = a.threads.threads[*a.threads.crashed];
  if (!crashing.registers) return;
  std::set<uint64_t> seen;
  for (const auto& o : a.facts.objects) seen.insert(o.address);
  for (int r = 0; r < kRegCount; ++r) {
    uint64_t value = crashing.registers->regs[static_cast<size_t>(r)];
    auto reg = static_cast<Reg>(r);
    if (reg == Reg::rsp || reg == Reg::rbp || reg == Reg::rip || value < x86_64::kLowestKernelAddress) continue;
    for (size_t i = 0; i < a.threads.threads.size() && a.facts.objects.size() < kMaxObjects; ++i) {
      const Thread& owner = a.threads.threads[i];
      if (!owner.on_own_stack(value) || seen.contains(value)) continue;
      SlotPlace slot = place_on_stack(owner, a.backtraces[i], value);
      const std::string& place = slot.text;
      bool dead = slot.dead();
      if (i == *a.threads.crashed && !dead) continue;  // its own live frames: where it is working
      seen.insert(value);
      rules::ObjectFacts o;
      o.address = value;
      o.place = rules::ObjectPlace::stack;
      o.dead_frame = dead;
      o.found_as = std::string("register ") + reg_name(reg) + " at the crash; on the stack of " + thread_label(owner) + ", " + place;
      add_holder(o, i, "on its own stack, " + place);
      a.facts.objects.push_back(std::move(o));
    }
  }
}

// The allocator's buffers the panicking thread's stack points to, freed or not, typed through their
// cache's name; returns each buffer's size by address.
std::map<uint64_t, uint64_t> add_kmem_buffers(TypedMemory& objects, const OsModel& model, const PoisonCatalog& poison,
                                              const KmemBuffers& kmem, CrashAnalysis& a) {
  const Kernel& k = objects.kernel();
  const Thread& panicking = a.threads.threads[*a.threads.crashed];
  const Backtrace& bt = a.backtraces[*a.threads.crashed];
  uint64_t low = panicking.sp ? panicking.sp : panicking.fp;
  std::vector<uint8_t> words(low < panicking.stack_high && panicking.stack_high - low <= (1u << 20) ? panicking.stack_high - low : 0);
  if (!words.empty() && !k.read(low, words)) words.clear();
  std::map<uint64_t, uint64_t> sizes;
  std::set<uint64_t> seen;
  for (size_t off = 0; off + 8 <= words.size() && a.facts.objects.size() < kMaxObjects; off += 8) {
    uint64_t v;
    std::memcpy(&v, words.data() + off, 8);
    if (v < x86_64::kLowestKernelAddress || seen.contains(v)) continue;
    auto b = kmem.buffer_at(v);
    if (!b) continue;
    seen.insert(v);
    rules::ObjectFacts o;
    o.address = v;
    o.cache = b->cache;
    o.free = b->free;
    o.found_as = "stack slot " + hex(low + off) + " in " + place_on_stack(panicking, bt, low + off).text;
    if (b->audit) o.found_as += "; kmem audit: last " + std::string(b->free ? "freed" : "allocated") + " by thread " +
                                thread_label(a.threads, b->audit->thread);
    if (objects.debug().find_type(b->cache)) {
      o.type = b->cache;  // illumos names a cache after its type: "htable_t"
      o.field = object_field_reader(objects, poison, model.os, b->cache, v);
    }
    a.facts.objects.push_back(std::move(o));
    sizes[b->address] = b->size;
  }
  return sizes;
}

void add_threads(const Unwinder& unwinder, CrashAnalysis& a) {
  for (size_t i = 0; i < a.threads.threads.size(); ++i) {
    const Thread& t = a.threads.threads[i];
    a.backtraces.push_back(unwind(unwinder, t));
    std::vector<std::string> functions;
    for (const auto& f : a.backtraces.back().frames) functions.push_back(f.where.function);
    a.facts.threads.push_back({static_cast<int>(t.process_id), static_cast<int>(t.process_id), t.comm, functions, t.state});
  }
  if (a.threads.crashed) a.facts.crashing = static_cast<int>(*a.threads.crashed);
}

void add_log(const OsModel& model, const std::optional<Result<KernelLog>>& log, CrashAnalysis& a) {
  if (log && *log) {
    a.facts.log = (*log)->lines();
    if (!model.panic_log.empty()) a.facts.panic = panic_from_log(model, a.facts.log);
  } else if (log) {
    a.problems.push_back("message buffer: " + log->error().message);
  }
}

// The panicking thread, and every other thread that holds a freed buffer it used or an address
// its panic message names.
void add_threads_of_interest(CrashAnalysis& a) {
  if (!a.threads.crashed) return;
  a.crashing = &a.threads.threads[*a.threads.crashed];
  a.crashing_bt = a.backtraces[*a.threads.crashed];
  for (const auto& o : a.facts.objects) {
    const bool named = o.place == rules::ObjectPlace::panic_message;
    if (!o.free && !named) continue;
    for (const auto& h : o.holders) {
      if (static_cast<int>(h.thread) == a.facts.crashing) continue;
      std::string what = named ? "holds " + hex(o.address) + ", which the panic message names"
                               : "holds freed " + o.cache + " buffer " + hex(o.address);
      a.other_threads.push_back({&a.threads.threads[h.thread], a.facts.threads[h.thread].pid, what + " (" + h.where + ")",
                                 a.facts.threads[h.thread].functions});
    }
  }
}

}  // namespace

CrashAnalysis analyze_model_crash(TypedMemory& objects, const OsModel& model, const PoisonCatalog& poison,
                                  const std::function<void(std::string_view)>& step) {
  auto at = [&](std::string_view what) {
    if (step) step(what);
  };
  CrashAnalysis a;
  a.facts.os = model.os;
  std::optional<Result<KernelLog>> log;  // read once: the panic facts, the summary and the rules' log
  if (model.log) log = read_log(objects, model);
  const Result<KernelLog>* read = log ? &*log : nullptr;
  a.summary = summarize_model(objects, model, read);
  at("reading the threads");
  a.threads = read_threads(objects, model, read);
  a.problems = a.threads.problems;
  if (a.threads.panic_message && model.panic_log.empty()) a.facts.panic.push_back(*a.threads.panic_message);
  at("unwinding " + std::to_string(a.threads.threads.size()) + " threads");
  const Unwinder unwinder = model_unwinder(objects);
  add_threads(unwinder, a);
  if (a.threads.crashed) {
    add_crashing_frames(objects, a);
    add_stack_addresses(a);
  }
  a.facts.read_as = [&objects, &poison, os = model.os](uint64_t address, const std::string& type) {
    return object_field_reader(objects, poison, os, type, address);
  };
  add_log(model, log, a);
  add_named_objects(objects, poison, model.os, a);
  std::map<uint64_t, uint64_t> sizes;
  auto kmem = KmemBuffers::read(objects, model);
  if (kmem && a.threads.crashed) {
    at("following the buffers the panicking thread used");
    sizes = add_kmem_buffers(objects, model, poison, *kmem, a);
    at("finding the threads that hold them");
  }
  add_frame_objects(objects, poison, model.os, a);  // after the allocator's: its objects know more
  find_holders(unwinder, a, sizes);
  add_threads_of_interest(a);
  // The panic string is the model's panic message, and its cause when the kernel says no other.
  if (a.threads.panic_message) a.summary.panic_message.value = a.threads.panic_message;
  if (!a.summary.panic_cause.value) a.summary.panic_cause.value = a.summary.panic_message.value;
  if (log && *log) a.log = std::move(log->value());
  return a;
}

}  // namespace coroner::analysis
