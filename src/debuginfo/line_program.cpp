#include "coroner/debuginfo/line_program.hpp"

#include <libdwarf/dwarf.h>

#include <algorithm>
#include <cstring>

#include "coroner/debuginfo/dwarf_units.hpp"
#include "coroner/format.hpp"

namespace coroner::dwarf {

namespace {

std::string join(std::string_view dir, std::string_view name) {
  if (dir.empty() || name.starts_with('/')) return std::string(name);
  std::string out(dir);
  if (!out.ends_with('/')) out += '/';
  return out + std::string(name);
}

struct Header {
  uint16_t version = 0;
  uint8_t address_size = 8, offset_size = 4;
  uint8_t min_instruction_length = 1;
  bool default_is_stmt = true;
  int8_t line_base = 0;
  uint8_t line_range = 1, opcode_base = 1;
  std::vector<uint8_t> standard_lengths;
  uint64_t program = 0, end = 0;  // offsets in .debug_line
  std::vector<std::string> directories;
  struct File {
    std::string name;
    uint64_t directory = 0;
  };
  std::vector<File> files;
};

// A DWARF 5 directory or file entry: its path and directory index, read by the header's formats.
bool read_entry(Cursor& c, const LineSections& s, const UnitHeader& unit,
                const std::vector<std::pair<uint64_t, uint64_t>>& formats, Header::File& out) {
  for (const auto& [content, form] : formats) {
    FormValue v;
    if (!read_form(c, unit, static_cast<uint16_t>(form), 0, v)) return false;
    if (content == DW_LNCT_path) {
      if (v.is_text) out.name = v.text;
      else if (v.form == DW_FORM_line_strp) out.name = string_at(s.line_str, v.value);
      else if (v.form == DW_FORM_strp) out.name = string_at(s.str, v.value);
    } else if (content == DW_LNCT_directory_index) {
      out.directory = v.value;
    }
  }
  return c.ok();
}

bool read_v5_tables(Cursor& c, const LineSections& s, Header& h) {
  UnitHeader unit;
  unit.version = h.version;
  unit.address_size = h.address_size;
  unit.offset_size = h.offset_size;
  for (int table = 0; table < 2; ++table) {
    std::vector<std::pair<uint64_t, uint64_t>> formats(c.u8());
    for (auto& f : formats) f = {c.uleb(), c.uleb()};
    uint64_t count = c.uleb();
    for (uint64_t i = 0; i < count && c.ok(); ++i) {
      Header::File entry;
      uint64_t at = c.offset();
      if (!read_entry(c, s, unit, formats, entry)) return false;
      // Every real entry holds a path; formats that take no bytes (none, or only flag_present and
      // implicit_const) with a huge count would otherwise fill memory with empty entries.
      if (c.offset() == at) return false;
      if (table == 0) h.directories.push_back(std::move(entry.name));
      else h.files.push_back(std::move(entry));
    }
  }
  return c.ok();
}

bool read_v4_tables(Cursor& c, Header& h) {
  for (std::string_view dir = c.cstr(); c.ok() && !dir.empty(); dir = c.cstr()) h.directories.emplace_back(dir);
  for (std::string_view name = c.cstr(); c.ok() && !name.empty(); name = c.cstr()) {
    uint64_t directory = c.uleb();
    c.uleb(), c.uleb();  // modification time, length
    h.files.push_back({std::string(name), directory});
  }
  return c.ok();
}

Result<Header> read_header(const LineSections& s, uint64_t offset) {
  Header h;
  Cursor c(s.line, offset);
  uint64_t length = c.u32();
  if (length == 0xffffffff) {
    length = c.u64();
    h.offset_size = 8;
  }
  const bool fits = length <= c.remaining();
  h.end = c.offset() + (fits ? length : 0);
  h.version = c.u16();
  if (!c.ok() || !fits || h.version < 2 || h.version > 5) {
    return make_error(".debug_line+" + hex(offset) + ": not a line program header (version " + std::to_string(h.version) + ")");
  }
  c.limit(h.end);
  if (h.version >= 5) {
    h.address_size = c.u8();
    c.u8();  // segment selector size
  }
  uint64_t header_length = c.uint(h.offset_size);
  h.program = header_length <= c.remaining() ? c.offset() + header_length : h.end + 1;  // past the end: malformed
  h.min_instruction_length = c.u8();
  if (h.version >= 4) c.u8();  // maximum operations per instruction: 1 on every non-VLIW target
  h.default_is_stmt = c.u8() != 0;
  h.line_base = static_cast<int8_t>(c.u8());
  h.line_range = c.u8();
  h.opcode_base = c.u8();
  for (int i = 1; i < h.opcode_base; ++i) h.standard_lengths.push_back(c.u8());
  bool tables = h.version >= 5 ? read_v5_tables(c, s, h) : read_v4_tables(c, h);
  bool addresses = h.address_size == 4 || h.address_size == 8;
  if (!tables || !addresses || h.line_range == 0 || h.program > h.end) {
    return make_error(".debug_line+" + hex(offset) + ": malformed line program header");
  }
  return h;
}

// Each file's path, as the DWARF version numbers them in the program's file register.
std::vector<std::string> file_paths(const Header& h, std::string_view comp_dir) {
  auto directory = [&](uint64_t index) -> std::string {
    // DWARF 5 lists the unit's directory as entry 0; before, index 0 means the unit's directory.
    std::string_view dir;
    if (h.version >= 5) dir = index < h.directories.size() ? std::string_view(h.directories[index]) : std::string_view();
    else dir = index == 0 ? comp_dir : index <= h.directories.size() ? std::string_view(h.directories[index - 1]) : "";
    return dir.starts_with('/') ? std::string(dir) : join(comp_dir, dir);
  };
  std::vector<std::string> out;
  if (h.version < 5) out.emplace_back("?");  // file 0 does not exist before DWARF 5
  for (const auto& f : h.files) out.push_back(join(directory(f.directory), f.name));
  return out;
}

class Machine {
 public:
  Machine(const Header& h, LineProgram& out) : h_(h), out_(out) { reset(); }

