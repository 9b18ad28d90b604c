#include "coroner/report/memory_report.hpp"

#include <cstdio>

#include "coroner/format.hpp"

namespace coroner::report {

using namespace coroner::linux_kernel;

namespace {

std::string code(LinuxView& view, uint64_t address, bool return_address) {
  return locate_code(view.objects().kernel(), &view.modules(), address, return_address).text(address);
}

std::string track_text(LinuxView& view, const char* what, const Track& t) {
  std::string out = std::string("  ") + what + " by pid " + std::to_string(t.pid) + " on CPU " +
                    std::to_string(t.cpu) + " at jiffies " + std::to_string(t.when) + ", from " +
                    code(view, t.addr, true) + "\n";
  for (size_t i = 0; i < t.stack.size(); ++i) {
    char level[32];
    std::snprintf(level, sizeof level, "    #%-2zu ", i);
    out += level + code(view, t.stack[i], true) + "\n";
  }
  if (!t.stack_problem.empty()) out += "    (stack unreadable: " + t.stack_problem + ")\n";
  return out;
}

nlohmann::ordered_json track_json(LinuxView& view, const Track& t) {
  nlohmann::ordered_json stack = nlohmann::ordered_json::array();
  for (uint64_t a : t.stack) stack.push_back({{"pc", hex(a)}, {"symbol", code(view, a, true)}});
  return {{"caller", hex(t.addr)}, {"caller_symbol", code(view, t.addr, true)}, {"pid", t.pid}, {"cpu", t.cpu},
          {"jiffies", t.when}, {"stack", stack},
          {"stack_problem", t.stack_problem.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(t.stack_problem)}};
}

}  // namespace

std::string whatis_text(LinuxView& view, const WhatIs& w) {
  std::string out = hex(w.address) + ": " + w.summary + "\n";
  if (const auto& o = w.slab) {
    const SlabCache& c = *o->cache;
    out += "  cache    " + c.name + " (kmem_cache " + hex(c.address) + ", object size " + std::to_string(c.object_size) +
           ", slot " + std::to_string(c.size) + (c.debug_flags().empty() ? "" : ", slub_debug=" + c.debug_flags()) + ")\n";
    if (o->slot) {
      out += "  object   " + hex(o->object) + " (slot " + hex(o->slot) + ", index " + std::to_string(o->index) +
             " in the slab at " + hex(o->slab_base) + ", struct slab " + hex(o->slab) + ")\n";
      out += "  offset   " + signed_hex(o->offset) + " (" + o->part + ")\n";
      out += std::string("  state    ") + (o->free ? "FREE" : "ALLOCATED") + "\n";
    }
    if (o->alloc) out += track_text(view, "allocated", *o->alloc);
    if (o->freed && o->freed->addr) out += track_text(view, "freed", *o->freed);
  }
  if (w.page) {
    out += "  page     struct page " + hex(*w.page) + ", pfn " + hex(*w.pfn);
    if (!w.page_flags.empty()) {
      out += ", flags ";
      for (size_t i = 0; i < w.page_flags.size(); ++i) out += (i ? "|" : "") + w.page_flags[i];
    }
    if (!w.page_type.empty()) {
      out += ", type ";
      for (size_t i = 0; i < w.page_type.size(); ++i) out += (i ? "|" : "") + w.page_type[i];
    }
    out += "\n";
  }
  if (w.physical) out += "  physical " + hex(*w.physical) + "\n";
  for (const auto& p : w.problems) out += "  (" + p + ")\n";
  return out;
}

nlohmann::ordered_json whatis_json(LinuxView& view, const WhatIs& w) {
  auto opt = [](const std::optional<uint64_t>& v) { return v ? nlohmann::ordered_json(hex(*v)) : nlohmann::ordered_json(nullptr); };
  nlohmann::ordered_json j{{"address", hex(w.address)}, {"kind", address_kind_name(w.kind)}, {"summary", w.summary},
                           {"physical", opt(w.physical)}};
  if (!w.symbol.function.empty()) j["symbol"] = w.symbol.text(w.address);
  if (w.task) {
    j["task"] = {{"pid", w.task->thread_id}, {"comm", w.task->comm}, {"task", hex(w.task->address)}, {"stack", w.stack},
                 {"place", w.stack_place ? nlohmann::ordered_json(w.stack_place->text) : nlohmann::ordered_json(nullptr)},
                 {"frame", w.stack_place && w.stack_place->frame ? nlohmann::ordered_json(w.stack_place->frame->level)
                                                                 : nlohmann::ordered_json(nullptr)}};
  }
  if (const auto& o = w.slab) {
    const SlabCache& c = *o->cache;
    j["slab"] = {{"cache", c.name}, {"kmem_cache", hex(c.address)}, {"object_size", c.object_size}, {"slot_size", c.size},
                 {"debug", c.debug_flags()}, {"slab", hex(o->slab)}, {"slab_memory", hex(o->slab_base)},
                 {"index", o->index}, {"slot", hex(o->slot)}, {"object", hex(o->object)}, {"offset", o->offset},
                 {"part", o->part}, {"state", o->free ? "free" : "allocated"},
                 {"alloc", o->alloc ? track_json(view, *o->alloc) : nlohmann::ordered_json(nullptr)},
                 {"free", o->freed && o->freed->addr ? track_json(view, *o->freed) : nlohmann::ordered_json(nullptr)}};
  }
  if (w.page) j["page"] = {{"page", hex(*w.page)}, {"pfn", hex(*w.pfn)}, {"flags", w.page_flags}, {"type", w.page_type}};
  j["problems"] = w.problems;
  return j;
}

std::string kmem_caches_text(const std::vector<CacheRow>& rows) {
  std::string out = "CACHE             OBJSIZE  ALLOCATED     TOTAL  SLABS  SSIZE  NAME\n";
  for (const auto& r : rows) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "%016llx %8u %10llu %9llu %6llu %5lluk  %s\n",
                  static_cast<unsigned long long>(r.cache->address), r.cache->object_size,
                  static_cast<unsigned long long>(r.counts.allocated), static_cast<unsigned long long>(r.counts.total),
                  static_cast<unsigned long long>(r.counts.slabs),
                  static_cast<unsigned long long>(r.cache->slab_bytes() / 1024), r.cache->name.c_str());
    out += buf;
  }
  return out;
}

nlohmann::ordered_json kmem_caches_json(const std::vector<CacheRow>& rows, const std::vector<std::string>& problems) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const auto& r : rows) {
    const SlabCache& c = *r.cache;
    list.push_back({{"name", c.name}, {"kmem_cache", hex(c.address)}, {"object_size", c.object_size},
                    {"slot_size", c.size}, {"free_pointer_offset", c.offset}, {"inuse", c.inuse},
                    {"red_left_pad", c.red_left_pad}, {"flags", hex(c.flags)}, {"debug", c.debug_flags()},
                    {"order", c.order}, {"objects_per_slab", c.objects_per_slab},
                    {"freelist_hardened", c.random.has_value()}, {"allocated", r.counts.allocated},
                    {"total", r.counts.total}, {"slabs", r.counts.slabs}});
  }
  return {{"schema", "coroner.kmem"}, {"caches", list}, {"problems", problems}};
}

}  // namespace coroner::report
