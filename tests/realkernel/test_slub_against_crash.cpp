// Freed memory on a real dump: the test module (tests/realkernel/module) made a kmem_cache with
// objects kept, objects freed, one written after free and one held by two kernel threads, in a
// guest booted with slub_debug=FZPU, then oopsed on a freed object. Its log names every address;
// crash's `kmem ADDR` and `kmem -s` on the same dump are the oracle.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <tuple>

#include "coroner/format.hpp"
#include "coroner/os/linux/poison_scan.hpp"
#include "coroner/os/linux/stack_references.hpp"
#include "coroner/os/linux/whatis.hpp"
#include "coroner/report/object_report.hpp"
#include "coroner/target/expression.hpp"
#include "../support/run_command.hpp"
#include "real_dumps.hpp"

using namespace coroner;
using namespace coroner::linux_kernel;
using coroner::testing::dumps_dir;
using coroner::testing::slurp;

namespace {

std::string scenario_dir(const std::string& dir = dumps_dir()) { return dir + "/slub-uaf"; }
std::string oracle(const std::string& name) { return scenario_dir() + "/oracle-slub/" + name + ".txt"; }

struct ModuleObjects {
  std::vector<uint64_t> live, freed;
  std::set<int> holders;
};

// "coroner_test: live[0] = ffff... freed[0] = ffff..." and "holder 0 is pid 103, holding ffff..."
ModuleObjects module_objects(const std::string& dir = dumps_dir()) {
  ModuleObjects out;
  std::string log = slurp(scenario_dir(dir) + "/console.log");
  static const std::regex kPair(R"(coroner_test: live\[\d\] = ([0-9a-f]+) freed\[\d\] = ([0-9a-f]+))");
  static const std::regex kHolder(R"(coroner_test: holder \d is pid (\d+))");
  for (std::sregex_iterator it(log.begin(), log.end(), kPair), end; it != end; ++it) {
    out.live.push_back(std::stoull((*it)[1], nullptr, 16));
    out.freed.push_back(std::stoull((*it)[2], nullptr, 16));
  }
  for (std::sregex_iterator it(log.begin(), log.end(), kHolder), end; it != end; ++it) out.holders.insert(std::stoi((*it)[1]));
  return out;
}

// crash's kmem ADDR: the cache line, and the object line, "[addr]" when allocated.
struct CrashKmem {
  uint64_t cache = 0;
  std::string name;
  uint64_t object = 0;
  bool allocated = false;
};
CrashKmem crash_kmem(const std::string& name) {
  CrashKmem out;
  std::string text = slurp(oracle(name));
  std::smatch m;
  static const std::regex kCache(R"(\n([0-9a-f]{16})\s+\d+\s+\d+\s+\d+\s+\d+\s+\d+k\s+(\S+))");
  static const std::regex kObject(R"(FREE / \[ALLOCATED\]\s*\n\s*(\[)?([0-9a-f]{16}))");
  if (std::regex_search(text, m, kCache)) out.cache = std::stoull(m[1], nullptr, 16), out.name = m[2];
  if (std::regex_search(text, m, kObject)) out.allocated = m[1].matched, out.object = std::stoull(m[2], nullptr, 16);
  return out;
}

class SlubOnDump : public ::testing::Test {
 protected:
  void SetUp() override {
    o_ = coroner::testing::open_real_dump("slub-uaf", "vmcore.kdump-zlib");
    ASSERT_TRUE(o_.view);
    auto s = linux_kernel::Slub::read(*o_.objects);
    ASSERT_TRUE(s.ok()) << s.error().message;
    slub_.emplace(std::move(*s));
    objects_ = module_objects();
    ASSERT_EQ(objects_.live.size(), 8u);
    ASSERT_EQ(objects_.freed.size(), 8u);
  }
  coroner::testing::OpenedDump o_;
  std::optional<linux_kernel::Slub> slub_;
  ModuleObjects objects_;
};

}  // namespace

