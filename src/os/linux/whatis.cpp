#include "coroner/os/linux/whatis.hpp"

#include "coroner/format.hpp"

namespace coroner::linux_kernel {
namespace {

constexpr uint64_t kUserTop = 0x0000800000000000;  // above: kernel (4-level; 5-level users stop lower still)

bool in_kernel_image(const Kernel& k, uint64_t a, bool& text) {
  auto start = k.symbol_address("_text"), end = k.symbol_address("_end");
  if (!start || !end || a < *start || a >= *end) return false;
  auto etext = k.symbol_address("_etext");
  auto sinit = k.symbol_address("_sinittext"), einit = k.symbol_address("_einittext");
  text = (etext && a < *etext) || (sinit && einit && a >= *sinit && a < *einit);
  return true;
}

bool on_a_stack(LinuxView& view, uint64_t a, Identity& out) {
  auto tasks = view.tasks();
  if (!tasks) return false;
  for (const Task& t : (*tasks)->threads) {
    for (const StackRange& r : (*tasks)->stacks_of(t)) {
      if (!r.contains(a)) continue;
      out.kind = AddressKind::task_stack;
      out.thread = &t;
      out.stack = r.kind;
      auto bt = view.backtrace(t);
      if (bt) out.stack_place = place_on_stack(*bt, t, a);
      out.summary = r.kind + " stack of pid " + std::to_string(t.thread_id) + " (" + t.comm + ")" +
                    (out.stack_place ? ", " + out.stack_place->text : "");
      return true;
    }
  }
  return false;
}

std::string slab_summary(const SlabObject& o) {
  if (o.part.starts_with("slab padding")) return o.part + " of a " + o.cache->name + " slab";
  std::string s = std::string(o.free ? "free" : "allocated") + " object in cache " + o.cache->name;
  if (o.part != "object" || o.offset != 0) {
    s += ", " + o.part + " at ";
    s += signed_hex(o.offset);
  }
  return s;
}

// Kernel image or module text and data, named by their symbols.
bool in_code_or_data(LinuxView& view, uint64_t address, Identity& out) {
  const Kernel& k = view.objects().kernel();
  bool text = false;
  std::string where;
  if (in_kernel_image(k, address, text)) {
    out.kind = text ? AddressKind::kernel_text : AddressKind::kernel_data;
    where = text ? "kernel text" : "kernel data";
  } else if (const LoadedModule* m = view.modules().containing(address)) {
    out.kind = AddressKind::module;
    where = "module " + m->name + (m->in_text(address) ? " text" : " data");
  } else {
    return false;
  }
  out.symbol = locate_code(k, &view.modules(), address);
  out.summary = where + (out.symbol.function.empty() ? "" : ": " + out.symbol.text(address));
  return true;
}

// A page of the direct map: its struct page and flags, and the slab object there, if any.
void in_direct_map(TypedMemory& objects, Slub* slub, const MemoryMap& map, uint64_t pfn, Identity& out) {
  const Kernel& k = objects.kernel();
  out.pfn = pfn;
  out.page = map.page_of(pfn);
  PageMarks marks = slub ? slub->page_marks() : PageMarks::read(objects);
  if (auto flags = k.read_u64(*out.page)) out.page_flags = marks.flag_names(*flags);
  if (auto at = marks.page_type_offset()) {
    if (auto type = k.read_u32(*out.page + *at)) out.page_type = marks.type_names(*type);
  }
  if (slub) {
    auto o = slub->object_at(out.address);
    if (!o) {
      out.problems.push_back(o.error().message);
    } else if (*o) {
      out.kind = AddressKind::slab_object;
      out.slab = **o;
      slub->read_tracks(*out.slab);
      out.summary = slab_summary(**o);
      return;
    }
  }
  out.kind = AddressKind::page;
  out.summary = "direct-mapped RAM, pfn " + hex(pfn);
}

}  // namespace

Identity what_is(LinuxView& view, Slub* slub, uint64_t address) {
  Identity out;
  out.address = address;
  TypedMemory& objects = view.objects();
  if (auto p = objects.kernel().translate(address)) out.physical = *p;
  if (address < kUserTop) {
    out.kind = AddressKind::user;
    out.summary = "a user-space address";
    return out;
  }
  if (in_code_or_data(view, address, out) || on_a_stack(view, address, out)) return out;
  MemoryMap map = slub ? slub->memory() : MemoryMap::read(objects);
  if (auto pfn = map.pfn_of_page_struct(address); pfn && address < map.vmemmap + (1ull << 40)) {
    out.kind = AddressKind::struct_page;
    out.pfn = *pfn;
    out.page = map.page_of(*pfn);
    out.summary = "struct page of pfn " + hex(*pfn) + " (+" + hex(address - *out.page) + ")";
  } else if (auto direct = map.direct_map_pfn(address)) {
    in_direct_map(objects, slub, map, *direct, out);
  } else if (map.in_vmalloc(address)) {
    out.kind = out.physical ? AddressKind::vmalloc : AddressKind::unmapped;
    out.summary = out.physical ? "vmalloc space, mapped" : "vmalloc space, not mapped";
  } else {
    out.kind = out.physical ? AddressKind::unknown : AddressKind::unmapped;
    out.summary = out.physical ? "a mapped kernel address of no known region" : "not mapped";
  }
  return out;
}

}  // namespace coroner::linux_kernel
