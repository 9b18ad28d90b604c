// Source lines without .debug_aranges: each unit's own ranges (low/high pc, .debug_ranges,
// .debug_rnglists with indexed lists and addresses) find its line program. The oracle is binutils'
// addr2line on the same file, at every byte of every function.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "coroner/debuginfo/debug_info.hpp"
#include "coroner/debuginfo/dwarf_ranges.hpp"
#include "coroner/debuginfo/dwarf_sections.hpp"
#include "coroner/debuginfo/dwarf_units.hpp"
#include "coroner/debuginfo/line_program.hpp"
#include "../support/run_command.hpp"
#include "../support/temp_file.hpp"

using namespace coroner;
using namespace coroner::testing;

namespace {

struct Function {
  std::string name;
  uint64_t address = 0, size = 0;
};

std::vector<Function> functions_of(const std::string& file) {
  auto nm = run_command("nm --defined-only -S " + file);
  std::vector<Function> out;
  std::istringstream in(nm.output);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string address, size, kind, name;
    if (!(fields >> address >> size >> kind >> name) || (kind != "T" && kind != "t")) continue;
    out.push_back({name, std::stoull(address, nullptr, 16), std::stoull(size, nullptr, 16)});
  }
  return out;
}

// "types_main.c:42" from ".../types_main.c:42" or ".../types_main.c:42 (discriminator 1)"; empty
// for addr2line's unknowns ("??:0", "file:?").
std::string file_and_line(std::string answer) {
  if (auto d = answer.find(" (discriminator"); d != std::string::npos) answer.resize(d);
  if (auto slash = answer.rfind('/'); slash != std::string::npos) answer = answer.substr(slash + 1);
  auto colon = answer.rfind(':');
  if (colon == std::string::npos || answer.starts_with("??") || answer.substr(colon + 1) == "?" ||
      answer.substr(colon + 1) == "0") {
    return "";
  }
  return answer;
}

class LineTablesWithoutAranges : public ::testing::TestWithParam<std::string> {
 protected:
  std::string file() const { return std::string(CORONER_LINES_FIXTURE_PREFIX) + GetParam(); }
  void SetUp() override {
    if (GetParam() == "clang5" && !CORONER_HAVE_CLANG) GTEST_SKIP() << "no clang to build the fixture with";
  }
};

TEST_P(LineTablesWithoutAranges, FixtureNamesItsCodeOnlyByRangeLists) {
  auto sections = DwarfSections::open(file());
  ASSERT_TRUE(sections) << sections.error().message;
  EXPECT_TRUE((*sections)->get(".debug_aranges").empty());
  std::string lists = GetParam() == "gcc4" ? ".debug_ranges" : ".debug_rnglists";
  EXPECT_FALSE((*sections)->get(lists).empty()) << "no " << lists << ": the fixture no longer tests range lists";
}

TEST_P(LineTablesWithoutAranges, EveryByteOfEveryFunctionAsAddr2lineSaysIt) {
  auto debug = DebugInfo::open(file());
  ASSERT_TRUE(debug) << debug.error().message;
  auto functions = functions_of(file());
  ASSERT_GE(functions.size(), 3u);
  TempDir dir;
  std::string addresses = dir.path() + "/addresses";
  std::vector<uint64_t> asked;
  {
    std::ofstream out(addresses);
    for (const auto& f : functions) {
      for (uint64_t a = f.address; a < f.address + f.size; ++a) {
        out << std::hex << "0x" << a << "\n";
        asked.push_back(a);
      }
    }
  }
  auto oracle = run_command("addr2line -e " + file() + " < " + addresses);
  ASSERT_EQ(oracle.status, 0) << oracle.output;
  std::istringstream answers(oracle.output);
  size_t known = 0;
  for (uint64_t a : asked) {
    std::string expected;
    ASSERT_TRUE(std::getline(answers, expected)) << "addr2line answered fewer addresses than asked";
    expected = file_and_line(expected);
    std::string ours = file_and_line((*debug)->source_line(a));
    EXPECT_EQ(ours, expected) << "at 0x" << std::hex << a;
    known += !ours.empty();
  }
  EXPECT_GT(known, asked.size() * 9 / 10) << "most addresses have a line";
  for (const auto& f : functions) EXPECT_NE((*debug)->source_line(f.address), "") << f.name;
  EXPECT_EQ((*debug)->source_line(0xffffffff80000000), "");  // below every unit
}