  void run(Cursor& c) {
    while (c.ok() && !c.at_end()) {
      uint8_t op = c.u8();
      if (op >= h_.opcode_base) {
        special(op);
      } else if (op == 0) {
        extended(c);
      } else {
        standard(c, op);
      }
    }
  }

 private:
  void reset() {
    address_ = 0;
    file_ = 1;
    line_ = 1;
  }
  void emit(bool end_sequence = false) {
    out_.rows.push_back({address_, file_, static_cast<uint32_t>(line_), end_sequence});
  }
  void special(uint8_t op) {
    uint8_t adjusted = static_cast<uint8_t>(op - h_.opcode_base);
    address_ += static_cast<uint64_t>(adjusted / h_.line_range) * h_.min_instruction_length;
    line_ += static_cast<uint64_t>(h_.line_base + adjusted % h_.line_range);
    emit();
  }
  void extended(Cursor& c) {
    uint64_t length = c.uleb();
    if (length == 0) return;
    if (length > c.remaining()) {  // an opcode longer than the program: nothing after it can be read
      c.skip(length);
      return;
    }
    uint64_t next = c.offset() + length;
    switch (c.u8()) {
      case DW_LNE_end_sequence:
        emit(true);
        reset();
        break;
      case DW_LNE_set_address:
        if (length - 1 <= 8) address_ = c.uint(static_cast<unsigned>(length - 1));
        break;
      default: break;  // define_file, set_discriminator, vendor opcodes: nothing a row needs
    }
    c.seek(next);
  }
  void standard(Cursor& c, uint8_t op) {
    switch (op) {
      case DW_LNS_copy: emit(); break;
      case DW_LNS_advance_pc: address_ += c.uleb() * h_.min_instruction_length; break;
      case DW_LNS_advance_line: line_ += static_cast<uint64_t>(c.sleb()); break;
      case DW_LNS_set_file: file_ = static_cast<uint32_t>(c.uleb()); break;
      case DW_LNS_const_add_pc:
        address_ += static_cast<uint64_t>((255 - h_.opcode_base) / h_.line_range) * h_.min_instruction_length;
        break;
      case DW_LNS_fixed_advance_pc: address_ += c.u16(); break;
      default:  // every other standard opcode (and unknown ones) has LEB128 operands the header counts
        for (uint8_t i = 0; i < h_.standard_lengths[op - 1]; ++i) c.uleb();
        break;
    }
  }

  const Header& h_;
  LineProgram& out_;
  uint64_t address_ = 0;
  uint32_t file_ = 1;
  // DWARF's line register is unsigned: a hostile program's advances wrap, as the address's do.
  uint64_t line_ = 1;
};

}  // namespace

Result<LineProgram> decode_line_program(const LineSections& sections, uint64_t offset, std::string_view comp_dir) {
  auto header = read_header(sections, offset);
  if (!header) return header.error();
  LineProgram program;
  program.files = file_paths(*header, comp_dir);
  Cursor c(sections.line, header->program);
  c.limit(header->end);
  Machine(*header, program).run(c);
  // A row naming a file the table lacks (or file 0 before DWARF 5) says nothing usable.
  bool from_one = header->version < 5;
  std::erase_if(program.rows, [&](const LineRow& r) { return r.file >= program.files.size() || (from_one && r.file == 0); });
  return program;
}

AddressRanges read_address_ranges(std::span<const uint8_t> aranges) {
  AddressRanges out;
  Cursor c(aranges);
  while (c.ok() && !c.at_end()) {
    uint64_t set = c.offset();
    uint64_t length = c.u32();
    uint8_t offset_size = 4;
    if (length == 0xffffffff) {
      length = c.u64();
      offset_size = 8;
    }
    if (length > c.remaining()) break;
    uint64_t end = c.offset() + length;
    c.u16();  // version
    uint64_t unit = c.uint(offset_size);
    uint8_t address_size = c.u8();
    uint8_t segment_size = c.u8();
    if (!c.ok() || end > aranges.size() || (address_size != 4 && address_size != 8) || segment_size != 0) break;
    out.units.push_back(unit);
    // Tuples start at a multiple of twice the address size from the set's start.
    uint64_t tuple = 2u * address_size;
    c.seek(set + (c.offset() - set + tuple - 1) / tuple * tuple);
    while (c.ok() && c.offset() + tuple <= end) {
      uint64_t begin = c.uint(address_size), size = c.uint(address_size);
      if (begin == 0 && size == 0) break;
      if (size) out.ranges.push_back({begin, begin + size, unit});
    }
    c.seek(end);
  }
  std::sort(out.ranges.begin(), out.ranges.end(), [](const AddressRange& a, const AddressRange& b) { return a.begin < b.begin; });
  std::sort(out.units.begin(), out.units.end());
  return out;
}

}  // namespace coroner::dwarf
