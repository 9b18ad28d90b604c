#include "coroner/debuginfo/elf_relocations.hpp"

#include <gelf.h>
#include <libelf.h>

#include <cstring>

#include "coroner/format.hpp"

namespace coroner {

namespace {

std::string section_name(Elf* elf, size_t index) {
  size_t shstrndx = 0;
  Elf_Scn* scn = elf_getscn(elf, index);
  GElf_Shdr sh;
  if (!scn || !gelf_getshdr(scn, &sh) || elf_getshdrstrndx(elf, &shstrndx) != 0) return "";
  const char* name = elf_strptr(elf, shstrndx, sh.sh_name);
  return name ? name : "";
}

uint64_t placed_at(Elf* elf, size_t section, const SectionPlacement& placement) {
  auto it = placement.find(section_name(elf, section));
  return it == placement.end() ? 0 : it->second;
}

template <typename T>
void store(std::span<uint8_t> bytes, uint64_t offset, T value) {
  std::memcpy(bytes.data() + offset, &value, sizeof value);
}

}  // namespace

Result<std::vector<ResolvedRelocation>> resolve_relocations(Elf* elf, size_t target_index,
                                                            const SectionPlacement& placement,
                                                            const std::string& path) {
  std::vector<ResolvedRelocation> out;
  const uint64_t target_base = placed_at(elf, target_index, placement);
  for (Elf_Scn* scn = elf_nextscn(elf, nullptr); scn; scn = elf_nextscn(elf, scn)) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA || sh.sh_info != target_index) continue;
    Elf_Scn* symtab_scn = elf_getscn(elf, sh.sh_link);
    Elf_Data* symbols = symtab_scn ? elf_getdata(symtab_scn, nullptr) : nullptr;
    Elf_Data* relas = elf_getdata(scn, nullptr);
    if (!symbols || !relas || sh.sh_entsize == 0) {
      return make_error(path + ": " + section_name(elf, elf_ndxscn(scn)) + " has no readable entries or symbols");
    }
    const size_t count = sh.sh_size / sh.sh_entsize;
    out.reserve(out.size() + count);
    for (size_t i = 0; i < count; ++i) {
      GElf_Rela rela;
      GElf_Sym sym;
      if (!gelf_getrela(relas, static_cast<int>(i), &rela) ||
          !gelf_getsym(symbols, static_cast<int>(GELF_R_SYM(rela.r_info)), &sym)) {
        return make_error(path + ": relocation " + std::to_string(i) + " of " + section_name(elf, elf_ndxscn(scn)) +
                          " is unreadable");
      }
      if (sym.st_shndx == SHN_UNDEF && GELF_R_SYM(rela.r_info) != 0) continue;
      uint64_t symbol = sym.st_value;
      if (sym.st_shndx != SHN_ABS && sym.st_shndx != SHN_UNDEF && sym.st_shndx < SHN_LORESERVE) {
        symbol += placed_at(elf, sym.st_shndx, placement);
      }
      out.push_back({rela.r_offset, static_cast<uint32_t>(GELF_R_TYPE(rela.r_info)),
                     symbol + static_cast<uint64_t>(rela.r_addend), target_base + rela.r_offset});
    }
  }
  return out;
}

Status apply_relocations(std::span<uint8_t> bytes, const std::vector<ResolvedRelocation>& relocations,
                         const std::string& where) {
  for (const auto& r : relocations) {
    size_t width = 0;
    switch (r.type) {
      case R_X86_64_NONE: continue;
      case R_X86_64_64: case R_X86_64_PC64: width = 8; break;
      case R_X86_64_32: case R_X86_64_32S: case R_X86_64_PC32: width = 4; break;
      default:
        return make_error(where + "+" + hex(r.offset) + ": relocation type " + std::to_string(r.type) +
                          " is not one coroner applies");
    }
    if (r.offset > bytes.size() || bytes.size() - r.offset < width) {
      return make_error(where + "+" + hex(r.offset) + ": relocation past the end of the section");
    }
    const bool pc_relative = r.type == R_X86_64_PC32 || r.type == R_X86_64_PC64;
    const uint64_t value = pc_relative ? r.value - r.place : r.value;
    if (width == 8) {
      store<uint64_t>(bytes, r.offset, value);
    } else {
      store<uint32_t>(bytes, r.offset, static_cast<uint32_t>(value));
    }
  }
  return ok_status();
}

}  // namespace coroner
