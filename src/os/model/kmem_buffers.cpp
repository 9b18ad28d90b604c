#include "coroner/os/model/kmem_buffers.hpp"

#include <algorithm>
#include <set>
#include <tuple>

#include "coroner/format.hpp"
#include "coroner/target/expression.hpp"

namespace coroner::os_model {
namespace {

constexpr uint64_t kRedzonePattern = 0xfeedfacefeedfaceULL;  // KMEM_REDZONE_PATTERN
constexpr uint64_t kBuftagAlloc = 0xa110c8edULL;             // KMEM_BUFTAG_ALLOC
constexpr uint64_t kBuftagFree = 0xf4eef4eeULL;              // KMEM_BUFTAG_FREE
constexpr size_t kMaxCaches = 4096;

std::optional<uint64_t> number(TypedMemory& objects, const std::string& expression) {
  auto n = evaluate_integer(objects, expression);
  return n ? std::optional<uint64_t>(*n) : std::nullopt;
}

std::optional<Member> member_of(DebugInfo& debug, const char* type, const char* member) {
  auto t = debug.find_type(type);
  if (!t) return std::nullopt;
  auto m = debug.find_member_path(*t, member);
  return m ? std::optional<Member>(*m) : std::nullopt;
}

}  // namespace

std::optional<KmemBuffers> KmemBuffers::read(TypedMemory& objects, const OsModel& m) {
  if (m.allocator != "illumos-kmem" || !m.caches) return std::nullopt;
  KmemBuffers out(objects);
  DebugInfo& debug = objects.debug();
  Layout& l = out.layout_;
  const Type* stack_type = nullptr;
  for (auto [type, member, at] : {std::tuple{"kmem_buftag_t", "bt_redzone", &l.redzone}, {"kmem_buftag_t", "bt_bufctl", &l.bufctl},
                                  {"kmem_buftag_t", "bt_bxstat", &l.bxstat}, {"kmem_bufctl_audit_t", "bc_addr", &l.bc_addr},
                                  {"kmem_bufctl_audit_t", "bc_cache", &l.bc_cache}, {"kmem_bufctl_audit_t", "bc_thread", &l.bc_thread},
                                  {"kmem_bufctl_audit_t", "bc_timestamp", &l.bc_timestamp},
                                  {"kmem_bufctl_audit_t", "bc_depth", &l.bc_depth}, {"kmem_bufctl_audit_t", "bc_stack", &l.bc_stack}}) {
    auto found = member_of(debug, type, member);
    if (!found) return std::nullopt;  // not the kmem this code knows
    *at = found->offset;
    if (at == &l.bc_stack) stack_type = strip_typedefs(found->type);
  }
  l.bc_stack_slots = stack_type && stack_type->kind == TypeKind::array ? stack_type->count.value_or(0) : 0;
  auto first = number(objects, m.caches->first);
  std::set<uint64_t> seen;
  for (uint64_t at = first.value_or(0); at && out.caches_.size() < kMaxCaches && seen.insert(at).second;) {
    std::string on = "((" + m.cache_type + " *)" + hex(at) + ")->";
    Cache c;
    c.address = at;
    c.bufsize = number(objects, on + "cache_bufsize").value_or(0);
    c.buftag = number(objects, on + "cache_buftag").value_or(0);
    if (auto name = evaluate_text(objects, on + "cache_name")) c.name = *name;
    if (c.bufsize) out.caches_.push_back(c);
    auto next = number(objects, on + m.caches->next);
    if (!next) break;
    at = *next;
  }
  if (out.caches_.empty()) return std::nullopt;
  return out;
}

std::optional<KmemBuffer> KmemBuffers::check(const Cache& c, uint64_t address) const {
  const Kernel& k = objects_->kernel();
  const Layout& l = layout_;
  uint64_t tag = address + c.buftag;
  auto redzone = k.read_u64(tag + l.redzone);
  if (!redzone || *redzone != kRedzonePattern) return std::nullopt;
  auto bufctl = k.read_u64(tag + l.bufctl);
  auto bxstat = k.read_u64(tag + l.bxstat);
  if (!bufctl || !bxstat) return std::nullopt;
  uint64_t state = *bxstat ^ *bufctl;
  if (state != kBuftagFree && state != kBuftagAlloc) return std::nullopt;
  return KmemBuffer{address, c.bufsize, c.address, c.name, state == kBuftagFree, *bufctl, audit(c, address, *bufctl)};
}

// The audit record (KMF_AUDIT) must name this buffer and this cache to be believed.
std::optional<KmemAudit> KmemBuffers::audit(const Cache& c, uint64_t address, uint64_t bufctl) const {
  const Kernel& k = objects_->kernel();
  const Layout& l = layout_;
  auto bc_addr = k.read_u64(bufctl + l.bc_addr);
  auto bc_cache = k.read_u64(bufctl + l.bc_cache);
  auto thread = k.read_u64(bufctl + l.bc_thread);
  if (!bc_addr || !bc_cache || !thread || *bc_addr != address || *bc_cache != c.address) return std::nullopt;
  KmemAudit a{*thread, k.read_u64(bufctl + l.bc_timestamp).value_or(0), {}};
  auto depth = k.read_u32(bufctl + l.bc_depth);
  uint64_t n = std::min<uint64_t>(depth.value_or(0), l.bc_stack_slots);
  for (uint64_t i = 0; i < n; ++i) {
    auto pc = k.read_u64(bufctl + l.bc_stack + 8 * i);
    if (!pc) break;
    a.stack.push_back(*pc);
  }
  return a;
}

std::optional<KmemBuffer> KmemBuffers::buffer_at(uint64_t address) const {
  for (const Cache& c : caches_) {
    if (auto b = check(c, address)) return b;
  }
  return std::nullopt;
}

std::optional<KmemBuffer> KmemBuffers::buffer_containing(uint64_t address) const {
  for (const Cache& c : caches_) {
    // kmem buffers are 8-byte aligned at least; the nearest start whose buftag checks out is the
    // buffer's: a later candidate's buftag would fall inside this buffer's own buftag.
    uint64_t start = address & ~uint64_t{7};
    for (uint64_t back = 0; back < c.bufsize && back <= start; back += 8) {
      if (auto b = check(c, start - back)) {
        if (address - b->address < b->size) return b;
        break;
      }
    }
  }
  return std::nullopt;
}

Allocation as_allocation(const KmemBuffer& b) {
  Allocation a;
  a.start = b.address;
  a.size = b.size;
  a.cache = b.cache;
  a.free = b.free;
  a.audit = "kmem audit";
  if (b.audit) {
    AllocatorEvent e;
    e.thread = b.audit->thread;
    if (!b.audit->stack.empty()) e.caller = b.audit->stack.front();
    e.when = b.audit->timestamp;
    (b.free ? a.freed : a.allocated) = e;
  }
  return a;
}

}  // namespace coroner::os_model
