#include "coroner/os/linux/modules.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "coroner/format.hpp"
#include "coroner/target/list_walk.hpp"
#include "coroner/target/struct_reader.hpp"

namespace coroner::linux_kernel {
namespace {

constexpr uint32_t kMaxModuleSymbols = 200000;
constexpr uint64_t kMaxStrtab = 8u << 20;

const char* module_state_name(uint64_t s) {
  static const char* kNames[] = {"live", "coming", "going", "unformed"};
  return s < 4 ? kNames[s] : "unknown";
}

struct ElfSym {
  uint32_t name;
  uint8_t info, other;
  uint16_t shndx;
  uint64_t value, size;
};
static_assert(sizeof(ElfSym) == 24);

void read_kallsyms(TypedMemory& objects, StructReader& mod, LoadedModule& m, std::vector<std::string>& problems) {
  const Kernel& k = objects.kernel();
  auto kallsyms = mod.integer(m.address, "kallsyms");
  auto layout = StructReader::of(objects, "struct mod_kallsyms");
  if (!kallsyms || !*kallsyms || !layout) return;
  uint64_t symtab = layout->integer(*kallsyms, "symtab").value_or(0);
  uint64_t count = layout->integer(*kallsyms, "num_symtab").value_or(0);
  uint64_t strtab = layout->integer(*kallsyms, "strtab").value_or(0);
  if (!symtab || !strtab || count == 0 || count > kMaxModuleSymbols) {
    problems.push_back("module " + m.name + ": kallsyms at " + hex(*kallsyms) + " unusable (" + std::to_string(count) + " symbols)");
    return;
  }
  std::vector<ElfSym> syms(count);
  auto st = k.read(symtab, {reinterpret_cast<uint8_t*>(syms.data()), count * sizeof(ElfSym)});
  if (!st) {
    problems.push_back("module " + m.name + ": symbol table at " + hex(symtab) + ": " + st.error().message);
    return;
  }
  uint64_t strtab_size = 0;
  for (const ElfSym& s : syms) strtab_size = std::max<uint64_t>(strtab_size, s.name + 256);
  strtab_size = std::min(strtab_size, kMaxStrtab);
  ObjectBytes names = objects.read_object(strtab, strtab_size);
  for (const ElfSym& s : syms) {
    if (!m.contains(s.value) || s.name >= names.data.size()) continue;
    if (!names.readable(s.name, 1)) continue;
    const char* p = reinterpret_cast<const char*>(names.data.data()) + s.name;
    std::string name(p, strnlen(p, names.data.size() - s.name));
    // As the kernel's module kallsyms: unnamed and mapping symbols say nothing.
    if (name.empty() || name[0] == '$') continue;
    m.symbols.push_back({s.value, s.size, std::move(name)});
  }
  // Symbol table order kept among aliases: the kernel names an address by the first of them
  // (coroner_test_init, not its alias init_module).
  std::stable_sort(m.symbols.begin(), m.symbols.end(),
                   [](const ModuleSymbol& a, const ModuleSymbol& b) { return a.address < b.address; });
}

// mod->sect_attrs: each allocated section's name and load address, as sysfs shows them.
void read_sections(TypedMemory& objects, StructReader& mod, LoadedModule& m, std::vector<std::string>& problems) {
  auto attrs = mod.integer(m.address, "sect_attrs");
  auto group = StructReader::of(objects, "struct module_sect_attrs");
  auto attr = StructReader::of(objects, "struct module_sect_attr");
  if (!attrs || !*attrs || !group || !attr) return;
  uint64_t count = group->integer(*attrs, "nsections").value_or(0);
  auto first = group->address_of(*attrs, "attrs");
  if (!first || count > 1000 || attr->size() == 0) {
    problems.push_back("module " + m.name + ": section table at " + hex(*attrs) + " unusable");
    return;
  }
  const char* name_path = attr->has("battr.attr.name") ? "battr.attr.name" : "name";
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t at = *first + i * attr->size();
    auto name = attr->integer(at, name_path);
    auto address = attr->integer(at, "address");
    if (!name || !address) continue;
    std::string section = objects.kernel().read_c_string(*name, 64).value_or("");
    if (!section.empty()) m.sections.emplace(std::move(section), *address);
  }
}

// The GNU build-id note the module carries in memory (Kbuild links modules with --build-id): a
// 12-byte note header, "GNU\0", then the id.
std::string loaded_build_id(const Kernel& kernel, const LoadedModule& m) {
  auto note = m.sections.find(".note.gnu.build-id");
  if (note == m.sections.end()) return "";
  struct {
    uint32_t namesz, descsz, type;
    char name[4];
    uint8_t desc[64];
  } n{};
  constexpr uint32_t kGnuBuildId = 3;
  if (!kernel.read(note->second, {reinterpret_cast<uint8_t*>(&n), sizeof n})) return "";
  if (n.namesz != 4 || n.type != kGnuBuildId || std::memcmp(n.name, "GNU", 4) != 0 || n.descsz == 0 || n.descsz > sizeof n.desc) {
    return "";
  }
  std::string out;
  for (uint32_t i = 0; i < n.descsz; ++i) {
    char two[3];
    std::snprintf(two, sizeof two, "%02x", n.desc[i]);
    out += two;
  }
  return out;
}

// Before 6.4 a module had two allocations, core and init, each text first; since, one per kind of
// memory (struct module_memory mem[], indexed by enum mod_mem_type).
void read_layout(TypedMemory& objects, StructReader& mod, LoadedModule& m, std::vector<std::string>& problems) {
  uint64_t a = m.address;
  auto split = [&](const char* kind, bool init, uint64_t base, uint64_t size, uint64_t text_size) {
    if (!base || !size) return;
    text_size = std::min(text_size, size);
    m.regions.push_back({std::string(init ? "init_" : "") + "text", base, text_size, true, init});
    if (size > text_size) m.regions.push_back({kind, base + text_size, size - text_size, false, init});
  };
  if (mod.has("core_layout")) {
    split("core", false, mod.integer(a, "core_layout.base").value_or(0), mod.integer(a, "core_layout.size").value_or(0),
          mod.integer(a, "core_layout.text_size").value_or(0));
    split("init", true, mod.integer(a, "init_layout.base").value_or(0), mod.integer(a, "init_layout.size").value_or(0),
          mod.integer(a, "init_layout.text_size").value_or(0));
  } else if (mod.has("mem")) {
    auto kinds = objects.debug().find_type("enum mod_mem_type");
    const Type* e = kinds ? strip_typedefs(*kinds) : nullptr;
    if (!e || e->kind != TypeKind::enumeration) {
      problems.push_back("module " + m.name + ": struct module has mem[] but the debug info has no enum mod_mem_type to say which is which");
      return;
    }
    for (const Enumerator& en : e->enumerators) {
      if (!en.name.starts_with("MOD_") || en.value >= 64) continue;
      std::string index = "mem[" + std::to_string(en.value) + "]";
      auto base = mod.integer(a, index + ".base"), size = mod.integer(a, index + ".size");
      if (!base || !size) continue;  // past the array: MOD_MEM_NUM_TYPES, MOD_INVALID
      std::string kind = en.name.substr(4);
      std::transform(kind.begin(), kind.end(), kind.begin(), [](unsigned char c) { return std::tolower(c); });
      if (*base && *size) m.regions.push_back({kind, *base, *size, kind.ends_with("text"), kind.starts_with("init")});
    }
  } else if (mod.has("module_core")) {
    split("core", false, mod.integer(a, "module_core").value_or(0), mod.integer(a, "core_size").value_or(0),
          mod.integer(a, "core_text_size").value_or(0));
  } else {
    problems.push_back("module " + m.name + ": struct module has none of mem[], core_layout, module_core: where it was loaded is unknown");
  }
  for (const ModuleRegion& r : m.regions) {
    if (r.init) continue;
    if (r.text && !m.base) m.base = r.start;
    if (r.text) m.text_size += r.size;
    m.size += r.size;
  }
}

LoadedModule read_module(TypedMemory& objects, StructReader& mod, uint64_t address, std::vector<std::string>& problems) {
  LoadedModule m;
  m.address = address;
  m.name = mod.text(address, "name").value_or("?");
  m.state = module_state_name(mod.integer(address, "state").value_or(99));
  read_layout(objects, mod, m, problems);
  if (mod.has("arch.num_orcs")) {
    m.orc_count = static_cast<uint32_t>(mod.integer(address, "arch.num_orcs").value_or(0));
    m.orc_ip = mod.integer(address, "arch.orc_unwind_ip").value_or(0);
    m.orc = mod.integer(address, "arch.orc_unwind").value_or(0);
  }
  if (auto srcversion = mod.integer(address, "srcversion"); srcversion && *srcversion) {
    m.srcversion = objects.kernel().read_c_string(*srcversion, 64).value_or("");
  }
  read_kallsyms(objects, mod, m, problems);
  read_sections(objects, mod, m, problems);
  m.build_id = loaded_build_id(objects.kernel(), m);
  return m;
}

}  // namespace

