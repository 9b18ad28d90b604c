// The type system on small C programs compiled with gcc -g as DWARF 4 and DWARF 5
// (fixtures/types), and values read back through a synthetic dump holding their data.
#include <gtest/gtest.h>
#include <libdwarf/dwarf.h>
#include <elf.h>

#include <cstring>
#include <fstream>

#include "coroner/debuginfo/btf_types.hpp"
#include "coroner/debuginfo/debug_info.hpp"
#include "coroner/debuginfo/dwarf_sections.hpp"
#include "coroner/report/object_report.hpp"
#include "coroner/report/type_layout.hpp"
#include "coroner/analysis/object_fields.hpp"
#include "coroner/target/expression.hpp"
#include "coroner/target/list_walk.hpp"
#include "coroner/target/xarray_walk.hpp"
#include "../support/dump_builder.hpp"
#include "../support/dwarf_builder.hpp"
#include "../support/temp_file.hpp"

using namespace coroner;
using namespace coroner::testing;

namespace {

class Fixture : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto d = DebugInfo::open(GetParam());
    ASSERT_TRUE(d) << d.error().message;
    debug = std::move(*d);
  }
  const Type* type(const std::string& spelling) {
    auto t = debug->find_type(spelling);
    EXPECT_TRUE(t) << spelling << ": " << (t ? "" : t.error().message);
    return t ? *t : nullptr;
  }
  Member member(const std::string& spelling, const std::string& name) {
    auto m = debug->find_member(type(spelling), name);
    EXPECT_TRUE(m) << spelling << " has no " << name;
    return m.value_or(Member{});
  }
  std::unique_ptr<DebugInfo> debug;
};

std::string fixture(const char* version) { return std::string(CORONER_TYPES_FIXTURE_PREFIX) + version; }
std::string dwarf_version_name(const ::testing::TestParamInfo<std::string>& p) {
  return "dwarf" + p.param.substr(p.param.size() - 1);
}

TEST_P(Fixture, StructWithAnonymousUnionsBitFieldsAndArrays) {
  const Type* node = type("struct node");
  ASSERT_TRUE(node);
  EXPECT_EQ(node->size, 152u);
  EXPECT_EQ(member("struct node", "link").offset, 8u);
  EXPECT_EQ(member("struct node", "word").offset, 24u);  // inside an anonymous union
  EXPECT_EQ(member("struct node", "hi").offset, 26u);    // anonymous struct in the anonymous union
  Member flag = member("struct node", "flag_a"), level = member("struct node", "level"), delta = member("struct node", "delta");
  EXPECT_EQ(flag.bit_size, 1u);
  EXPECT_EQ(flag.bit_offset, 224u);  // DWARF 4 says DW_AT_bit_offset 31 from the MSB; DWARF 5 says 224
  EXPECT_EQ(level.bit_offset, 225u);
  EXPECT_EQ(level.bit_size, 3u);
  EXPECT_EQ(delta.bit_offset, 228u);
  EXPECT_TRUE(is_signed(delta.type));
  EXPECT_EQ(type_name(member("struct node", "grid").type), "int [2][3]");
  EXPECT_EQ(strip_typedefs(member("struct node", "grid").type)->size, 24u);
  EXPECT_EQ(declaration(member("struct node", "callback").type, "callback"), "void (*callback)(void *, ...)");
  EXPECT_EQ(declaration(strip_typedefs(member("struct node", "handler").type), "h"), "int (*h)(struct list_head *, int)");
  EXPECT_EQ(declaration(member("struct node", "fixed_name").type, "fixed_name"), "char * const fixed_name");
  EXPECT_EQ(declaration(member("struct node", "counter").type, "counter"), "volatile long counter");
  EXPECT_EQ(member("struct node", "u").offset, 136u);
  EXPECT_FALSE(debug->find_member(node, "no_such_member"));
}