TEST_F(SlubOnDump, WhatisAgreesWithCrashsKmemOnEveryObjectOfTheModule) {
  for (int freed = 0; freed < 2; ++freed) {
    for (size_t i = 0; i < 8; ++i) {
      uint64_t address = freed ? objects_.freed[i] : objects_.live[i];
      std::string name = std::string(freed ? "kmem_freed" : "kmem_live") + std::to_string(i);
      CrashKmem crash = crash_kmem(name);
      ASSERT_NE(crash.cache, 0u) << name << ": no crash output";
      Identity w = what_is(*o_.view, &*slub_, address);
      ASSERT_EQ(w.kind, AddressKind::slab_object) << name << ": " << w.summary;
      ASSERT_TRUE(w.slab.has_value());
      EXPECT_EQ(w.slab->cache->address, crash.cache) << name;
      EXPECT_EQ(w.slab->cache->name, crash.name) << name;
      EXPECT_EQ(w.slab->cache->name, "coroner_obj");
      EXPECT_EQ(w.slab->slot, crash.object) << name << ": crash names the slot, left red zone included";
      EXPECT_EQ(w.slab->object, address) << name;
      EXPECT_EQ(w.slab->free, !crash.allocated) << name;
      EXPECT_EQ(w.slab->free, freed == 1) << name;
    }
  }
}

TEST_F(SlubOnDump, FreeTracksNameTheFreeingFunctionAndAllocTracksTheAllocatingOne) {
  auto name = [&](uint64_t a) { return locate_code(o_.objects->kernel(), &o_.view->modules(), a, true).function; };
  for (uint64_t address : objects_.freed) {
    Identity w = what_is(*o_.view, &*slub_, address);
    ASSERT_TRUE(w.slab && w.slab->alloc && w.slab->freed);
    EXPECT_EQ(name(w.slab->freed->addr), "coroner_release");
    EXPECT_EQ(name(w.slab->alloc->addr), "coroner_alloc");
    ASSERT_FALSE(w.slab->freed->stack.empty()) << w.slab->freed->stack_problem;
    std::vector<std::string> stack;
    for (uint64_t pc : w.slab->freed->stack) stack.push_back(name(pc));
    EXPECT_NE(std::find(stack.begin(), stack.end(), "coroner_test_init"), stack.end()) << ::testing::PrintToString(stack);
    EXPECT_NE(std::find(stack.begin(), stack.end(), "do_init_module"), stack.end());
    EXPECT_EQ(w.slab->freed->pid, w.slab->alloc->pid);  // insmod did both
  }
}

// Every cache, on the test module's debug-everything kernel and on plain ones (where CPUs' slabs
// and lockless freelists hold free objects too), QEMU-dumped and kdump'd.
class KmemAgainstCrash : public ::testing::TestWithParam<std::string> {};

TEST_P(KmemAgainstCrash, EveryCachesCountsAreCrashsKmemS) {
  auto o = coroner::testing::open_real_dump(GetParam(), "vmcore.kdump-zlib");
  ASSERT_TRUE(o.view);
  auto slub = linux_kernel::Slub::read(*o.objects);
  ASSERT_TRUE(slub.ok()) << slub.error().message;
  static const std::regex kRow(R"(^([0-9a-f]{16})\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)k\s+(\S+)$)");
  std::istringstream in(slurp(dumps_dir() + "/" + GetParam() + "/oracle-kdump/kmem_s.txt"));
  std::string line;
  int rows = 0;
  while (std::getline(in, line)) {
    std::smatch m;
    if (!std::regex_match(line, m, kRow)) continue;
    ++rows;
    const SlabCache* c = slub->cache_at(std::stoull(m[1], nullptr, 16));
    ASSERT_NE(c, nullptr) << line;
    EXPECT_EQ(c->name, m[7]) << line;
    EXPECT_EQ(c->object_size, std::stoul(m[2])) << line;
    EXPECT_EQ(c->slab_bytes() / 1024, std::stoul(m[6])) << line;
    CacheCounts n = slub->counts(*c);
    EXPECT_EQ(n.allocated, std::stoull(m[3])) << line;
    EXPECT_EQ(n.total, std::stoull(m[4])) << line;
    EXPECT_EQ(n.slabs, std::stoull(m[5])) << line;
  }
  EXPECT_EQ(static_cast<size_t>(rows), slub->caches().size());
  EXPECT_GT(rows, 100);
}

INSTANTIATE_TEST_SUITE_P(Debian, KmemAgainstCrash, ::testing::Values("slub-uaf", "sysrq-kaslr", "kdump-kaslr"),
                         coroner::testing::scenario_test_name);