Result<ModuleList> read_modules(TypedMemory& objects) {
  ModuleList out;
  auto head = objects.kernel().symbol_address("modules");
  if (!head) return make_error("no symbol `modules` in the vmlinux: a kernel without module support?");
  auto mod = StructReader::of(objects, "struct module");
  if (!mod) return mod.error();
  auto walk = walk_list(objects, {mod->type(), "list", *head, true, 100000});
  if (!walk) return walk.error();
  if (auto p = incomplete_walk(*walk, "the module list")) out.problems.push_back(*p);
  for (uint64_t address : walk->entries) out.modules.push_back(read_module(objects, *mod, address, out.problems));
  return out;
}

bool LoadedModule::contains(uint64_t a) const {
  return std::any_of(regions.begin(), regions.end(), [&](const ModuleRegion& r) { return r.contains(a); });
}

bool LoadedModule::in_text(uint64_t a) const {
  return std::any_of(regions.begin(), regions.end(), [&](const ModuleRegion& r) { return r.text && r.contains(a); });
}

std::pair<uint64_t, uint64_t> LoadedModule::region_of(uint64_t a) const {
  for (const ModuleRegion& r : regions) {
    if (r.contains(a)) return {r.start, r.start + r.size};
  }
  return {base, base + size};
}

std::vector<std::pair<uint64_t, uint64_t>> LoadedModule::text_ranges() const {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  for (const ModuleRegion& r : regions) {
    if (r.text) out.emplace_back(r.start, r.start + r.size);
  }
  return out;
}