INSTANTIATE_TEST_SUITE_P(Compilers, LineTablesWithoutAranges, ::testing::Values("gcc4", "gcc5", "clang5"),
                         [](const auto& p) { return std::string(p.param); });

// Hostile range lists: every kind, bases, and lists that run off the section end.
TEST(RangeLists, Dwarf4PairsBaseSelectionAndEnd) {
  std::vector<uint8_t> bytes;
  auto put = [&](uint64_t v) {
    for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<uint8_t>(v >> (8 * i)));
  };
  put(0x10), put(0x20);                       // base + [0x10, 0x20)
  put(~uint64_t{0}), put(0x5000);             // base becomes 0x5000
  put(0x0), put(0x8);                         // [0x5000, 0x5008)
  put(0x30), put(0x30);                       // empty: left out
  put(0), put(0);                             // end
  put(0x1), put(0x2);                         // after the end: not read
  auto r = dwarf::read_range_list(bytes, 0, 8, 0x1000);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].begin, 0x1010u);
  EXPECT_EQ(r[0].end, 0x1020u);
  EXPECT_EQ(r[1].begin, 0x5000u);
  EXPECT_EQ(r[1].end, 0x5008u);
  // Cut anywhere, the list gives what it holds before the cut and never reads past it.
  for (size_t cut = 0; cut <= bytes.size(); ++cut) {
    auto part = dwarf::read_range_list(std::span(bytes).first(cut), 0, 8, 0x1000);
    EXPECT_LE(part.size(), 2u);
  }
  EXPECT_TRUE(dwarf::read_range_list(bytes, bytes.size() + 100, 8, 0).empty());
  EXPECT_TRUE(dwarf::read_range_list(bytes, 0, 3, 0).empty());
}

TEST(RangeLists, Dwarf5EveryKind) {
  std::vector<uint8_t> b;
  auto u8 = [&](uint8_t v) { b.push_back(v); };
  auto addr = [&](uint64_t v) {
    for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
  };
  auto uleb = [&](uint64_t v) {
    do {
      uint8_t byte = v & 0x7f;
      v >>= 7;
      b.push_back(static_cast<uint8_t>(byte | (v ? 0x80 : 0)));
    } while (v);
  };
  u8(0x04), uleb(0x10), uleb(0x20);          // offset_pair from the unit's base
  u8(0x05), addr(0x9000);                    // base_address
  u8(0x04), uleb(0x0), uleb(0x4);            // [0x9000, 0x9004)
  u8(0x01), uleb(1);                         // base_addressx: address 1
  u8(0x04), uleb(0x2), uleb(0x3);            // [A1+2, A1+3)
  u8(0x02), uleb(0), uleb(1);                // startx_endx
  u8(0x03), uleb(0), uleb(0x100);            // startx_length
  u8(0x06), addr(0x7000), addr(0x7010);      // start_end
  u8(0x07), addr(0x6000), uleb(0x300);       // start_length
  u8(0x00);                                  // end_of_list
  u8(0x07), addr(0x1), uleb(0x1);            // after the end: not read
  const uint64_t table[] = {0xa000, 0xb000};
  auto addrx = [&](uint64_t i) { return i < 2 ? std::optional(table[i]) : std::nullopt; };
  auto r = dwarf::read_rnglist(b, 0, 8, 0x1000, addrx);
  std::vector<std::pair<uint64_t, uint64_t>> got;
  for (auto p : r) got.emplace_back(p.begin, p.end);
  std::vector<std::pair<uint64_t, uint64_t>> want = {{0x1010, 0x1020}, {0x9000, 0x9004}, {0xb002, 0xb003},
                                                     {0xa000, 0xb000}, {0xa000, 0xa100}, {0x7000, 0x7010},
                                                     {0x6000, 0x6300}};
  EXPECT_EQ(got, want);
  // An index outside .debug_addr ends the list; so does an unknown kind.
  std::vector<uint8_t> bad = {0x03, 0x09, 0x10, 0x04, 0x0, 0x1};
  EXPECT_TRUE(dwarf::read_rnglist(bad, 0, 8, 0, addrx).empty());
  std::vector<uint8_t> unknown = {0x04, 0x0, 0x1, 0x42, 0x04, 0x2, 0x3};
  EXPECT_EQ(dwarf::read_rnglist(unknown, 0, 8, 0, addrx).size(), 1u);
  for (size_t cut = 0; cut <= b.size(); ++cut) {
    auto part = dwarf::read_rnglist(std::span(b).first(cut), 0, 8, 0x1000, addrx);
    EXPECT_LE(part.size(), want.size());
  }
}

