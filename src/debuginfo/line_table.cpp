#include "coroner/debuginfo/line_table.hpp"

#include <algorithm>

namespace coroner {
namespace {

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

const std::vector<dwarf::AddressRange>& LineTables::ranges() {
  if (ranges_) return *ranges_;
  auto table = dwarf::read_address_ranges(sections_.get(".debug_aranges"));
  for (const auto& unit : dies_.units()) {
    if (std::binary_search(table.units.begin(), table.units.end(), unit.offset)) continue;
    for (const auto& r : dies_.unit_ranges(unit.offset)) table.ranges.push_back({r.begin, r.end, unit.offset});
  }
  std::sort(table.ranges.begin(), table.ranges.end(),
            [](const dwarf::AddressRange& a, const dwarf::AddressRange& b) { return a.begin < b.begin; });
  return ranges_.emplace(std::move(table.ranges));
}

const LineTables::Table* LineTables::table_for(uint64_t link_address) {
  const auto& ranges = this->ranges();
  auto it = std::upper_bound(ranges.begin(), ranges.end(), link_address,
                             [](uint64_t a, const dwarf::AddressRange& r) { return a < r.begin; });
  if (it == ranges.begin() || link_address >= std::prev(it)->end) return nullptr;
  uint64_t cu = std::prev(it)->unit;
  auto table = tables_.find(cu);
  if (table == tables_.end()) table = tables_.emplace(cu, decode(cu)).first;
  return &table->second;
}

LineTables::Table LineTables::decode(uint64_t cu_offset) {
  Table table;
  auto unit = dies_.read_unit(cu_offset);
  if (!unit || !unit->stmt_list) return table;
  dwarf::LineSections s{sections_.get(".debug_line"), sections_.get(".debug_str"), sections_.get(".debug_line_str")};
  auto program = dwarf::decode_line_program(s, *unit->stmt_list, unit->comp_dir);
  if (!program) return table;
  for (const auto& file : program->files) table.files.push_back(relative_to(file, unit->comp_dir));
  for (const auto& r : program->rows) table.rows.push_back({r.address, r.file, r.line, r.end_sequence});
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