const LoadedModule* ModuleList::containing(uint64_t address) const {
  for (const LoadedModule& m : modules) {
    if (m.contains(address)) return &m;
  }
  return nullptr;
}

CodeLocation locate_code(const Kernel& kernel, const ModuleList* modules, uint64_t address, bool return_address) {
  if (return_address && address > 0) {
    CodeLocation loc = locate_code(kernel, modules, address - 1, false);
    if (!loc.function.empty()) ++loc.offset;
    return loc;
  }
  CodeLocation loc = locate_in_image(kernel, address);
  if (!loc.function.empty()) return loc;
  const LoadedModule* m = modules ? modules->containing(address) : nullptr;
  if (!m) return loc;
  loc.module = m->name;
  // As the kernel's find_kallsyms_symbol(): the symbol at or below, its size up to the next symbol
  // or the end of the text (core or init) or allocation holding the address.
  auto [region_start, region_end] = m->region_of(address);
  auto it = std::upper_bound(m->symbols.begin(), m->symbols.end(), address,
                             [](uint64_t a, const ModuleSymbol& s) { return a < s.address; });
  if (it == m->symbols.begin() || std::prev(it)->address < region_start) return loc;
  uint64_t next = it == m->symbols.end() ? region_end : std::min(region_end, it->address);
  --it;
  while (it != m->symbols.begin() && std::prev(it)->address == it->address) --it;
  loc.function = it->name;
  loc.offset = address - it->address;
  loc.size = next - it->address;
  return loc;
}