TEST_F(SlubOnDump, ScanFindsTheObjectWrittenAfterFreeAndNothingElse) {
  ScanRequest request;
  request.patterns = PoisonCatalog::shipped().for_os("linux");
  auto result = scan_poison(*o_.view, &*slub_, request);
  ASSERT_EQ(result.damaged.size(), 1u);
  const DamagedObject& d = result.damaged[0];
  EXPECT_EQ(d.object, objects_.freed[3]);  // the module wrote freed[3]->stamp
  EXPECT_TRUE(d.free);
  ASSERT_FALSE(d.damage.empty());
  EXPECT_EQ(d.damage[0].area, "poison");
  EXPECT_EQ(d.damage[0].offset, 0x48);  // offsetof(struct coroner_obj, stamp)
  ASSERT_TRUE(d.freed.has_value());
  EXPECT_EQ(locate_code(o_.objects->kernel(), &o_.view->modules(), d.freed->addr, true).function, "coroner_release");
  // The other freed objects are poison from end to end: one run each, in the free-object group.
  uint64_t free_runs = 0;
  for (const auto& g : result.groups) {
    if (g.pattern == "POISON_FREE" && g.holder == "free objects of coroner_obj") free_runs = g.runs;
  }
  EXPECT_GE(free_runs, 7u);
  EXPECT_GT(result.bytes_scanned, 80ull << 20);
  // On one thread and on two, the pass finds the same runs.
  request.check_slabs = false;
  auto groups = [&](unsigned threads) {
    request.threads = threads;
    auto r = scan_poison(*o_.view, &*slub_, request);
    EXPECT_EQ(r.scan_threads, threads);
    std::vector<std::tuple<std::string, std::string, uint64_t, uint64_t>> out;
    for (const auto& g : r.groups) out.emplace_back(g.pattern, g.holder, g.runs, g.bytes);
    return out;
  };
  auto one = groups(1);
  EXPECT_GT(one.size(), 5u);
  EXPECT_EQ(groups(2), one);
}

TEST_F(SlubOnDump, WhatthreadFindsBothHoldersOfTheFreedObject) {
  uint64_t held = objects_.freed[2];
  auto refs = find_stack_references(*o_.view, held, held + 80);
  ASSERT_TRUE(refs.ok());
  std::set<int> holders;
  for (const auto& r : *refs) {
    if (r.place.frame && r.place.frame->where.function == "coroner_holder") holders.insert(r.thread->thread_id);
  }
  EXPECT_EQ(holders, objects_.holders);
  EXPECT_EQ(holders.size(), 2u);
}

TEST_F(SlubOnDump, PrintAnnotatesAFreedObjectsPoison) {
  auto t = o_.objects->debug().find_type("unsigned long");
  ASSERT_TRUE(t.ok());
  Value v = o_.objects->lvalue(*t, objects_.freed[5]);  // its magic: freed, so POISON_FREE
  std::string text = report::value_text(*o_.objects, v);
  EXPECT_NE(text.find("<- POISON_FREE: freed slab object"), std::string::npos) << text;
  Value live = o_.objects->lvalue(*t, objects_.live[5]);
  EXPECT_EQ(report::value_text(*o_.objects, live).find("<-"), std::string::npos);
}