TEST_P(Fixture, MemberPathsStepIntoArrayElements) {
  const Type* node = type("struct node");
  ASSERT_TRUE(node);
  uint64_t grid = member("struct node", "grid").offset;
  auto row = debug->find_member_path(node, "grid[1]");
  ASSERT_TRUE(row.ok()) << row.error().message;
  EXPECT_EQ(row->offset, grid + 12);
  EXPECT_EQ(type_name(row->type), "int [3]");
  auto label = debug->find_member_path(node, "label[7]");
  ASSERT_TRUE(label.ok());
  EXPECT_EQ(label->offset, member("struct node", "label").offset + 7);
  auto lru = debug->find_member_path(node, "u.lru.next");
  ASSERT_TRUE(lru.ok());
  EXPECT_EQ(lru->offset, 136u);
  auto past = debug->find_member_path(node, "grid[2]");
  ASSERT_FALSE(past.ok());
  EXPECT_NE(past.error().message.find("has 2 elements, not 3"), std::string::npos) << past.error().message;
  EXPECT_FALSE(debug->find_member_path(node, "name[0]").ok());  // a pointer is not an array
  EXPECT_FALSE(debug->find_member_path(node, "grid[x]").ok());
  auto cell = debug->find_member_path(node, "grid[1][2]");
  ASSERT_TRUE(cell.ok()) << cell.error().message;
  EXPECT_EQ(cell->offset, grid + 12 + 8);
  EXPECT_EQ(type_name(cell->type), "int");
  EXPECT_FALSE(debug->find_member_path(node, "grid[1][3]").ok());
  EXPECT_FALSE(debug->find_member_path(node, "grid[1]]").ok());
}

TEST_P(Fixture, TypedefChainsBaseTypesAndQualifiers) {
  const Type* big = member("struct node", "big").type;
  EXPECT_EQ(type_name(big), "my_u64");
  EXPECT_EQ(type_name(big->target), "u64_t");
  EXPECT_EQ(type_name(strip_typedefs(big)), "unsigned long");
  EXPECT_FALSE(is_signed(big));
  auto cv = debug->find_variable("cv_int");
  ASSERT_TRUE(cv);
  EXPECT_EQ(type_name(cv->type), "const volatile int");
  auto restricted = debug->find_variable("restricted");
  ASSERT_TRUE(restricted);
  EXPECT_EQ(type_name(restricted->type), "int * restrict");
  auto matrix = debug->find_variable("matrix3");
  ASSERT_TRUE(matrix);
  EXPECT_EQ(type_name(matrix->type), "unsigned long long [2][3][4]");
  EXPECT_EQ(matrix->type->size, 192u);
  auto callbacks = debug->find_variable("callbacks");
  ASSERT_TRUE(callbacks);
  EXPECT_EQ(declaration(callbacks->type, "callbacks"), "void (* const callbacks[2])(void *, ...)");
  EXPECT_EQ(type("unsigned long"), strip_typedefs(big));
  EXPECT_EQ(type("long unsigned int"), strip_typedefs(big));
  EXPECT_EQ(type("u8")->size, 1u);
  EXPECT_EQ(type_name(type("struct node *")), "struct node *");
  EXPECT_EQ(type("char [16]")->size, 16u);
}

TEST_P(Fixture, EnumsWithNegativeValues) {
  const Type* color = type("enum color");
  ASSERT_TRUE(color);
  ASSERT_EQ(color->enumerators.size(), 3u);
  EXPECT_EQ(color->enumerators[1].name, "GREEN");
  EXPECT_EQ(color->enumerators[1].value, 5u);
  EXPECT_EQ(color->enumerators[2].value, 6u);
  const Type* sign = type("enum sign");
  ASSERT_TRUE(sign);
  EXPECT_EQ(static_cast<int64_t>(sign->enumerators[0].value), -2);
  EXPECT_TRUE(is_signed(sign));
  auto e = debug->find_enumerator("BLUE");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, color);
  EXPECT_EQ(e->enumerator.value, 6u);
}

TEST_P(Fixture, FlexibleAndZeroLengthArrays) {
  const Type* payload = member("struct packet", "payload").type;
  EXPECT_FALSE(payload->count.has_value());
  EXPECT_EQ(declaration(payload, "payload"), "unsigned char payload[]");
  const Type* data = member("struct zero_len", "data").type;
  ASSERT_TRUE(data->count.has_value());
  EXPECT_EQ(*data->count, 0u);
  EXPECT_EQ(declaration(data, "data"), "char data[0]");
  EXPECT_EQ(type("struct packet")->size, 4u);
}

TEST_P(Fixture, ForwardDeclarationResolvesToTheDefinitionInAnotherUnit) {
  const Type* opaque = strip_typedefs(member("struct node", "opaque").type)->target;
  ASSERT_TRUE(opaque);
  EXPECT_FALSE(opaque->incomplete);
  EXPECT_EQ(opaque->size, 16u);
  EXPECT_EQ(debug->members(opaque).size(), 2u);
}

