// The debug-info index cache: an entry is used only when it is whole and exactly the file's, and
// whatever is wrong with it (truncated, garbage, a flipped byte, another file's, a writer killed
// half way) ends in the index being built again, the same answers, and a whole entry.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "coroner/debuginfo/dwarf_index.hpp"
#include "coroner/debuginfo/index_cache.hpp"
#include "../support/temp_file.hpp"

using namespace coroner;
namespace fs = std::filesystem;

namespace {

std::string fixture(const char* version) { return std::string(CORONER_TYPES_FIXTURE_PREFIX) + version; }

using CacheDir = coroner::testing::TempDir;

const std::vector<std::pair<NameKind, std::string>> kNames = {
    {NameKind::structure, "node"},    {NameKind::typedef_name, "u8"}, {NameKind::variable, "nodes"},
    {NameKind::function, "handle"},   {NameKind::enumerator, "GREEN"}, {NameKind::enumeration, "sign"},
    {NameKind::base, "int"},          {NameKind::structure, "opaque"}};

// The index answers as one built without a cache does.
void expect_same_answers(const DwarfIndex& index, const DwarfIndex& reference) {
  for (const auto& [kind, name] : kNames) {
    auto a = index.find(kind, name), b = reference.find(kind, name);
    ASSERT_EQ(a.has_value(), b.has_value()) << name;
    if (!a) continue;
    EXPECT_EQ(a->die, b->die) << name;
    EXPECT_EQ(a->declaration, b->declaration) << name;
  }
  EXPECT_FALSE(index.find(NameKind::structure, "no_such_struct"));
  ASSERT_EQ(index.units().size(), reference.units().size());
  for (size_t i = 0; i < index.units().size(); ++i) {
    EXPECT_EQ(index.units()[i].offset, reference.units()[i].offset);
    EXPECT_EQ(index.units()[i].first_die, reference.units()[i].first_die);
    EXPECT_EQ(index.units()[i].version, reference.units()[i].version);
  }
}

bool from_cache(const DwarfIndex& index) { return index.stats().threads == 0; }

std::string joined(const std::vector<std::string>& problems) {
  std::string out;
  for (const auto& p : problems) out += p + "\n";
  return out;
}

struct Opened {
  std::unique_ptr<DwarfSections> sections;
  DwarfIndex reference;
};

Opened open_fixture(const char* version) {
  auto sections = DwarfSections::open(fixture(version));
  EXPECT_TRUE(sections);
  Opened o{std::move(*sections), {}};
  o.reference = DwarfIndex::build(*o.sections, 1);
  return o;
}

std::string entry_path(const IndexCache& cache, const DwarfSections& sections) {
  auto key = DwarfIndex::cache_key(sections);
  EXPECT_TRUE(key) << "the fixture has a build-id";
  return key ? cache.path(*key) : "";
}

// Writes, then what `damage` leaves of the entry is read back: not trusted, rebuilt, rewritten.
void expect_rebuilt_after(const std::function<void(const std::string&)>& damage, const std::string& why) {
  CacheDir dir;
  IndexCache cache({dir.path()});
  auto o = open_fixture("5");
  auto first = DwarfIndex::open(*o.sections, 1, cache);
  EXPECT_FALSE(from_cache(first));
  std::string entry = entry_path(cache, *o.sections);
  ASSERT_TRUE(fs::exists(entry));
  damage(entry);
  auto again = DwarfIndex::open(*o.sections, 1, cache);
  EXPECT_FALSE(from_cache(again));
  EXPECT_NE(joined(again.problems()).find(why), std::string::npos) << joined(again.problems());
  expect_same_answers(again, o.reference);
  auto third = DwarfIndex::open(*o.sections, 1, cache);
  EXPECT_TRUE(from_cache(third)) << "the rebuilt entry is whole again: " << joined(third.problems());
  EXPECT_TRUE(third.problems().empty()) << joined(third.problems());
  expect_same_answers(third, o.reference);
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace

TEST(IndexCache, AnEntryIsWrittenThenMappedWithTheSameAnswers) {
  CacheDir dir;
  IndexCache cache({dir.path()});
  for (const char* version : {"4", "5"}) {
    auto o = open_fixture(version);
    auto built = DwarfIndex::open(*o.sections, 2, cache);
    EXPECT_FALSE(from_cache(built)) << version;
    EXPECT_TRUE(built.problems().empty()) << joined(built.problems());
    expect_same_answers(built, o.reference);
    auto mapped = DwarfIndex::open(*o.sections, 2, cache);
    EXPECT_TRUE(from_cache(mapped)) << version;
    EXPECT_TRUE(mapped.problems().empty()) << joined(mapped.problems());
    expect_same_answers(mapped, o.reference);
    EXPECT_EQ(mapped.stats().names, o.reference.stats().names);
  }
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 2) << "one entry per file";
}

TEST(IndexCache, AModulesEntryServesItWhereverItWasLoaded) {
  CacheDir dir;
  IndexCache cache({dir.path()});
  // Two boots load the same .ko at different addresses: its .debug_info is relocated differently.
  SectionPlacement first = {{".text.module_work", 0xffffffffc0a01000}, {".data.module_counter", 0xffffffffc0a05040},
                            {".data.module_state", 0xffffffffc0a05100}};
  SectionPlacement second = {{".text.module_work", 0xffffffffc1234000}, {".data.module_counter", 0xffffffffc1238040},
                             {".data.module_state", 0xffffffffc1238100}};
  auto a = DwarfSections::open(CORONER_MODULE_OBJECT, first), b = DwarfSections::open(CORONER_MODULE_OBJECT, second);
  ASSERT_TRUE(a && b);
  ASSERT_NE(std::vector<uint8_t>((*a)->get(".debug_info").begin(), (*a)->get(".debug_info").end()),
            std::vector<uint8_t>((*b)->get(".debug_info").begin(), (*b)->get(".debug_info").end()));
  auto built = DwarfIndex::open(**a, 1, cache);
  EXPECT_FALSE(from_cache(built));
  auto mapped = DwarfIndex::open(**b, 1, cache);
  EXPECT_TRUE(from_cache(mapped)) << joined(mapped.problems());
  EXPECT_TRUE(mapped.problems().empty()) << joined(mapped.problems());
  auto reference = DwarfIndex::build(**b, 1);
  for (const char* name : {"module_counter", "module_state"}) {
    auto x = mapped.find(NameKind::variable, name), y = reference.find(NameKind::variable, name);
    ASSERT_TRUE(x && y) << name;
    EXPECT_EQ(x->die, y->die) << name;
  }
}

TEST(IndexCache, WithoutADirectoryNothingIsWritten) {
  auto o = open_fixture("5");
  auto index = DwarfIndex::open(*o.sections, 1, IndexCache({}));
  EXPECT_FALSE(from_cache(index));
  expect_same_answers(index, o.reference);
}

TEST(IndexCache, ATruncatedEntryIsRebuilt) {
  expect_rebuilt_after([](const std::string& entry) { fs::resize_file(entry, fs::file_size(entry) / 2); }, "truncated");
  expect_rebuilt_after([](const std::string& entry) { fs::resize_file(entry, 100); }, "shorter than its header");
  expect_rebuilt_after([](const std::string& entry) { fs::resize_file(entry, 0); }, "empty");
}

TEST(IndexCache, AGarbageEntryIsRebuilt) {
  expect_rebuilt_after([](const std::string& entry) {
    std::string garbage(fs::file_size(entry), '\0');
    for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>((i * 2654435761u) >> 13);
    write_file(entry, garbage);
  }, "not a coroner index file");
}

TEST(IndexCache, OneFlippedByteIsCaught) {
  expect_rebuilt_after([](const std::string& entry) {
    std::string bytes = read_file(entry);
    bytes[bytes.size() * 2 / 3] ^= 0x20;
    write_file(entry, bytes);
  }, "contents are corrupt");
  expect_rebuilt_after([](const std::string& entry) {
    std::string bytes = read_file(entry);
    bytes[20] ^= 0x01;  // in the header
    write_file(entry, bytes);
  }, "index cache entry");
}

TEST(IndexCache, AnotherFilesEntryIsNotTrusted) {
  CacheDir dir;
  IndexCache cache({dir.path()});
  auto four = open_fixture("4"), five = open_fixture("5");
  (void)DwarfIndex::open(*five.sections, 1, cache);
  // The DWARF 5 fixture's entry where the DWARF 4 one's belongs.
  fs::copy_file(entry_path(cache, *five.sections), entry_path(cache, *four.sections));
  auto index = DwarfIndex::open(*four.sections, 1, cache);
  EXPECT_FALSE(from_cache(index));
  EXPECT_NE(joined(index.problems()).find("another file's index"), std::string::npos) << joined(index.problems());
  expect_same_answers(index, four.reference);
}

TEST(IndexCache, AWriterKilledHalfWayLeavesNoEntryAndItsLeftoversAreCleared) {
  CacheDir dir;
  IndexCache cache({dir.path()});
  auto o = open_fixture("5");
  // What a run killed while writing leaves: a part of an entry under a temporary name, hours ago.
  (void)DwarfIndex::open(*o.sections, 1, cache);
  std::string entry = entry_path(cache, *o.sections);
  std::string leftover = dir.path() + "/." + fs::path(entry).filename().string() + ".tmp.AbCdEf";
  write_file(leftover, read_file(entry).substr(0, 5000));
  fs::remove(entry);
  fs::last_write_time(leftover, fs::file_time_type::clock::now() - std::chrono::hours(3));
  auto index = DwarfIndex::open(*o.sections, 1, cache);
  EXPECT_FALSE(from_cache(index)) << "a temporary file is never read";
  expect_same_answers(index, o.reference);
  EXPECT_FALSE(fs::exists(leftover)) << "cleared when the next entry was written";
  EXPECT_TRUE(from_cache(DwarfIndex::open(*o.sections, 1, cache)));
}

TEST(IndexCache, TheDirectoryIsKeptUnderItsBoundOldestFirst) {
  CacheDir dir;
  auto four = open_fixture("4"), five = open_fixture("5");
  IndexCache unbounded({dir.path()});
  (void)DwarfIndex::open(*four.sections, 1, unbounded);
  std::string older = entry_path(unbounded, *four.sections);
  fs::last_write_time(older, fs::file_time_type::clock::now() - std::chrono::minutes(5));
  // A bound that holds one entry: writing the second removes the least recently used.
  IndexCache bounded({dir.path(), fs::file_size(older) + 1});
  (void)DwarfIndex::open(*five.sections, 1, bounded);
  EXPECT_FALSE(fs::exists(older));
  EXPECT_TRUE(fs::exists(entry_path(bounded, *five.sections)));
}

TEST(IndexCache, AnUnwritableDirectoryIsSaidNotFatal) {
  auto o = open_fixture("5");
  CacheDir dir;
  std::string file = dir.path() + "/a-file";
  write_file(file, "x");
  auto index = DwarfIndex::open(*o.sections, 1, IndexCache({file + "/index"}));  // under a file: cannot be made
  expect_same_answers(index, o.reference);
  EXPECT_NE(joined(index.problems()).find("--no-cache"), std::string::npos) << joined(index.problems());
}

TEST(IndexCache, TheDefaultDirectoryFollowsXdg) {
  std::string saved_xdg = getenv("XDG_CACHE_HOME") ? getenv("XDG_CACHE_HOME") : "";
  setenv("XDG_CACHE_HOME", "/somewhere/cache", 1);
  EXPECT_EQ(default_index_cache().directory, "/somewhere/cache/coroner/index");
  setenv("XDG_CACHE_HOME", "relative", 1);  // not absolute: ignored, as the XDG spec says
  setenv("HOME", getenv("HOME") ? getenv("HOME") : "/root", 1);
  EXPECT_EQ(default_index_cache().directory, std::string(getenv("HOME")) + "/.cache/coroner/index");
  if (saved_xdg.empty()) unsetenv("XDG_CACHE_HOME");
  else setenv("XDG_CACHE_HOME", saved_xdg.c_str(), 1);
}

TEST(IndexCache, ChecksumSeesEveryByte) {
  std::vector<uint8_t> bytes(1000, 7);
  uint64_t sum = cache_checksum(bytes);
  for (size_t i : {0ul, 31ul, 32ul, 500ul, 990ul, 999ul}) {
    bytes[i] ^= 1;
    EXPECT_NE(cache_checksum(bytes), sum) << i;
    bytes[i] ^= 1;
  }
  EXPECT_NE(cache_checksum(std::span<const uint8_t>(bytes).first(999)), sum) << "the length counts";
}