TextRanges::TextRanges(const Kernel& kernel, const ModuleList* modules) {
  for (auto [start, end] : {std::pair{"_stext", "_etext"}, std::pair{"_sinittext", "_einittext"}}) {
    auto s = kernel.symbol_address(start), e = kernel.symbol_address(end);
    if (s && e && *s < *e) ranges_.emplace_back(*s, *e);
  }
  if (!modules) return;
  for (const LoadedModule& m : modules->modules) {
    for (const auto& r : m.text_ranges()) ranges_.push_back(r);
  }
}

bool TextRanges::contains(uint64_t address) const {
  for (const auto& [start, end] : ranges_) {
    if (address >= start && address < end) return true;
  }
  return false;
}

x86_64::OrcLayout orc_layout(TypedMemory& objects) {
  x86_64::OrcLayout layout;
  auto entry = StructReader::of(objects, "struct orc_entry");
  if (!entry) return layout;  // the pre-6.4 layout
  auto bit = [&](const char* name) -> int {
    auto m = entry->member(name);
    return m && m->is_bit_field() ? static_cast<int>(m->bit_offset) - 32 : -1;
  };
  if (bit("sp_reg") >= 0) layout.sp_reg_bit = static_cast<uint32_t>(bit("sp_reg"));
  if (bit("bp_reg") >= 0) layout.bp_reg_bit = static_cast<uint32_t>(bit("bp_reg"));
  if (auto type = entry->member("type"); type && type->is_bit_field()) {
    layout.type_bit = static_cast<uint32_t>(type->bit_offset - 32);
    layout.type_bits = type->bit_size;
  }
  layout.end_bit = bit("end");
  layout.signal_bit = bit("signal");
  return layout;
}

x86_64::OrcIndex load_orc(TypedMemory& objects, const ModuleList* modules, std::vector<std::string>& problems) {
  x86_64::OrcIndex index;
  const Kernel& k = objects.kernel();
  const SymbolTable* syms = k.symbols();
  x86_64::OrcLayout layout = orc_layout(objects);
  // The image's tables are read from memory, as the modules' are: the same bytes as the vmlinux's
  // sections, and there without a vmlinux.
  auto ip_start = syms ? syms->address_of("__start_orc_unwind_ip") : std::nullopt;
  auto ip_stop = syms ? syms->address_of("__stop_orc_unwind_ip") : std::nullopt;
  auto orc_start = syms ? syms->address_of("__start_orc_unwind") : std::nullopt;
  if (ip_start && ip_stop && orc_start && *ip_stop > *ip_start && *ip_stop - *ip_start < 4 * 10'000'000ull) {
    uint64_t n = (*ip_stop - *ip_start) / 4;
    ObjectBytes ips = objects.read_object(*ip_start, n * 4);
    ObjectBytes entries = objects.read_object(*orc_start, n * 6);
    if (ips.missing.empty() && entries.missing.empty()) {
      index.add(x86_64::make_orc_table("vmlinux", ips.data, *ip_start, entries.data, layout));
    } else {
      problems.push_back("the kernel's ORC tables at " + hex(*ip_start) + " are not all in the dump: " + ips.why_missing +
                         entries.why_missing + "; backtraces fall back to frame pointers");
    }
  } else {
    problems.push_back("the kernel has no ORC tables (__start_orc_unwind_ip); backtraces fall back to frame pointers");
  }
  if (!modules) return index;
  for (const LoadedModule& m : modules->modules) {
    if (!m.orc_count || m.orc_count > 10'000'000 || !m.orc_ip || !m.orc) continue;
    ObjectBytes ips = objects.read_object(m.orc_ip, uint64_t{m.orc_count} * 4);
    ObjectBytes entries = objects.read_object(m.orc, uint64_t{m.orc_count} * 6);
    if (!ips.missing.empty() || !entries.missing.empty()) {
      problems.push_back("module " + m.name + ": ORC tables unreadable: " + ips.why_missing + entries.why_missing);
      continue;
    }
    auto table = x86_64::make_orc_table(m.name, ips.data, m.orc_ip, entries.data, layout);
    table.text = m.text_ranges();
    index.add(std::move(table));
  }
  return index;
}

}  // namespace coroner::linux_kernel