TEST_P(Fixture, LayoutPrintsAsCrashDoes) {
  std::string text = report::layout_text(*debug, type("struct node"));
  EXPECT_NE(text.find("   [28] unsigned int level : 3;\n"), std::string::npos) << text;
  EXPECT_NE(text.find("        union {\n   [24]     unsigned int word;\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  [136] } u;\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nSIZE: 152\n"), std::string::npos);
  auto j = report::layout_json(*debug, type("struct node"));
  EXPECT_EQ(j["size"], 152);
  EXPECT_EQ(j["members"][4]["name"], "level");
  EXPECT_EQ(j["members"][4]["bit_offset"], 225);
}

INSTANTIATE_TEST_SUITE_P(GccDwarf, Fixture, ::testing::Values(fixture("4"), fixture("5")),
                         dwarf_version_name);

TEST(Index, SameAnswersWithOneThreadOrMany) {
  auto sections = DwarfSections::open(fixture("5"));
  ASSERT_TRUE(sections);
  auto one = DwarfIndex::build(**sections, 1), many = DwarfIndex::build(**sections, 4);
  for (auto [kind, name] : std::vector<std::pair<NameKind, std::string>>{
           {NameKind::structure, "node"}, {NameKind::structure, "opaque"}, {NameKind::typedef_name, "u8"},
           {NameKind::variable, "nodes"}, {NameKind::function, "handle"}, {NameKind::enumerator, "GREEN"},
           {NameKind::enumeration, "sign"}, {NameKind::base, "int"}}) {
    auto a = one.find(kind, name), b = many.find(kind, name);
    ASSERT_TRUE(a) << name;
    ASSERT_TRUE(b) << name;
    EXPECT_EQ(a->die, b->die) << name;
    EXPECT_FALSE(a->declaration) << name;
  }
  EXPECT_FALSE(one.find(NameKind::structure, "u8"));  // kinds are separate name spaces
  EXPECT_TRUE(one.problems().empty());
  EXPECT_EQ(one.stats().units, 2u);  // types_main.c and types_other.c
  EXPECT_EQ(many.stats().units, 2u);
  EXPECT_EQ(many.stats().threads, 2u);  // never more threads than units
  EXPECT_EQ(one.stats().dies_seen, many.stats().dies_seen);
}

// Found by fuzz_debug_tables (BTF): a function whose parameters are pointers to itself is a tree
// of parameters^depth types; its name is cut, not built for ever.
TEST(TypeNames, AFunctionOfItselfIsNamedInBoundedTime) {
  Type f, p, i;
  i.kind = TypeKind::base, i.name = "int", i.encoding = BaseEncoding::signed_int, i.size = 4;
  p.kind = TypeKind::pointer, p.target = &f;
  f.kind = TypeKind::function, f.target = &i, f.prototyped = true;
  f.parameters.assign(8, &p);
  std::string name = type_name(&p);
  EXPECT_TRUE(name.starts_with("int (*)(int (*)(")) << name.substr(0, 80);
  EXPECT_NE(name.find("<type too large>"), std::string::npos);
  EXPECT_LT(name.size(), 1u << 20);
  EXPECT_LT(declaration(&p, "callback").size(), 1u << 20);
}

// BTF of `types` (each a list of 32-bit words) and `strings`, after a header of `header_length`
// bytes (24, or more with zeros, as libbpf accepts).
std::vector<uint8_t> btf_of(const std::vector<std::vector<uint32_t>>& types, std::string_view strings,
                            uint32_t header_length = 24) {
  std::vector<uint8_t> b;
  auto u16 = [&](uint16_t v) { b.push_back(static_cast<uint8_t>(v)), b.push_back(static_cast<uint8_t>(v >> 8)); };
  auto u32 = [&](uint32_t v) { u16(static_cast<uint16_t>(v)), u16(static_cast<uint16_t>(v >> 16)); };
  uint32_t type_bytes = 0;
  for (const auto& t : types) type_bytes += static_cast<uint32_t>(4 * t.size());
  u16(0xeb9f), b.push_back(1), b.push_back(0);  // magic, version, flags
  u32(header_length), u32(0), u32(type_bytes), u32(type_bytes), u32(static_cast<uint32_t>(strings.size()));
  b.resize(header_length, 0);
  for (const auto& t : types) for (uint32_t w : t) u32(w);
  for (char c : strings) b.push_back(static_cast<uint8_t>(c));
  return b;
}

constexpr uint32_t kBtfInt = 1, kBtfStruct = 4;
// "int": 4 bytes, signed, 32 bits; its name at string offset 1.
const std::vector<uint32_t> kBtfIntType = {1, kBtfInt << 24, 4, (1u << 24) | 32};

std::vector<uint8_t> btf_with_one_int(uint32_t header_length) {
  return btf_of({kBtfIntType}, std::string_view("\0int\0", 5), header_length);
}

