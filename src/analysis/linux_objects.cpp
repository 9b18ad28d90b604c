#include "coroner/analysis/linux_objects.hpp"

#include <algorithm>
#include <cstring>

#include "coroner/arch/x86_64_paging.hpp"
#include "coroner/format.hpp"
#include "coroner/os/linux/stack_references.hpp"
#include "coroner/os/linux/whatis.hpp"
#include "coroner/analysis/object_fields.hpp"

namespace coroner::analysis {
using namespace linux_kernel;

namespace {

constexpr size_t kMaxStackWords = 4096;
constexpr uint64_t kMaxObjectBytesFollowed = 1024;
// pt_regs slots of the general registers, the argument registers first (di, si, dx, cx, r8, r9):
// an object several registers point to is named after the first, most often what a call was given.
constexpr int kRegistersArgumentsFirst[] = {14, 13, 12, 11, 9, 8, 10, 5, 4, 3, 2, 1, 0, 7, 6};

std::optional<uint64_t> read_symbol_u64(const Kernel& k, std::string_view name) {
  auto at = k.symbol_address(name);
  if (!at) return std::nullopt;
  auto v = k.read_u64(*at);
  return v ? std::optional<uint64_t>(*v) : std::nullopt;
}

}  // namespace

ObjectGatherer::ObjectGatherer(LinuxView& view, Slub* slub, const PoisonCatalog& poison, rules::Facts& facts,
                               const std::map<const Task*, size_t>& thread_of)
    : view_(view), slub_(slub), poison_(poison), facts_(facts), thread_of_(thread_of),
      map_(slub ? slub->memory() : MemoryMap::read(view.objects())) {
  const Kernel& k = view.objects().kernel();
  jiffies_ = read_symbol_u64(k, "jiffies_64");
  if (!jiffies_) jiffies_ = read_symbol_u64(k, "jiffies");
  // tick_nsec is the length of a jiffy in ns (NSEC_PER_SEC / HZ, as NTP adjusts it): HZ as this
  // kernel was built, without a config file.
  auto tick = read_symbol_u64(k, "tick_nsec");
  if (tick && *tick >= 100000 && *tick <= 100000000) seconds_per_jiffy_ = static_cast<double>(*tick) / 1e9;
}

std::optional<double> ObjectGatherer::age(uint64_t when) const {
  if (!jiffies_ || seconds_per_jiffy_ == 0) return std::nullopt;
  auto ticks = static_cast<int64_t>(*jiffies_ - when);
  if (ticks < 0) return std::nullopt;
  return static_cast<double>(ticks) * seconds_per_jiffy_;
}

// An allocated object whose free track is older than its alloc track lived before: freed (by the
// free track's thread) and handed out again (to the alloc track's). A slab's new objects have
// zeroed tracks, so a free track with no caller means the object was never freed.
std::optional<rules::Reallocation> ObjectGatherer::reallocation(const SlabObject& o) {
  if (!slub_ || o.free) return std::nullopt;
  SlabObject tracked = o;
  slub_->read_tracks(tracked);
  const auto& a = tracked.alloc;
  const auto& f = tracked.freed;
  if (!a || !f || !a->addr || !f->addr || !f->when || static_cast<int64_t>(a->when - f->when) < 0) return std::nullopt;
  const Kernel& k = view_.objects().kernel();
  rules::Reallocation r;
  r.free_pid = f->pid;
  r.alloc_pid = a->pid;
  r.free_function = locate_code(k, &view_.modules(), f->addr, true).function;
  r.alloc_function = locate_code(k, &view_.modules(), a->addr, true).function;
  r.free_age = age(f->when);
  r.alloc_age = age(a->when);
  return r;
}

void ObjectGatherer::add_slab(const SlabObject& o, uint64_t address, const std::string& found_as, int pointers,
                              bool operand) {
  if (!o.cache || o.part != "object") return;
  uint64_t start = o.object ? o.object : address;
  if (seen_.contains(start) || facts_.objects.size() >= kMaxObjects) return;
  seen_.insert(start);
  rules::ObjectFacts f;
  f.address = start;
  f.cache = o.cache->name;
  f.found_as = found_as;
  f.free = o.free;
  f.place = rules::ObjectPlace::slab;
  f.pointers = pointers;
  f.operand = operand;
  f.reallocation = reallocation(o);
  if (view_.objects().debug().find_type("struct " + o.cache->name)) {
    f.type = "struct " + o.cache->name;
    f.field = object_field_reader(view_.objects(), poison_, "linux", f.type, start);
  }
  by_address_.add(facts_.objects.size(), start, o.cache->object_size ? o.cache->object_size : 8);
  object_size_[facts_.objects.size()] = o.cache->object_size;
  facts_.objects.push_back(std::move(f));
}

void ObjectGatherer::add_value(uint64_t value, const Found& found, const Task* crashing) {
  if (value < x86_64::kLowestKernelAddress || facts_.objects.size() >= kMaxObjects) return;
  if (map_.direct_map_pfn(value)) {
    if (!slub_) return;
    auto o = slub_->object_at(value);
    if (o && *o) add_slab(**o, value, found.how, found.pointers);
    return;
  }
  if (!found.stack_allowed || !map_.in_vmalloc(value)) return;
  Identity w = what_is(view_, slub_, value);
  if (w.kind != AddressKind::task_stack || !w.thread || w.thread == crashing || seen_.contains(value)) return;
  // The lowest address of a stack is the stack's own allocation (task->stack, its vm_struct's
  // addr), not a frame in it.
  if (value == w.thread->stack_low) return;
  seen_.insert(value);
  rules::ObjectFacts f;
  f.address = value;
  f.found_as = found.how;
  f.place = rules::ObjectPlace::stack;
  f.pointers = found.pointers;
  std::string place = w.stack_place ? w.stack_place->text : "";
  f.dead_frame = w.stack_place && w.stack_place->dead();
  f.found_as += "; on the stack of pid " + std::to_string(w.thread->thread_id) + " (" + w.thread->comm + "), " + place;
  if (auto t = thread_of_.find(w.thread); t != thread_of_.end()) f.holders.push_back({t->second, "on its own stack, " + place});
  facts_.objects.push_back(std::move(f));
}

void ObjectGatherer::add_registers(const PtRegs& regs, const Frame& f, const Task* crashing) {
  for (int r : kRegistersArgumentsFirst) {
    add_value(regs[r], {std::string("register ") + pt_regs_name(r) + " of the exception at frame #" + std::to_string(f.level) +
                            " " + f.where.function, 0, true},
              crashing);
  }
}

void ObjectGatherer::add_crashing_thread(const Backtrace& bt, const Task* crashing, const FaultExplanation* fault) {
  if (fault && fault->frame && !fault->frame->regs) add_registers(fault->regs, *fault->frame, crashing);
  for (const Frame& f : bt.frames) {
    if (f.regs && !user_mode(*f.regs)) add_registers(*f.regs, f, crashing);
  }
  size_t words = 0;
  for (const Frame& f : bt.frames) {
    if (!f.reliable || f.caller_sp <= f.sp || f.caller_sp - f.sp > 0x4000) continue;
    ObjectBytes bytes = view_.objects().read_object(f.sp, f.caller_sp - f.sp);
    for (uint64_t off = 0; off + 8 <= bytes.data.size() && words < kMaxStackWords; off += 8, ++words) {
      if (!bytes.readable(off, 8)) continue;
      uint64_t v;
      std::memcpy(&v, bytes.data.data() + off, 8);
      // A stack address counts only from registers: stack slots hold too many stale ones.
      add_value(v, {"stack slot " + hex(f.sp + off) + " in frame #" + std::to_string(f.level) + " " + f.where.function, 0, false},
                crashing);
    }
  }
}

void ObjectGatherer::follow_pointers(int hops, const Task* crashing) {
  size_t begin = 0;
  for (int hop = 1; hop <= hops; ++hop) {
    size_t end = facts_.objects.size();
    for (size_t i = begin; i < end; ++i) {
      if (facts_.objects[i].place == rules::ObjectPlace::slab) follow(i, hop, crashing);
    }
    begin = end;
  }
}

// The words of one slab object, as pointers to what it refers to. A field's address on another
// thread's stack counts (an object does not hold stale stack addresses the way a frame's slots do):
// a request's private pointer into its submitter's frame is how a dead frame is reached.
void ObjectGatherer::follow(size_t object, int hop, const Task* crashing) {
  if (!slub_) return;
  const uint64_t address = facts_.objects[object].address;
  const std::string name = facts_.objects[object].type.empty() ? facts_.objects[object].cache : facts_.objects[object].type;
  auto known = object_size_.find(object);
  if (known == object_size_.end()) return;
  uint64_t size = std::min<uint64_t>(known->second, kMaxObjectBytesFollowed);
  ObjectBytes bytes = view_.objects().read_object(address, size);
  DebugInfo& debug = view_.objects().debug();
  auto type = facts_.objects[object].type.empty() ? Result<const Type*>(make_error("untyped"))
                                                  : debug.find_type(facts_.objects[object].type);
  struct Word {
    uint64_t offset, value;
    std::string member;
    bool typed_pointer;
  };
  std::vector<Word> words;
  for (uint64_t off = 0; off + 8 <= bytes.data.size(); off += 8) {
    if (!bytes.readable(off, 8)) continue;
    uint64_t v;
    std::memcpy(&v, bytes.data.data() + off, 8);
    if (v < x86_64::kLowestKernelAddress || (v >= address && v < address + size)) continue;  // not a pointer, or to itself
    Word w{off, v, "+" + hex(off), false};
    if (type) {
      if (auto m = debug.member_at(*type, off)) {
        w.member = "." + m->path;
        const Type* t = strip_typedefs(m->type);
        w.typed_pointer = t && t->kind == TypeKind::pointer;
      }
    }
    words.push_back(std::move(w));
  }
  std::stable_partition(words.begin(), words.end(), [](const Word& w) { return w.typed_pointer; });
  for (const Word& w : words) {
    std::string how = name + " " + hex(address) + " " + w.member + " -> (" + std::to_string(hop) +
                      (hop == 1 ? " pointer" : " pointers") + " from what the crashing thread used)";
    add_value(w.value, {how, hop, true}, crashing);
  }
}

void ObjectGatherer::find_holders() {
  if (by_address_.empty()) return;
  auto refs = find_stack_references(view_, [&](uint64_t v) { return by_address_.find(v).has_value(); });
  if (!refs) return;
  for (const StackReference& r : *refs) {
    auto t = thread_of_.find(r.thread);
    if (t == thread_of_.end()) continue;
    add_holder_of(by_address_, facts_.objects, t->second, r.value, r.place.slot,
                  [&] { return r.location ? "stack slot " + hex(*r.location) + ", " + r.place.text : r.place.text; });
  }
}

}  // namespace coroner::analysis
