#include "coroner/debuginfo/line_table.hpp"

#include <libdwarf/dwarf.h>
#include <libdwarf/libdwarf.h>

#include <algorithm>

namespace coroner {
namespace {

Dwarf_Debug debug_of(const DieReader& r) { return static_cast<Dwarf_Debug>(r.libdwarf_handle()); }

void drop(Dwarf_Debug dbg, Dwarf_Error err) {
  if (err) dwarf_dealloc_error(dbg, err);
}

// Paths as the kernel tree names them: what follows the build directory.
std::string relative_to(const std::string& path, const std::string& comp_dir) {
  if (!comp_dir.empty() && path.size() > comp_dir.size() + 1 && path.compare(0, comp_dir.size(), comp_dir) == 0 &&
      path[comp_dir.size()] == '/') {
    return path.substr(comp_dir.size() + 1);
  }
  if (path.rfind("./", 0) == 0) return path.substr(2);
  return path;
}

}  // namespace

LineTables::~LineTables() {
  if (!aranges_) return;
  Dwarf_Debug dbg = debug_of(reader_);
  auto** list = static_cast<Dwarf_Arange*>(aranges_);
  for (long long i = 0; i < arange_count_; ++i) dwarf_dealloc(dbg, list[i], DW_DLA_ARANGE);
  dwarf_dealloc(dbg, list, DW_DLA_LIST);
}

const LineTables::Table* LineTables::table_for(uint64_t link_address) {
  Dwarf_Debug dbg = debug_of(reader_);
  if (!dbg) return nullptr;
  Dwarf_Error err = nullptr;
  if (!aranges_loaded_) {
    aranges_loaded_ = true;
    Dwarf_Arange* list = nullptr;
    Dwarf_Signed count = 0;
    if (dwarf_get_aranges(dbg, &list, &count, &err) == DW_DLV_OK) {
      aranges_ = list;
      arange_count_ = count;
    }
    drop(dbg, err);
    err = nullptr;
  }
  if (!aranges_) return nullptr;
  Dwarf_Arange arange = nullptr;
  if (dwarf_get_arange(static_cast<Dwarf_Arange*>(aranges_), static_cast<Dwarf_Unsigned>(arange_count_), link_address,
                       &arange, &err) != DW_DLV_OK) {
    drop(dbg, err);
    return nullptr;
  }
  Dwarf_Off cu = 0;
  if (dwarf_get_cu_die_offset(arange, &cu, &err) != DW_DLV_OK) {
    drop(dbg, err);
    return nullptr;
  }
  auto it = tables_.find(cu);
  if (it == tables_.end()) it = tables_.emplace(cu, decode(cu)).first;
  return &it->second;
}

LineTables::Table LineTables::decode(uint64_t cu_offset) {
  Table table;
  Dwarf_Debug dbg = debug_of(reader_);
  Dwarf_Error err = nullptr;
  Dwarf_Die die = nullptr;
  if (dwarf_offdie_b(dbg, cu_offset, true, &die, &err) != DW_DLV_OK) {
    drop(dbg, err);
    return table;
  }
  std::string comp_dir;
  Dwarf_Attribute attr = nullptr;
  if (dwarf_attr(die, DW_AT_comp_dir, &attr, &err) == DW_DLV_OK) {
    char* s = nullptr;
    if (dwarf_formstring(attr, &s, &err) == DW_DLV_OK && s) comp_dir = s;
    dwarf_dealloc_attribute(attr);
  }
  Dwarf_Unsigned version = 0;
  Dwarf_Small table_count = 0;
  Dwarf_Line_Context context = nullptr;
  if (dwarf_srclines_b(die, &version, &table_count, &context, &err) != DW_DLV_OK) {
    drop(dbg, err);
    dwarf_dealloc_die(die);
    return table;
  }
  Dwarf_Line* lines = nullptr;
  Dwarf_Signed count = 0;
  if (dwarf_srclines_from_linecontext(context, &lines, &count, &err) == DW_DLV_OK) {
    std::map<std::string, uint32_t> file_ids;
    for (Dwarf_Signed i = 0; i < count; ++i) {
      Dwarf_Addr address = 0;
      Dwarf_Unsigned number = 0;
      Dwarf_Bool end = false;
      char* source = nullptr;
      if (dwarf_lineaddr(lines[i], &address, &err) != DW_DLV_OK || dwarf_lineno(lines[i], &number, &err) != DW_DLV_OK ||
          dwarf_lineendsequence(lines[i], &end, &err) != DW_DLV_OK || dwarf_linesrc(lines[i], &source, &err) != DW_DLV_OK) {
        drop(dbg, err);
        err = nullptr;
        continue;
      }
      std::string file = relative_to(source ? source : "?", comp_dir);
      dwarf_dealloc(dbg, source, DW_DLA_STRING);
      auto [id, added] = file_ids.emplace(file, static_cast<uint32_t>(table.files.size()));
      if (added) table.files.push_back(file);
      table.rows.push_back({address, id->second, static_cast<uint32_t>(number), end != 0});
    }
  } else {
    drop(dbg, err);
  }
  dwarf_srclines_dealloc_b(context);
  dwarf_dealloc_die(die);
  std::stable_sort(table.rows.begin(), table.rows.end(), [](const Row& a, const Row& b) { return a.address < b.address; });
  return table;
}

std::string LineTables::line_of(uint64_t link_address) {
  const Table* t = table_for(link_address);
  if (!t || t->rows.empty()) return "";
  auto it = std::upper_bound(t->rows.begin(), t->rows.end(), link_address,
                             [](uint64_t a, const Row& r) { return a < r.address; });
  if (it == t->rows.begin()) return "";
  --it;
  // Rows at one address: the last one that does not end a sequence describes the instruction.
  while (it->end_sequence && it != t->rows.begin() && std::prev(it)->address == it->address) --it;
  if (it->end_sequence || it->line == 0) return "";
  return t->files[it->file] + ":" + std::to_string(it->line);
}

}  // namespace coroner