// Found by fuzz_debug_tables (BTF): a header length of 25 put every type at an odd address, and
// libbpf's accessors read them unaligned (UBSan). Refused, saying why; an aligned one parses.
TEST(Btf, TypesThatWouldBeMisalignedAreRefused) {
  auto good = BtfTypes::parse(btf_with_one_int(24));
  ASSERT_TRUE(good) << good.error().message;
  EXPECT_EQ((*good)->count(), 2u);
  auto longer = BtfTypes::parse(btf_with_one_int(28));
  ASSERT_TRUE(longer) << longer.error().message;
  auto odd = BtfTypes::parse(btf_with_one_int(25));
  ASSERT_FALSE(odd);
  EXPECT_NE(odd.error().message.find("not a multiple of 4"), std::string::npos) << odd.error().message;
}

// Found by fuzz_debug_tables (DWARF): a struct whose anonymous member is the struct itself sent
// the search for a member through anonymous members round for ever (stack overflow). Eight of
// them at each level would take 8^depth steps; both are bounded.
TEST(Btf, AStructInsideItselfEndsTheMemberSearch) {
  std::vector<uint32_t> s = {5, (kBtfStruct << 24) | 9, 8, 7, 1, 0};  // "s", 8 bytes: "x" (int) at 0
  for (int i = 0; i < 8; ++i) s.insert(s.end(), {0, 2, 0});               // eight anonymous members, each an "s"
  auto btf = BtfTypes::parse(btf_of({kBtfIntType, s}, std::string_view("\0int\0s\0x\0", 9)));
  ASSERT_TRUE(btf) << btf.error().message;
  auto debug = DebugInfo::from_btf(std::move(*btf), "test BTF");
  auto t = debug->find_type("struct s");
  ASSERT_TRUE(t) << t.error().message;
  auto x = debug->find_member(*t, "x");
  ASSERT_TRUE(x);
  EXPECT_EQ(x->offset, 0u);
  EXPECT_FALSE(debug->find_member(*t, "missing"));
  EXPECT_FALSE(debug->find_member_path(*t, "missing.x"));
}

// Debug info over a unit's sections in memory; `dwarf` must outlive it.
std::unique_ptr<DebugInfo> debug_info_of(const coroner::testing::DwarfUnitBuilder::Sections& dwarf) {
  auto section = [](const char* name, const std::vector<uint8_t>& b) {
    return ElfSection{name, 0, SHT_PROGBITS, 0, 0, 0, b};
  };
  auto sections = DwarfSections::in_memory("test DWARF", {section(".debug_abbrev", dwarf.abbrev),
                                                          section(".debug_info", dwarf.info),
                                                          section(".debug_str", dwarf.str)});
  auto debug = DebugInfo::from_sections(std::move(sections), 1);
  EXPECT_TRUE(debug) << debug.error().message;
  return debug ? std::move(*debug) : nullptr;
}

// Found by fuzz_debug_tables (DWARF): an array whose element is a typedef of the array read the
// typedef's size while the typedef was still being built (a null target); and a typedef whose
// target could not be read stayed behind half-built, answering the next time with a null target.
TEST(DwarfTypes, ATypeBuiltHalfWayIsNeverNull) {
  coroner::testing::DwarfUnitBuilder u;
  u.abbrev(1, DW_TAG_compile_unit, true, {{DW_AT_name, DW_FORM_strp}});
  u.abbrev(2, DW_TAG_typedef, false, {{DW_AT_name, DW_FORM_strp}, {DW_AT_type, DW_FORM_ref4}});
  u.abbrev(3, DW_TAG_array_type, true, {{DW_AT_type, DW_FORM_ref4}});
  u.abbrev(4, DW_TAG_subrange_type, false, {{DW_AT_upper_bound, DW_FORM_data1}});
  u.die(1).strp("a.c");
  u.label("T"), u.die(2).strp("T").ref("A");
  u.label("A"), u.die(3).ref("T"), u.die(4).u8(3), u.end_children();
  u.die(2).strp("P").u32(0xfff0);  // a DIE past the unit's end
  u.end_children();
  auto dwarf = u.finish();
  auto debug = debug_info_of(dwarf);
  ASSERT_TRUE(debug);

  auto t = debug->find_type("T");
  ASSERT_TRUE(t) << t.error().message;
  const Type* array = strip_typedefs(*t);
  ASSERT_TRUE(array);
  EXPECT_EQ(array->kind, TypeKind::array);
  EXPECT_EQ(array->target, *t);
  EXPECT_EQ(size_of(*t), 0u);  // T[4] of T: no size C could give it

  auto p = debug->find_type("P");
  ASSERT_FALSE(p);
  auto again = debug->find_type("P");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().message, p.error().message);
}