TEST(RangeLists, IndexedListOffsetsStayInTheSection) {
  // A header's offset table at base 12: two entries, relative to the base.
  std::vector<uint8_t> b(12, 0);
  for (uint32_t v : {8u, 16u}) {
    for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  b.resize(40, 0);
  EXPECT_EQ(dwarf::rnglist_offset(b, 12, 0, 4), std::optional<uint64_t>(20));
  EXPECT_EQ(dwarf::rnglist_offset(b, 12, 1, 4), std::optional<uint64_t>(28));
  EXPECT_FALSE(dwarf::rnglist_offset(b, 12, 7, 4));                 // the table entry is past the end
  EXPECT_FALSE(dwarf::rnglist_offset(b, ~uint64_t{0} - 2, 1, 4));   // a base that would wrap
  EXPECT_FALSE(dwarf::rnglist_offset(b, 12, uint64_t{1} << 62, 4)); // an index that would wrap
  b[12] = 0xff, b[13] = 0xff;                                       // an offset past the section
  EXPECT_FALSE(dwarf::rnglist_offset(b, 12, 0, 4));
}

// A DWARF 5 line program whose file table is `files` (its entry formats, count and entries) and
// whose opcodes are `ops`: by default one row at 0x1000 in file 0 and the end of its sequence.
const std::vector<uint8_t> kOneRow = {0, 9, 2, 0x00, 0x10, 0, 0, 0, 0, 0, 0,  // set_address 0x1000
                                      4, 0, 1,                               // file 0, copy
                                      0, 1, 1};                              // end_sequence

std::vector<uint8_t> line_program_v5(const std::vector<uint8_t>& files, const std::vector<uint8_t>& ops = kOneRow) {
  std::vector<uint8_t> b = {0, 0, 0, 0, 5, 0, 8, 0, 0, 0, 0, 0};  // lengths filled in below
  const size_t header_start = b.size();
  const std::vector<uint8_t> fields = {1, 1, 1, 0xfb, 14, 13,             // min_inst .. opcode_base
                                       0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1,  // standard opcode lengths
                                       1, 0x01, 0x08, 1, '/', 'd', 0};      // directories: a path string, "/d"
  b.insert(b.end(), fields.begin(), fields.end());
  b.insert(b.end(), files.begin(), files.end());
  const size_t program = b.size();
  b.insert(b.end(), ops.begin(), ops.end());
  auto put32 = [&](size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
  };
  put32(0, static_cast<uint32_t>(b.size() - 4));
  put32(8, static_cast<uint32_t>(program - header_start));
  return b;
}

TEST(LinePrograms, Dwarf5FileTableNamesTheRowsFile) {
  auto b = line_program_v5({2, 0x01, 0x08, 0x02, 0x0f, 1, 'a', '.', 'c', 0, 0});  // path string, directory udata
  auto p = dwarf::decode_line_program({b, {}, {}}, 0, "/unit");
  ASSERT_TRUE(p) << p.error().message;
  ASSERT_EQ(p->files.size(), 1u);
  EXPECT_EQ(p->files[0], "/d/a.c");
  ASSERT_EQ(p->rows.size(), 2u);
  EXPECT_EQ(p->rows[0].address, 0x1000u);
  EXPECT_EQ(p->rows[0].line, 1u);
  EXPECT_TRUE(p->rows[1].end_sequence);
}

// Found by fuzz_debug_tables: entries whose formats take no bytes, counted in the trillions, filled
// memory with empty entries. Such a table is malformed, whatever its count.
TEST(LinePrograms, EntriesThatTakeNoBytesAreMalformed) {
  for (uint8_t form : {0x19 /* flag_present */, 0x21 /* implicit_const */}) {
    auto b = line_program_v5({1, 0x01, form, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20});  // 2^40 entries
    EXPECT_FALSE(dwarf::decode_line_program({b, {}, {}}, 0, "/unit")) << "form " << int(form);
  }
  auto none = line_program_v5({0, 0xff, 0xff, 0xff, 0xff, 0x0f});  // no formats, 2^32-1 entries
  EXPECT_FALSE(dwarf::decode_line_program({none, {}, {}}, 0, "/unit"));
}

const std::vector<uint8_t> kOneFile = {1, 0x01, 0x08, 1, 'a', '.', 'c', 0};

// Lengths near 2^64 wrapped the offset they were added to back before the read, which then read
// the same bytes for ever. Each ends the read where it stands.
TEST(LinePrograms, LengthsThatWrapEndTheRead) {
  std::vector<uint8_t> ops = {0, 9, 2, 0x00, 0x10, 0, 0, 0, 0, 0, 0, 4, 0, 1};  // a row at 0x1000
  for (int i = 0; i < 9; ++i) ops.push_back(i == 0 ? 0 : 0xff);                // an extended opcode, length 2^64-1
  ops.push_back(0xff), ops.push_back(0x01), ops.push_back(0x01);
  auto b = line_program_v5(kOneFile, ops);
  auto p = dwarf::decode_line_program({b, {}, {}}, 0, "/unit");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->rows.size(), 1u);

  // The 64-bit format's header length, 2^64-1.
  std::vector<uint8_t> h = {0xff, 0xff, 0xff, 0xff, 40, 0, 0, 0, 0, 0, 0, 0, 4, 0};
  for (int i = 0; i < 8; ++i) h.push_back(0xff);
  h.resize(52, 1);
  EXPECT_FALSE(dwarf::decode_line_program({h, {}, {}}, 0, "/unit"));
}

