#include "coroner/analysis/crash_objects.hpp"

#include <algorithm>
#include <cstring>
#include <regex>

#include "coroner/analysis/object_fields.hpp"
#include "coroner/arch/x86_64_paging.hpp"
#include "coroner/format.hpp"

namespace coroner::analysis {

namespace {

constexpr size_t kMaxStackWords = 4096;
constexpr uint64_t kMaxFrameBytes = 0x4000;
constexpr uint64_t kMaxObjectBytesFollowed = 1024;
constexpr int kDwarfRbp = 6;  // DWARF register 6 on x86-64
// pt_regs slots of the general registers, the argument registers first (di, si, dx, cx, r8, r9):
// an object several registers point to is named after the first, most often what a call was given.
constexpr int kRegistersArgumentsFirst[] = {14, 13, 12, 11, 9, 8, 10, 5, 4, 3, 2, 1, 0, 7, 6};

bool kernel_pointer(uint64_t v) { return v >= x86_64::kLowestKernelAddress; }

// A frame whose extent the unwinder knows: not one a stack scan guessed.
bool has_extent(const Frame& f) { return f.source != FrameSource::stack_scan && f.caller_sp > f.sp && f.caller_sp - f.sp <= kMaxFrameBytes; }

// Calls `each(address, word)` for every aligned word of [low, high) that reads.
template <typename Each>
void for_each_word(TypedMemory& objects, uint64_t low, uint64_t high, Each each) {
  if (high <= low) return;
  ObjectBytes bytes = objects.read_object(low, high - low);
  for (uint64_t off = 0; off + 8 <= bytes.data.size(); off += 8) {
    if (!bytes.readable(off, 8)) continue;
    uint64_t v;
    std::memcpy(&v, bytes.data.data() + off, 8);
    if (!each(low + off, v)) return;
  }
}

// Where the debug info keeps the function's pointer parameters and locals in this frame, and what
// they hold. A frame's CFA is its caller's stack pointer; without one, a frame-pointer frame's:
// its frame pointer plus 16 (the saved rbp, the return address).
std::vector<rules::FrameWords::Variable> frame_variables(TypedMemory& objects, const Frame& frame) {
  std::vector<rules::FrameWords::Variable> out;
  if (frame.where.function.empty() || !frame.bp) return out;
  auto layout = objects.debug().frame_layout(frame.where.function);
  if (!layout) return out;
  uint64_t cfa = frame.caller_sp ? frame.caller_sp : frame.bp + 16;
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

}  // namespace

CrashObjects::CrashObjects(Target& target, const ThreadList& threads, const std::vector<Backtrace>& backtraces,
                           size_t crashing, rules::Facts& facts)
    : target_(target), threads_(threads), backtraces_(backtraces), crashing_(crashing), facts_(facts) {
  for (size_t i = 0; i < threads.threads.size(); ++i) {
    const Thread& t = threads.threads[i];
    if (t.stack_high > t.stack_low) stacks_.add(i, t.stack_low, t.stack_high - t.stack_low);
  }
}

rules::FieldReader CrashObjects::reader(const std::string& type, uint64_t address) {
  return object_field_reader(*target_.objects, target_.poison, facts_.os, type, address);
}

// The type an allocator's cache is named after, as the debug info spells it: Linux's "dentry"
// cache holds struct dentry, illumos' "htable_t" cache htable_t.
std::string CrashObjects::type_of_cache(const std::string& cache) {
  auto t = target_.debug->find_type(cache);
  if (!t) return "";
  TypeKind kind = (*t)->kind;
  if (kind != TypeKind::structure && kind != TypeKind::union_type && kind != TypeKind::typedef_name) return "";
  return type_name(*t);
}

// An allocated object whose last free is older than its last allocation lived before: freed and
// handed out again. A new slab's objects have zeroed tracks: a free with no caller never happened.
std::optional<rules::Reallocation> CrashObjects::reallocation(const Allocation& o) {
  if (o.free || !o.allocated || !o.freed) return std::nullopt;
  const AllocatorEvent& a = *o.allocated;
  const AllocatorEvent& f = *o.freed;
  if (!a.caller || !f.caller || !f.when || !a.when || static_cast<int64_t>(*a.when - *f.when) < 0) return std::nullopt;
  rules::Reallocation r;
  r.free_pid = static_cast<int>(f.pid);
  r.alloc_pid = static_cast<int>(a.pid);
  r.free_function = target_.locate(f.caller, true).function;
  r.alloc_function = target_.locate(a.caller, true).function;
  r.free_age = f.age;
  r.alloc_age = a.age;
  return r;
}

bool CrashObjects::add_allocation(uint64_t value, const Found& found) {
  auto found_in = target_.allocation_at(value);
  if (!found_in) return false;
  if (seen_.contains(found_in->start) || facts_.objects.size() >= kMaxObjects) return true;
  seen_.insert(found_in->start);
  Allocation a = target_.allocation_at(found_in->start, true).value_or(*found_in);
  rules::ObjectFacts f;
  f.address = a.start;
  f.cache = a.cache;
  f.found_as = found.how;
  f.free = a.free;
  f.place = rules::ObjectPlace::slab;
  f.pointers = found.pointers;
  f.operand = found.operand;
  f.reallocation = reallocation(a);
  // An allocator that records the thread of its last transaction says who (kmem's audit).
  if (const auto& last = a.free ? a.freed : a.allocated; last && last->thread) {
    f.found_as += "; " + a.audit + ": last " + (a.free ? "freed" : "allocated") + " by thread " + thread_label(threads_, last->thread);
  }
  f.type = type_of_cache(a.cache);
  if (!f.type.empty()) f.field = reader(f.type, a.start);
  size_.resize(facts_.objects.size());
  size_.push_back(a.size);
  facts_.objects.push_back(std::move(f));
  return true;
}

void CrashObjects::add_stack_address(uint64_t value, const Found& found) {
  if (!found.stack_allowed || seen_.contains(value) || facts_.objects.size() >= kMaxObjects) return;
  auto owner = stacks_.find(value);
  if (!owner) return;
  const Thread& t = threads_.threads[*owner];
  // The lowest address of a stack is the stack's own allocation (Linux's task->stack), not a frame.
  if (value == t.stack_low) return;
  SlotPlace place = target_.place_on_stack(t, backtraces_[*owner], value);
  // Its own stack: live frames are where it is working, and below its stack pointer is the scratch
  // of the code that crashed; only when it crashed on another stack (an interrupt's) is what lies
  // below the frames that were interrupted a frame that returned.
  if (*owner == crashing_ && (!place.dead() || crashed_on_own_stack())) return;
  seen_.insert(value);
  rules::ObjectFacts f;
  f.address = value;
  f.place = rules::ObjectPlace::stack;
  f.pointers = found.pointers;
  f.dead_frame = place.dead();
  f.found_as = found.how + "; on the stack of " + evidence_label(threads_, t) + ", " + place.text;
  add_holder(f, *owner, "on its own stack, " + place.text);
  facts_.objects.push_back(std::move(f));
}

bool CrashObjects::crashed_on_own_stack() const {
  const Backtrace& bt = backtraces_[crashing_];
  return !bt.frames.empty() && threads_.threads[crashing_].on_own_stack(bt.frames.front().sp);
}

void CrashObjects::add_value(uint64_t value, const Found& found) {
  if (!kernel_pointer(value) || facts_.objects.size() >= kMaxObjects) return;
  if (!add_allocation(value, found)) add_stack_address(value, found);
}

void CrashObjects::add_fault(const linux_kernel::FaultExplanation& fault) {
  if (fault.faulting) {
    if (fault.address) add_value(*fault.address, {"the faulting address", 0, false, true});
    for (const auto& p : fault.chain) {
      if (p.address) add_value(*p.address, {p.reg + " was loaded from it by `" + p.instruction.text() + "`", 0, false, true});
    }
  }
  if (fault.checked && fault.checked_by) {
    add_value(*fault.checked, {"what the failed check read, by `" + fault.checked_by->text() + "`", 0, false, true});
  }
}

void CrashObjects::add_registers_of(const x86_64::PtRegs& regs, const Frame& f) {
  for (int r : kRegistersArgumentsFirst) {
    add_value(regs[r], {std::string("register ") + x86_64::pt_regs_name(r) + " of the exception at frame #" + std::to_string(f.level) +
                            " " + f.where.function, 0, true});
  }
}

void CrashObjects::add_registers(const linux_kernel::FaultExplanation* fault) {
  const Backtrace& bt = backtraces_[crashing_];
  bool exception = false;
  if (fault && fault->frame && !fault->frame->regs) {
    add_registers_of(fault->regs, *fault->frame);
    exception = true;
  }
  for (const Frame& f : bt.frames) {
    if (f.regs && !x86_64::user_mode(*f.regs)) {
      add_registers_of(*f.regs, f);
      exception = true;
    }
  }
  const Thread& crashing = threads_.threads[crashing_];
  if (exception || !crashing.registers) return;
  for (int r = 0; r < kRegCount; ++r) {
    auto reg = static_cast<Reg>(r);
    if (reg == Reg::rsp || reg == Reg::rbp || reg == Reg::rip) continue;
    add_value(crashing.registers->regs[static_cast<size_t>(r)], {std::string("register ") + reg_name(reg) + " at the crash", 0, true});
  }
}

void CrashObjects::add_named(const std::string& text) {
  static const std::regex kAddress(R"(0x([0-9a-fA-F]{8,16})\b)");
  for (std::sregex_iterator it(text.begin(), text.end(), kAddress), end; it != end && facts_.objects.size() < kMaxObjects; ++it) {
    uint64_t address = std::stoull((*it)[1].str(), nullptr, 16);
    if (!kernel_pointer(address) || !seen_.insert(address).second) continue;
    rules::ObjectFacts o;
    o.address = address;
    o.place = rules::ObjectPlace::panic_message;
    o.found_as = "named in the panic message";
    // The gatherer is gone when a rule reads it: the reader holds the target itself.
    o.as_type = [&target = target_, os = facts_.os, address](const std::string& type) {
      return object_field_reader(*target.objects, target.poison, os, type, address);
    };
    facts_.objects.push_back(std::move(o));
  }
}

void CrashObjects::add_stack_words() {
  size_t words = 0;
  for (const Frame& f : backtraces_[crashing_].frames) {
    if (!has_extent(f)) continue;
    std::string in = " in frame #" + std::to_string(f.level) + " " + f.where.short_text(f.pc);
    for_each_word(*target_.objects, f.sp, f.caller_sp, [&](uint64_t at, uint64_t v) {
      if (words++ >= kMaxStackWords) return false;
      add_value(v, {"stack slot " + hex(at) + in, 0, false});  // stack slots hold too many stale stack addresses
      return true;
    });
  }
}

void CrashObjects::add_frames() {
  for (const Frame& frame : backtraces_[crashing_].frames) {
    rules::FrameWords words{frame.level, frame.where.function, {}, frame_variables(*target_.objects, frame)};
    if (has_extent(frame)) {
      for_each_word(*target_.objects, frame.sp, frame.caller_sp, [&](uint64_t at, uint64_t v) {
        if (kernel_pointer(v)) words.words.push_back({at, v});
        return true;
      });
    }
    for (const auto& v : words.variables) {
      auto pointee = target_.debug->find_type(v.pointee);
      const Type* t = pointee ? strip_typedefs(*pointee) : nullptr;
      if (!t || (t->kind != TypeKind::structure && t->kind != TypeKind::union_type) || !kernel_pointer(v.value)) continue;
      std::string where = v.name + ", " + (v.parameter ? "parameter" : "local") + " of frame #" + std::to_string(words.level) + " " +
                          words.function + " at " + hex(v.location);
      auto same = std::find_if(facts_.objects.begin(), facts_.objects.end(), [&](const auto& o) { return o.address == v.value; });
      if (same != facts_.objects.end()) {
        if (!same->type.empty()) continue;
        same->type = v.pointee;  // an address the registers hold, typed by the variable that points to it
        same->field = reader(v.pointee, v.value);
        same->found_as += "; " + where;
        continue;
      }
      if (facts_.objects.size() >= kMaxObjects) break;
      rules::ObjectFacts o;
      o.address = v.value;
      o.place = rules::ObjectPlace::frame;
      o.type = v.pointee;
      o.found_as = where;
      o.field = reader(v.pointee, v.value);
      facts_.objects.push_back(std::move(o));
    }
    facts_.crashing_frames.push_back(std::move(words));
  }
}

void CrashObjects::follow_pointers(int hops) {
  size_t begin = 0;
  for (int hop = 1; hop <= hops; ++hop) {
    size_t end = facts_.objects.size();
    for (size_t i = begin; i < end; ++i) {
      if (facts_.objects[i].place == rules::ObjectPlace::slab) follow(i, hop);
    }
    begin = end;
  }
}

// The words of one allocator object, as pointers to what it refers to. A field's address on
// another thread's stack counts (an object does not hold stale stack addresses the way a frame's
// slots do): a request's private pointer into its submitter's frame is how a dead frame is reached.
void CrashObjects::follow(size_t object, int hop) {
  if (object >= size_.size() || !size_[object]) return;
  const uint64_t address = facts_.objects[object].address;
  const std::string name = facts_.objects[object].type.empty() ? facts_.objects[object].cache : facts_.objects[object].type;
  const uint64_t size = std::min<uint64_t>(*size_[object], kMaxObjectBytesFollowed);
  DebugInfo& debug = *target_.debug;
  auto type = facts_.objects[object].type.empty() ? Result<const Type*>(make_error("untyped"))
                                                  : debug.find_type(facts_.objects[object].type);
  struct Word {
    uint64_t value;
    std::string member;
    bool typed_pointer;
  };
  std::vector<Word> words;
  for_each_word(*target_.objects, address, address + size, [&](uint64_t at, uint64_t v) {
    if (!kernel_pointer(v) || (v >= address && v < address + size)) return true;  // not a pointer, or to itself
    Word w{v, "+" + hex(at - address), false};
    if (type) {
      if (auto m = debug.member_at(*type, at - address)) {
        w.member = "." + m->path;
        const Type* t = strip_typedefs(m->type);
        w.typed_pointer = t && t->kind == TypeKind::pointer;
      }
    }
    words.push_back(std::move(w));
    return true;
  });
  std::stable_partition(words.begin(), words.end(), [](const Word& w) { return w.typed_pointer; });
  for (const Word& w : words) {
    std::string how = name + " " + hex(address) + " " + w.member + " -> (" + std::to_string(hop) +
                      (hop == 1 ? " pointer" : " pointers") + " from what the crashing thread used)";
    add_value(w.value, {how, hop, true});
  }
}

void CrashObjects::find_holders() {
  ObjectIndex by_address;
  for (size_t i = 0; i < facts_.objects.size(); ++i) {
    uint64_t size = i < size_.size() && size_[i] ? *size_[i] : 1;
    by_address.add(i, facts_.objects[i].address, size ? size : 8);
  }
  if (by_address.empty()) return;
  auto refs = target_.stack_references([&](uint64_t v) { return by_address.find(v).has_value(); });
  if (!refs) return;
  for (const StackReference& r : *refs) {
    add_holder_of(by_address, facts_.objects, threads_.index_of(*r.thread), r.value, r.place.slot,
                  [&] { return r.location ? "stack slot " + hex(*r.location) + ", " + r.place.text : r.place.text; });
  }
}

}  // namespace coroner::analysis