TEST(SlubCli, WhatisKmemAndScanEndToEnd) {
  std::string args = " " + scenario_dir() + "/vmcore.kdump-zlib -k " + dumps_dir() + "/kernel/vmlinux --modules " +
                     dumps_dir() + "/test-module";
  ModuleObjects objects = module_objects();
  char freed[32];
  std::snprintf(freed, sizeof freed, "0x%llx", static_cast<unsigned long long>(objects.freed[3]));
  auto whatis = coroner::testing::run_command(std::string(CORONER_BINARY) + " whatis" + args + " " + freed + " --json");
  ASSERT_EQ(whatis.status, 0) << whatis.output;
  auto j = nlohmann::json::parse(whatis.output.substr(whatis.output.find('{')));
  EXPECT_EQ(j["schema"], "coroner.whatis");
  EXPECT_EQ(j["results"][0]["slab"]["state"], "free");
  EXPECT_EQ(j["results"][0]["slab"]["cache"], "coroner_obj");
  EXPECT_EQ(j["results"][0]["slab"]["free"]["caller_symbol"].get<std::string>().rfind("coroner_release+", 0), 0u);
  auto kmem = coroner::testing::run_command(std::string(CORONER_BINARY) + " kmem" + args + " --cache coroner_obj");
  EXPECT_EQ(kmem.status, 0) << kmem.output;
  EXPECT_NE(kmem.output.find("       80          8        23      1     4k  coroner_obj"), std::string::npos) << kmem.output;
  auto scan = coroner::testing::run_command(std::string(CORONER_BINARY) + " scan" + args + " --pattern POISON_FREE");
  EXPECT_EQ(scan.status, 0) << scan.output;
  EXPECT_NE(scan.output.find("written after it was freed"), std::string::npos) << scan.output;
  // whatthread's size defaults to the slab object's.
  std::snprintf(freed, sizeof freed, "0x%llx", static_cast<unsigned long long>(objects.freed[2]));
  auto held = coroner::testing::run_command(std::string(CORONER_BINARY) + " whatthread" + args + " " + freed + " --json");
  ASSERT_EQ(held.status, 0) << held.output;
  auto h = nlohmann::json::parse(held.output.substr(held.output.find('{')));
  EXPECT_EQ(h["size"], 80);
  EXPECT_EQ(h["object"], "free coroner_obj object");
  // A range: the module's slab page only; the run in the allocated objects' unused name bytes is
  // poison the allocation never overwrote.
  std::snprintf(freed, sizeof freed, "0x%llx", static_cast<unsigned long long>(objects.freed[3] & ~0xfffull));
  auto range = coroner::testing::run_command(std::string(CORONER_BINARY) + " scan" + args + " --range " + freed +
                                             " 4096 --min-run 16 --json");
  ASSERT_EQ(range.status, 0) << range.output;
  auto r = nlohmann::json::parse(range.output.substr(range.output.find('{')));
  EXPECT_EQ(r["bytes_scanned"], 4096);
  std::set<std::string> holders;
  for (const auto& g : r["groups"]) holders.insert(g["where"].get<std::string>());
  EXPECT_TRUE(holders.contains("free objects of coroner_obj")) << r.dump(1);
  EXPECT_TRUE(holders.contains("allocated objects of coroner_obj")) << r.dump(1);
  // A user's catalog renames what print shows.
  std::string catalog = ::testing::TempDir() + "/mine.yaml";
  std::ofstream(catalog) << "patterns:\n  - {name: MY_FREE, value: 0x6b, width: 1, os: linux, meaning: mine}\n";
  std::snprintf(freed, sizeof freed, "0x%llx", static_cast<unsigned long long>(objects.freed[5]));
  auto mine = coroner::testing::run_command(std::string(CORONER_BINARY) + " print" + args + " --poison " + catalog +
                                            " '*(unsigned long *)" + freed + "'");
  EXPECT_EQ(mine.status, 0) << mine.output;
  EXPECT_NE(mine.output.find("<- POISON_FREE"), std::string::npos) << mine.output;  // the shipped one comes first
  auto bad = coroner::testing::run_command(std::string(CORONER_BINARY) + " scan" + args + " --pattern NOPE");
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.output.find("--pattern NOPE: no such pattern"), std::string::npos) << bad.output;
}

// Every kind of address whatis tells apart, each checked against what is known independently: the
// symbol table, a task's stack range, the direct map, the struct page array.
TEST(Whatis, NamesEveryKindOfAddress) {
  auto o = coroner::testing::open_real_dump("slub-uaf", "vmcore.kdump-zlib");
  ASSERT_TRUE(o.view);
  auto slub = linux_kernel::Slub::read(*o.objects);
  ASSERT_TRUE(slub.ok());
  const Kernel& k = o.objects->kernel();
  auto kind = [&](uint64_t a) { return what_is(*o.view, &*slub, a); };
  Identity init = kind(*k.symbol_address("init_task") + 0x10);
  EXPECT_EQ(init.kind, AddressKind::kernel_data);
  EXPECT_EQ(init.symbol.function, "init_task");
  Identity text = kind(*k.symbol_address("panic") + 4);
  EXPECT_EQ(text.kind, AddressKind::kernel_text);
  EXPECT_EQ(text.summary, "kernel text: panic+0x4/0x2f4");
  auto tasks = o.view->tasks();
  ASSERT_TRUE(tasks.ok());
  const Task* holder = nullptr;
  for (const Task& t : (*tasks)->threads) {
    if (t.comm.starts_with("coroner_holder")) holder = &t;
  }
  ASSERT_NE(holder, nullptr);
  Identity stack = kind(holder->sp + 0x40);
  EXPECT_EQ(stack.kind, AddressKind::task_stack);
  ASSERT_NE(stack.thread, nullptr);
  EXPECT_EQ(stack.thread->thread_id, holder->thread_id);
  EXPECT_TRUE(stack.stack_place && stack.stack_place->frame) << stack.summary;
  Identity module = kind(o.view->modules().modules.front().base + 0x10);
  EXPECT_EQ(module.kind, AddressKind::module);
  EXPECT_EQ(kind(0x7ffd0000).kind, AddressKind::user);
  const MemoryMap& map = slub->memory();
  Identity page = kind(map.page_of(0x1234) + 8);
  EXPECT_EQ(page.kind, AddressKind::struct_page);
  EXPECT_EQ(page.pfn, 0x1234u);
  EXPECT_EQ(kind(map.vmalloc_start + (16ull << 40)).kind, AddressKind::unmapped);
}