TEST(Index, CorruptDebugInfoIsReportedNotFatal) {
  std::ifstream in(fixture("5"), std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
  auto sections = DwarfSections::open(fixture("5"));
  ASSERT_TRUE(sections);
  auto info = (*sections)->get(".debug_info");
  size_t info_offset = 0;
  {
    // The section's file offset: find its bytes in the file image.
    auto pos = std::search(bytes.begin(), bytes.end(), info.begin(), info.begin() + 64);
    ASSERT_NE(pos, bytes.end());
    info_offset = static_cast<size_t>(pos - bytes.begin());
  }
  for (size_t i = info.size() / 3; i < info.size() * 2 / 3; ++i) bytes[info_offset + i] = 0xff;
  TempFile corrupt(bytes);
  auto debug = DebugInfo::open(corrupt.path());
  ASSERT_TRUE(debug) << debug.error().message;
  EXPECT_FALSE((*debug)->problems().empty());
  for (const char* name : {"node", "list_head", "opaque", "packet", "snode"}) {
    auto t = (*debug)->find_type(std::string("struct ") + name);  // whatever is found must not crash
    if (t) (void)report::layout_text(**debug, *t);
  }
}

// --- values, through a synthetic dump that holds the fixture's loaded segments ---

class Values : public Fixture {
 protected:
  void SetUp() override {
    Fixture::SetUp();
    auto sections = DwarfSections::open(GetParam());
    ASSERT_TRUE(sections);
    SyntheticKernel k;
    for (const auto& s : (*sections)->all()) {
      if (s.address < SyntheticKernel::kDataVa || s.bytes.empty() || s.type == 8 /* SHT_NOBITS */) continue;
      ASSERT_LT(s.address + s.bytes.size(), SyntheticKernel::kDataVa + (2u << 20));
      k.memory().write(s.address - SyntheticKernel::kDataVa + SyntheticKernel::kDataPa, s.bytes);
    }
    std::string vi = k.vmcoreinfo();
    dump = std::make_unique<TempFile>(build_kdump(k.memory(), 1024, build_notes({{1, 0, 0, 0}}, vi), vi, {}));
    auto kernel_or = Kernel::open({dump->path(), GetParam(), std::nullopt});
    ASSERT_TRUE(kernel_or) << kernel_or.error().message;
    kernel = std::move(*kernel_or);
    ASSERT_TRUE(kernel->symbols());
    objects = std::make_unique<TypedMemory>(*kernel, *debug);
  }
  std::string text(const std::string& expression) {
    auto v = evaluate(*objects, expression);
    if (!v) return "ERROR: " + v.error().message;
    return report::value_text(*objects, *v);
  }
  int64_t number(const std::string& expression) {
    auto v = evaluate(*objects, expression);
    EXPECT_TRUE(v) << expression << ": " << (v ? "" : v.error().message);
    if (!v) return INT64_MIN;
    auto n = objects->integer(*v);
    EXPECT_TRUE(n) << expression << ": " << (n ? "" : n.error().message);
    return n ? static_cast<int64_t>(*n) : INT64_MIN;
  }
  uint64_t address_of(const std::string& symbol) { return *kernel->symbol_address(symbol); }

  std::unique_ptr<TempFile> dump;
  std::unique_ptr<Kernel> kernel;
  std::unique_ptr<TypedMemory> objects;
};

// Seed 004's dentry as the engineer printed it: d_iname "10\000ZZZZ..." and d_time 0x5a5a5a5a5a5a5a5a.
TEST_P(Values, PoisonIsAnnotatedInScalarsAndCharArrays) {
  auto name = debug->find_type("char [8]");
  ASSERT_TRUE(name);
  Value iname{*name, std::nullopt, {'1', '0', 0, 'Z', 'Z', 'Z', 'Z', 'Z'}, 0, 0};
  EXPECT_EQ(report::value_text(*objects, iname),
            "\"10\\0ZZZZ...\"  <- 5 bytes of POISON_INUSE from [3]: allocated, never initialised (slab debug)");
  auto u64 = debug->find_type("unsigned long");
  ASSERT_TRUE(u64);
  EXPECT_EQ(report::value_text(*objects, objects->rvalue(*u64, 0x5a5a5a5a5a5a5a5a)),
            "6510615555426900570  <- POISON_INUSE: allocated, never initialised (slab debug)");
  auto pointer = debug->find_type("struct list_head *");
  ASSERT_TRUE(pointer);
  EXPECT_NE(report::value_text(*objects, objects->rvalue(*pointer, 0xdead000000000122)).find("<- LIST_POISON2"),
            std::string::npos);
  report::ValueFormat plain;
  plain.poison = nullptr;
  EXPECT_EQ(report::value_text(*objects, iname, plain), "\"10\"");
  auto json = report::value_json(*objects, iname);
  EXPECT_EQ(json["poison"]["pattern"], "POISON_INUSE");
  EXPECT_EQ(json["poison"]["offset"], 3);
}

TEST_P(Values, MembersBitFieldsAndAnonymousUnions) {
  EXPECT_EQ(number("nodes[0].id"), 1);
  EXPECT_EQ(number("nodes[2].id"), 3);
  EXPECT_EQ(number("nodes[0].flag_a"), 1);
  EXPECT_EQ(number("nodes[0].level"), 5);
  EXPECT_EQ(number("nodes[0].delta"), -3);
  EXPECT_EQ(number("nodes[0].lo"), 1);
  EXPECT_EQ(number("nodes[0].hi"), 2);
  EXPECT_EQ(number("nodes[0].counter"), -42);
  EXPECT_EQ(number("nodes[0].grid[1][2]"), 6);
  EXPECT_EQ(static_cast<uint64_t>(number("nodes[0].big")), 0xfedcba9876543210ull);
  EXPECT_EQ(number("nodes[0].u.cookie"), 0xc00c1e);
  EXPECT_EQ(number("small"), 200);
  EXPECT_EQ(number("schar"), -5);
  EXPECT_EQ(number("nodes[0].opaque->secret"), 0x5ec12e7);
  EXPECT_EQ(number("BLUE"), 6);
}

// What a rule's field test reads: a member path through nested structs, unions and arrays of the
// object's own bytes, typed by the debug info; a path through a pointer is not the object's.
TEST_P(Values, FieldPathsReadTheObjectsOwnMembers) {
  auto node = debug->find_type("struct node");
  ASSERT_TRUE(node);
  uint64_t nodes = address_of("nodes");
  auto field = [&](uint64_t at, const std::string& path) -> int64_t {
    auto v = objects->field(*node, at, path);
    EXPECT_TRUE(v) << path << ": " << (v ? "" : v.error().message);
    if (!v) return INT64_MIN;
    auto n = objects->integer(*v);
    return n ? static_cast<int64_t>(*n) : INT64_MIN;
  };
  EXPECT_EQ(field(nodes, "id"), 1);
  EXPECT_EQ(field(nodes, "delta"), -3);
  EXPECT_EQ(field(nodes, "hi"), 2);
  EXPECT_EQ(field(nodes, "grid[1][2]"), 6);
  EXPECT_EQ(field(nodes, "u.cookie"), 0xc00c1e);
  EXPECT_EQ(field(nodes, "[2].id"), 3);
  EXPECT_EQ(field(nodes, "[1]id"), 2);
  EXPECT_FALSE(objects->field(*node, nodes, "opaque.secret")) << "a pointer member is not followed";
  EXPECT_FALSE(objects->field(*node, nodes, "no_such_member"));
  EXPECT_FALSE(objects->field(*node, nodes, "[x].id"));

  PoisonCatalog poison = PoisonCatalog::shipped();
  auto reader = analysis::object_field_reader(*objects, poison, "linux", "struct node", nodes);
  auto delta = reader("delta");
  ASSERT_TRUE(delta && delta->bits);
  EXPECT_TRUE(delta->is_signed);
  EXPECT_EQ(static_cast<int64_t>(*delta->bits), -3);
  auto label = reader("label");
  ASSERT_TRUE(label);
  EXPECT_EQ(label->text, "\"one\\000\\000\\000\\000\\000\"");
  EXPECT_FALSE(reader("opaque.secret"));
  EXPECT_FALSE(analysis::object_field_reader(*objects, poison, "linux", "struct no_such_type", nodes)("id"));
}

TEST_P(Values, PointersCastsAddressesAndContainerOf) {
  uint64_t nodes = address_of("nodes");
  EXPECT_EQ(static_cast<uint64_t>(number("&nodes[1]")), nodes + 152);
  EXPECT_EQ(number("(&nodes[1])->id"), 2);
  EXPECT_EQ(number("(*(&nodes[1])).id"), 2);
  EXPECT_EQ(number("container_of(node_list.next, struct node, link)->id"), 1);
  EXPECT_EQ(number("container_of(nodes[0].link.next, struct node, link)->id"), 2);
  char cast[96];
  std::snprintf(cast, sizeof cast, "((struct node *)0x%llx)->id", static_cast<unsigned long long>(nodes + 2 * 152));
  EXPECT_EQ(number(cast), 3);
  std::snprintf(cast, sizeof cast, "(struct node *)0x%llx + 1", static_cast<unsigned long long>(nodes));
  EXPECT_EQ(static_cast<uint64_t>(number(cast)), nodes + 152);
  EXPECT_EQ(text("nodes[1].id == 0").rfind("ERROR", 0), 0u);  // no comparisons: an error, not a guess
  auto addr = evaluate_address(*objects, "nodes[1]");
  ASSERT_TRUE(addr);
  EXPECT_EQ(*addr, nodes + 152);
}

TEST_P(Values, TextShowsStringsEnumsSymbolsAndNestedStructs) {
  EXPECT_EQ(text("nodes[0].label"), "\"one\"");
  EXPECT_EQ(text("nodes[1].label"), "\"two\\x01\\xff\"");
  EXPECT_EQ(text("nodes[0].color"), "GREEN");
  EXPECT_EQ(text("nodes[2].color"), "7");  // no enumerator has that value
  EXPECT_EQ(text("nodes[0].sign"), "NEG");
  EXPECT_EQ(text("nodes[0].ok"), "true");
  EXPECT_EQ(text("nodes[0].grid"), "{{1, 2, 3}, {4, 5, 6}}");
  EXPECT_NE(text("nodes[0].name").find("\"first\""), std::string::npos) << text("nodes[0].name");
  EXPECT_NE(text("nodes[0].handler").find("<handle>"), std::string::npos) << text("nodes[0].handler");
  EXPECT_NE(text("nodes[0].opaque").find("<the_opaque>"), std::string::npos);
  std::string whole = text("nodes[0]");
  EXPECT_NE(whole.find("  link = {\n    next = 0x"), std::string::npos) << whole;
  EXPECT_NE(whole.find("  level = 5,\n"), std::string::npos) << whole;
  EXPECT_NE(whole.find("    word = 131073,\n"), std::string::npos) << whole;
  report::ValueFormat shallow;
  shallow.depth = 1;
  auto v = evaluate(*objects, "nodes[0]");
  ASSERT_TRUE(v);
  EXPECT_NE(report::value_text(*objects, *v, shallow).find("link = {...}"), std::string::npos);
  auto j = report::value_json(*objects, *v);
  EXPECT_EQ(j["type"], "struct node");
  EXPECT_EQ(j["members"][0]["value"], 1);
  EXPECT_EQ(j["members"][4]["name"], "level");
  EXPECT_EQ(j["members"][4]["value"], 5);
  EXPECT_EQ(j["members"][8]["name"], "color");
  EXPECT_EQ(j["members"][8]["value"], 5);
  EXPECT_EQ(j["members"][8]["enumerator"], "GREEN");
  EXPECT_EQ(j["members"][9]["value"], -2);
}

TEST_P(Values, UnreadableMemoryShowsInPlaceAndNeverAborts) {
  // The fixture's data is mapped in a 2 MiB page; what lies past it is not in the dump.
  uint64_t end_of_map = SyntheticKernel::kDataVa + (2u << 20);
  char expr[96];
  std::snprintf(expr, sizeof expr, "*(struct node *)0x%llx", static_cast<unsigned long long>(end_of_map - 16));
  std::string straddling = text(expr);
  EXPECT_NE(straddling.find("id = 0,"), std::string::npos) << straddling;  // the first 16 bytes read
  EXPECT_NE(straddling.find("name = <unreadable:"), std::string::npos) << straddling;
  std::snprintf(expr, sizeof expr, "((struct node *)0x%llx)->id", static_cast<unsigned long long>(end_of_map + 64));
  EXPECT_EQ(text(expr).rfind("<unreadable:", 0), 0u) << text(expr);
  auto v = evaluate(*objects, expr);
  ASSERT_TRUE(v);
  EXPECT_FALSE(objects->integer(*v));
}

TEST_P(Values, ExpressionErrorsSayWhatAndWhere) {
  EXPECT_NE(text("nodes[0].nope").find("struct node has no member 'nope'"), std::string::npos) << text("nodes[0].nope");
  EXPECT_NE(text("nodes[0].id.x").find("has no members"), std::string::npos);
  EXPECT_NE(text("no_such_symbol").find("no symbol 'no_such_symbol'"), std::string::npos);
  EXPECT_NE(text("nodes[0").find("missing ']'"), std::string::npos);
  EXPECT_NE(text("*nodes[0].id").find("cannot dereference"), std::string::npos);
  EXPECT_NE(text("nodes[0] )").find("column"), std::string::npos);
}

TEST_P(Values, ListsCircularNullTerminatedAndCyclic) {
  ListRequest circular{type("struct node"), "link", address_of("node_list"), true, 100};
  auto walk = walk_list(*objects, circular);
  ASSERT_TRUE(walk) << walk.error().message;
  ASSERT_EQ(walk->entries.size(), 3u);
  EXPECT_EQ(walk->end, ListEnd::back_at_start);
  EXPECT_EQ(walk->entries[2], address_of("nodes") + 2 * 152);

  ListRequest from_entry{type("struct node"), "link", address_of("nodes") + 152, false, 100};
  auto entry_walk = walk_list(*objects, from_entry);
  ASSERT_TRUE(entry_walk);
  EXPECT_EQ(entry_walk->entries.size(), 4u);  // nodes[1], nodes[2], the head seen as an entry, nodes[0]

  ListRequest chain{type("struct snode"), "next", address_of("chain"), false, 100};
  auto chain_walk = walk_list(*objects, chain);
  ASSERT_TRUE(chain_walk);
  EXPECT_EQ(chain_walk->entries.size(), 3u);
  EXPECT_EQ(chain_walk->end, ListEnd::null_pointer);

  ListRequest loop{type("struct snode"), "next", address_of("loop"), false, 100};
  auto loop_walk = walk_list(*objects, loop);
  ASSERT_TRUE(loop_walk);
  EXPECT_EQ(loop_walk->end, ListEnd::cycle);
  EXPECT_EQ(loop_walk->entries.size(), 3u);

  ListRequest limited{type("struct node"), "link", address_of("node_list"), true, 2};
  auto limited_walk = walk_list(*objects, limited);
  ASSERT_TRUE(limited_walk);
  EXPECT_EQ(limited_walk->end, ListEnd::limit);
  EXPECT_EQ(limited_walk->entries.size(), 2u);

  ListRequest wrong{type("struct node"), "id", address_of("nodes"), false, 10};
  EXPECT_FALSE(walk_list(*objects, wrong));

  // Broken at an entry the dump does not hold: the entries past it come back through prev pointers.
  ListRequest broken{type("struct node"), "link", address_of("broken_list"), true, 100};
  auto broken_walk = walk_list(*objects, broken);
  ASSERT_TRUE(broken_walk);
  EXPECT_EQ(broken_walk->end, ListEnd::unreadable);
  const uint64_t unreadable = 0xffffffffbad00000ull - member("struct node", "link").offset;
  EXPECT_EQ(broken_walk->entries, (std::vector<uint64_t>{address_of("broken"), unreadable, address_of("broken") + 152}));
  EXPECT_NE(broken_walk->detail.find("1 entry past it reached backwards from the head"), std::string::npos)
      << broken_walk->detail;
}

TEST_P(Values, XarraysByIndexThroughUnreadableAndInconsistentNodes) {
  auto tree = walk_xarray(*objects, address_of("xa_tree"));
  ASSERT_TRUE(tree) << tree.error().message;
  ASSERT_EQ(tree->entries.size(), 2u);
  EXPECT_EQ(tree->entries[0].index, 3u);
  EXPECT_EQ(tree->entries[0].pointer, address_of("nodes"));
  EXPECT_EQ(tree->entries[1].index, 5u);
  EXPECT_EQ(tree->entries[1].pointer, address_of("nodes") + 152);
  EXPECT_EQ(tree->values, 1u);
  std::string problems;
  for (const std::string& p : tree->problems) problems += p + "\n";
  EXPECT_EQ(tree->problems.size(), 3u) << problems;
  EXPECT_NE(problems.find("xa_node 0xffffffffbad00000 (indices from 64) unreadable"), std::string::npos) << problems;
  EXPECT_NE(problems.find("has shift 3, its parent's says 0"), std::string::npos) << problems;
  EXPECT_NE(problems.find("reached twice"), std::string::npos) << problems;

  auto single = walk_xarray(*objects, address_of("xa_single"));
  ASSERT_TRUE(single);
  ASSERT_EQ(single->entries.size(), 1u);
  EXPECT_EQ(single->entries[0].index, 0u);
  EXPECT_EQ(single->entries[0].pointer, address_of("nodes") + 2 * 152);

  auto limited = walk_xarray(*objects, address_of("xa_tree"), 1);
  ASSERT_TRUE(limited);
  EXPECT_EQ(limited->entries.size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(GccDwarf, Values, ::testing::Values(fixture("4"), fixture("5")),
                         dwarf_version_name);

}  // namespace
