#include "coroner/report/whatis_report.hpp"

#include <cstdio>

#include "coroner/format.hpp"
#include "coroner/report/thread_report.hpp"

namespace coroner::report {
namespace {

using json = nlohmann::ordered_json;
using linux_kernel::SlabCache;
using linux_kernel::SlabObject;
using linux_kernel::Track;
using os_model::KmemBuffer;

json or_null(bool present, json value) { return present ? std::move(value) : json(nullptr); }

std::string audit_thread(const WhatIsContext& c, uint64_t address) {
  return c.threads ? thread_label(*c.threads, address) : hex(address);
}

std::string track_text(const WhatIsContext& c, const char* what, const Track& t) {
  std::string out = std::string("  ") + what + " by pid " + std::to_string(t.pid) + " on CPU " + std::to_string(t.cpu) +
                    " at jiffies " + std::to_string(t.when) + ", from " + c.name(t.addr).text(t.addr) + "\n";
  for (size_t i = 0; i < t.stack.size(); ++i) {
    char level[32];
    std::snprintf(level, sizeof level, "    #%-2zu ", i);
    out += level + c.name(t.stack[i]).text(t.stack[i]) + "\n";
  }
  if (!t.stack_problem.empty()) out += "    (stack unreadable: " + t.stack_problem + ")\n";
  return out;
}

json track_json(const WhatIsContext& c, const Track& t) {
  json stack = json::array();
  for (uint64_t a : t.stack) stack.push_back({{"pc", hex(a)}, {"symbol", c.name(a).text(a)}});
  return {{"caller", hex(t.addr)}, {"caller_symbol", c.name(t.addr).text(t.addr)}, {"pid", t.pid}, {"cpu", t.cpu},
          {"jiffies", t.when}, {"stack", stack}, {"stack_problem", or_null(!t.stack_problem.empty(), t.stack_problem)}};
}

std::string slab_text(const WhatIsContext& c, const SlabObject& o) {
  const SlabCache& cache = *o.cache;
  std::string out = "  cache    " + cache.name + " (kmem_cache " + hex(cache.address) + ", object size " +
                    std::to_string(cache.object_size) + ", slot " + std::to_string(cache.size) +
                    (cache.debug_flags().empty() ? "" : ", slub_debug=" + cache.debug_flags()) + ")\n";
  if (o.slot) {
    out += "  object   " + hex(o.object) + " (slot " + hex(o.slot) + ", index " + std::to_string(o.index) + " in the slab at " +
           hex(o.slab_base) + ", struct slab " + hex(o.slab) + ")\n";
    out += "  offset   " + signed_hex(o.offset) + " (" + o.part + ")\n";
    out += std::string("  state    ") + (o.free ? "FREE" : "ALLOCATED") + "\n";
  }
  if (o.alloc) out += track_text(c, "allocated", *o.alloc);
  if (o.freed && o.freed->addr) out += track_text(c, "freed", *o.freed);
  return out;
}

json slab_json(const WhatIsContext& c, const SlabObject& o) {
  const SlabCache& cache = *o.cache;
  return {{"cache", cache.name}, {"kmem_cache", hex(cache.address)}, {"object_size", cache.object_size},
          {"slot_size", cache.size}, {"debug", cache.debug_flags()}, {"slab", hex(o.slab)}, {"slab_memory", hex(o.slab_base)},
          {"index", o.index}, {"slot", hex(o.slot)}, {"object", hex(o.object)}, {"offset", o.offset}, {"part", o.part},
          {"state", o.free ? "free" : "allocated"}, {"alloc", or_null(o.alloc.has_value(), o.alloc ? track_json(c, *o.alloc) : json())},
          {"free", or_null(o.freed && o.freed->addr, o.freed ? track_json(c, *o.freed) : json())}};
}

// mdb's: the buffer, its cache, and the bufctl's audit record when the cache keeps one.
std::string buffer_text(const WhatIsContext& c, const KmemBuffer& b) {
  std::string out = "  buffer   " + hex(b.address) + ", " + std::to_string(b.size) + " bytes, " + (b.free ? "FREE" : "ALLOCATED") +
                    " in cache " + b.cache + " (" + hex(b.cache_address) + ")\n";
  if (!b.audit) return out + "  bufctl   " + hex(b.bufctl) + " (no audit record: the cache is not KMF_AUDIT)\n";
  out += "  bufctl   " + hex(b.bufctl) + " (audit): last " + (b.free ? "freed" : "allocated") + " by thread " +
         audit_thread(c, b.audit->thread) + " at hrtime " + hex(b.audit->timestamp) + "\n";
  for (uint64_t pc : b.audit->stack) out += "    " + c.name(pc).short_text(pc) + "\n";
  return out;
}

json buffer_json(const WhatIsContext& c, const KmemBuffer& b, uint64_t address) {
  json audit = nullptr;
  if (b.audit) {
    json stack = json::array();
    for (uint64_t pc : b.audit->stack) stack.push_back({{"pc", hex(pc)}, {"function", c.name(pc).short_text(pc)}});
    audit = {{"thread", hex(b.audit->thread)}, {"thread_name", audit_thread(c, b.audit->thread)},
             {"timestamp", b.audit->timestamp}, {"stack", stack}};
  }
  return {{"address", hex(b.address)}, {"size", b.size}, {"offset", address - b.address}, {"cache", b.cache},
          {"cache_address", hex(b.cache_address)}, {"state", b.free ? "free" : "allocated"}, {"bufctl", hex(b.bufctl)},
          {"audit", audit}};
}

std::string page_text(const Identity& w) {
  std::string out = "  page     struct page " + hex(*w.page) + ", pfn " + hex(*w.pfn);
  if (!w.page_flags.empty()) {
    out += ", flags ";
    for (size_t i = 0; i < w.page_flags.size(); ++i) out += (i ? "|" : "") + w.page_flags[i];
  }
  if (!w.page_type.empty()) {
    out += ", type ";
    for (size_t i = 0; i < w.page_type.size(); ++i) out += (i ? "|" : "") + w.page_type[i];
  }
  return out + "\n";
}

std::string poison_text(const PoisonMatch& m) {
  const PoisonPattern& p = *m.pattern;
  std::string out = p.name + (m.delta ? " + " + hex(m.delta) : "");
  return p.meaning.empty() ? out : out + ": " + p.meaning;
}

}  // namespace

std::string whatis_text(const Identity& w, const WhatIsContext& c) {
  std::string out = hex(w.address) + ": " + w.summary + "\n";
  if (w.slab) out += slab_text(c, *w.slab);
  if (w.buffer) out += buffer_text(c, *w.buffer);
  if (w.page) out += page_text(w);
  if (w.physical) out += "  physical " + hex(*w.physical) + "\n";
  if (w.poison) out += "  holds    " + hex(*w.word) + ", " + poison_text(*w.poison) + "\n";
  for (const auto& p : w.problems) out += "  (" + p + ")\n";
  return out;
}

json whatis_json(const Identity& w, const WhatIsContext& c) {
  json stack = nullptr;
  if (w.thread) {
    const bool framed = w.stack_place && w.stack_place->frame;
    stack = {{"thread", thread_json(*w.thread)}, {"stack", w.stack},
             {"place", or_null(w.stack_place.has_value(), w.stack_place ? w.stack_place->text : "")},
             {"frame", or_null(framed, framed ? w.stack_place->frame->level : 0)}};
  }
  json poison = nullptr;
  if (w.poison) {
    const PoisonPattern& p = *w.poison->pattern;
    poison = {{"name", p.name}, {"delta", w.poison->delta}, {"state", p.state}, {"meaning", p.meaning}};
  }
  json page = nullptr;
  if (w.page) page = {{"page", hex(*w.page)}, {"pfn", hex(w.pfn.value_or(0))}, {"flags", w.page_flags}, {"type", w.page_type}};
  return {{"address", hex(w.address)},
          {"kind", address_kind_name(w.kind)},
          {"summary", w.summary},
          {"symbol", or_null(!w.symbol.function.empty(), w.symbol.text(w.address))},
          {"physical", or_null(w.physical.has_value(), hex(w.physical.value_or(0)))},
          {"stack", stack},
          {"slab", or_null(w.slab.has_value(), w.slab ? slab_json(c, *w.slab) : json())},
          {"buffer", or_null(w.buffer.has_value(), w.buffer ? buffer_json(c, *w.buffer, w.address) : json())},
          {"page", page},
          {"word", or_null(w.word.has_value(), hex(w.word.value_or(0)))},
          {"poison", poison},
          {"problems", w.problems}};
}

json whatis_results_json(const std::string& os, json results) {
  return {{"schema", "coroner.whatis"}, {"schema_version", 2}, {"os", os}, {"results", std::move(results)}};
}

}  // namespace coroner::report