// On every kernel, with the module's log as the oracle: each object it kept is allocated and each
// it freed is free, in its own cache, with the functions that allocated and freed it; whatever the
// kernel's slab layout (struct slab or page, PG_slab or a slab page type, the stack depot's handle).
class SlubOnEveryKernel : public ::testing::TestWithParam<std::string> {};

TEST_P(SlubOnEveryKernel, WhatisGivesEachObjectTheStateTheModuleLeftIt) {
  std::string dir = coroner::testing::flavour_dir(GetParam());
  if (dir.empty()) GTEST_SKIP() << "no dumps of linux-image-" << GetParam() << " were made (CORONER_KERNELS)";
  auto o = coroner::testing::open_dump_in(dir, "slub-uaf", "vmcore.kdump-zlib", coroner::testing::debug_info_of(dir));
  ASSERT_TRUE(o.view);
  auto slub = linux_kernel::Slub::read(*o.objects);
  ASSERT_TRUE(slub.ok()) << slub.error().message;
  ModuleObjects objects = module_objects(dir);
  ASSERT_EQ(objects.live.size(), 8u);
  ASSERT_EQ(objects.freed.size(), 8u);
  auto name = [&](uint64_t a) { return locate_code(o.objects->kernel(), &o.view->modules(), a, true).function; };
  for (int freed = 0; freed < 2; ++freed) {
    for (uint64_t address : freed ? objects.freed : objects.live) {
      Identity w = what_is(*o.view, &*slub, address);
      ASSERT_EQ(w.kind, AddressKind::slab_object) << hex(address) << ": " << w.summary << " "
                                                  << ::testing::PrintToString(w.problems);
      ASSERT_TRUE(w.slab.has_value());
      EXPECT_EQ(w.slab->cache->name, "coroner_obj");
      EXPECT_EQ(w.slab->object, address);
      EXPECT_EQ(w.slab->free, freed == 1) << hex(address);
      EXPECT_EQ(w.page_type.empty() ? std::string("slab") : w.page_type.front(), "slab");
      ASSERT_TRUE(w.slab->alloc.has_value()) << "slub_debug=U keeps the tracks";
      EXPECT_EQ(name(w.slab->alloc->addr), "coroner_alloc");
      ASSERT_FALSE(w.slab->alloc->stack.empty()) << w.slab->alloc->stack_problem;
      if (freed) {
        ASSERT_TRUE(w.slab->freed.has_value());
        EXPECT_EQ(name(w.slab->freed->addr), "coroner_release");
      }
    }
  }
  // SLUB's own counts of the module's cache: 8 allocated, as the module left them.
  const SlabCache* cache = slub->find("coroner_obj");
  ASSERT_NE(cache, nullptr);
  EXPECT_EQ(slub->counts(*cache).allocated, 8u);
  EXPECT_EQ(cache->debug_flags(), "FZPU");
  // The poison scan checks the cache's objects as SLUB would: the one written after its free.
  ScanRequest request;
  request.patterns = PoisonCatalog::shipped().for_os("linux");
  auto result = scan_poison(*o.view, &*slub, request);
  bool found = false;
  for (const DamagedObject& d : result.damaged) {
    if (d.object != objects.freed[3]) continue;
    found = true;
    ASSERT_FALSE(d.damage.empty());
    EXPECT_EQ(d.damage[0].area, "poison");
    EXPECT_EQ(d.damage[0].offset, 0x48);  // offsetof(struct coroner_obj, stamp)
  }
  EXPECT_TRUE(found) << result.damaged.size() << " damaged objects";
}

INSTANTIATE_TEST_SUITE_P(EveryKernel, SlubOnEveryKernel,
                         ::testing::ValuesIn(coroner::testing::all_flavours()), coroner::testing::flavour_test_name);
