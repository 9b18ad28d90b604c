#include "coroner/os/model/kmem_buffers.hpp"

#include <set>

#include "coroner/format.hpp"
#include "coroner/target/expression.hpp"

namespace coroner::os_model {
namespace {

constexpr uint64_t kRedzonePattern = 0xfeedfacefeedfaceULL;  // KMEM_REDZONE_PATTERN
constexpr uint64_t kBuftagAlloc = 0xa110c8edULL;             // KMEM_BUFTAG_ALLOC
constexpr uint64_t kBuftagFree = 0xf4eef4eeULL;              // KMEM_BUFTAG_FREE
constexpr size_t kMaxCaches = 4096;

std::optional<uint64_t> number(Objects& objects, const std::string& expression) {
  auto n = evaluate_integer(objects, expression);
  return n ? std::optional<uint64_t>(*n) : std::nullopt;
}

}  // namespace

std::optional<KmemBuffers> KmemBuffers::read(Objects& objects, const OsModel& m) {
  if (m.allocator != "illumos-kmem" || !m.caches) return std::nullopt;
  KmemBuffers out(objects);
  auto first = number(objects, m.caches->first);
  std::set<uint64_t> seen;
  for (uint64_t at = first.value_or(0); at && out.caches_.size() < kMaxCaches && seen.insert(at).second;) {
    std::string on = "((" + m.cache_type + " *)" + hex(at) + ")->";
    Cache c;
    c.address = at;
    c.bufsize = number(objects, on + "cache_bufsize").value_or(0);
    c.buftag = number(objects, on + "cache_buftag").value_or(0);
    if (auto name = evaluate(objects, on + "cache_name")) {
      if (auto bytes = objects.bytes(*name)) c.name = std::string(bytes->begin(), bytes->end()).c_str();
    }
    if (c.bufsize) out.caches_.push_back(c);
    auto next = number(objects, on + m.caches->next);
    if (!next) break;
    at = *next;
  }
  if (out.caches_.empty()) return std::nullopt;
  return out;
}

std::optional<KmemBuffer> KmemBuffers::buffer_at(uint64_t address) const {
  for (const Cache& c : caches_) {
    std::string tag = "((kmem_buftag_t *)" + hex(address + c.buftag) + ")->";
    auto redzone = number(*objects_, tag + "bt_redzone");
    auto bufctl = number(*objects_, tag + "bt_bufctl");
    auto bxstat = number(*objects_, tag + "bt_bxstat");
    if (!redzone || !bufctl || !bxstat || *redzone != kRedzonePattern) continue;
    uint64_t state = *bxstat ^ *bufctl;
    if (state != kBuftagFree && state != kBuftagAlloc) continue;
    KmemBuffer b{address, c.bufsize, c.name, state == kBuftagFree, *bufctl, std::nullopt};
    // The audit record (KMF_AUDIT) must name this buffer and this cache to be believed.
    std::string audit = "((kmem_bufctl_audit_t *)" + hex(*bufctl) + ")->";
    auto bc_addr = number(*objects_, audit + "bc_addr");
    auto bc_cache = number(*objects_, audit + "bc_cache");
    if (bc_addr && bc_cache && *bc_addr == address && *bc_cache == c.address) b.last_thread = number(*objects_, audit + "bc_thread");
    return b;
  }
  return std::nullopt;
}

}  // namespace coroner::os_model