// Found by fuzz_debug_tables: a header's address size of 9 read an address of 9 bytes into 8.
TEST(LinePrograms, AnAddressSizeOtherThan4Or8IsMalformed) {
  for (uint8_t size : {0, 2, 9, 255}) {
    auto b = line_program_v5({1, 0x01, 0x01 /* DW_FORM_addr */, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9});
    b[6] = size;
    EXPECT_FALSE(dwarf::decode_line_program({b, {}, {}}, 0, "/unit")) << "address size " << int(size);
  }
  const std::vector<uint8_t> bytes(16, 1);
  dwarf::Cursor c(bytes);
  EXPECT_EQ(c.uint(9), 0u);
  EXPECT_FALSE(c.ok());
}

// Found by fuzz_debug_tables: a line advanced past 2^63 overflowed a signed register (UBSan).
// DWARF's line register is unsigned; a hostile program's advances wrap and the read goes on.
TEST(LinePrograms, ALineAdvancedPastItsRangeWraps) {
  std::vector<uint8_t> ops = {0, 9, 2, 0x00, 0x10, 0, 0, 0, 0, 0, 0, 4, 0};  // set_address 0x1000, set_file 0
  ops.push_back(3);                                                     // advance_line 2^63-1
  for (int i = 0; i < 9; ++i) ops.push_back(0xff);
  ops.push_back(0x00);
  ops.insert(ops.end(), {3, 0x02, 1});  // advance_line 2, copy: line 2^63+2, wrapped to 32 bits
  ops.insert(ops.end(), {0, 1, 1});     // end_sequence
  auto p = dwarf::decode_line_program({line_program_v5(kOneFile, ops), {}, {}}, 0, "/unit");
  ASSERT_TRUE(p) << p.error().message;
  ASSERT_EQ(p->rows.size(), 2u);
  EXPECT_EQ(p->rows[0].address, 0x1000u);
  EXPECT_EQ(p->rows[0].line, 2u);
}

TEST(AddressRanges, ASetLengthThatWrapsEndsTheTable) {
  std::vector<uint8_t> b;
  auto put = [&](uint64_t v, int size) {
    for (int i = 0; i < size; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
  };
  put(44, 4), put(2, 2), put(0x1234, 4), put(8, 1), put(0, 1), put(0, 4);  // a set for unit 0x1234
  put(0x1000, 8), put(0x20, 8), put(0, 8), put(0, 8);                      // [0x1000, 0x1020)
  const uint64_t set = b.size();
  put(0xffffffff, 4), put(~uint64_t{0} - (set + 11), 8);                   // a length back to its own start
  put(2, 2), put(0x5678, 8), put(8, 1), put(0, 1);
  auto r = dwarf::read_address_ranges(b);
  ASSERT_EQ(r.units, std::vector<uint64_t>{0x1234});
  ASSERT_EQ(r.ranges.size(), 1u);
  EXPECT_EQ(r.ranges[0].begin, 0x1000u);
  EXPECT_EQ(r.ranges[0].end, 0x1020u);
}
}  // namespace
