// The seed fixtures (fixtures/seed-*): coroner on kernels it knows only through an OS model
// (data/os/*.yaml). Seed 000 is illumos bug 9972; what the report shows (the two stacks, the htable
// both threads hold, ::whatthread naming both) is what these tests expect.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>

#include "../support/json_output.hpp"
#include "../support/run_command.hpp"

using coroner::testing::json_in_output;
using coroner::testing::run_command;

namespace {

const std::string kFixtures = CORONER_SEED_FIXTURES;

// `coroner COMMAND CORE -k PROGRAM ARGS --json` on a fixture.
nlohmann::json coroner_json(const std::string& fixture, const std::string& command, const std::string& args = "") {
  auto r = run_command(std::string(CORONER_BINARY) + " " + command + " " + kFixtures + "/" + fixture + ".core -k " +
                       kFixtures + "/" + fixture + " " + args + " --json");
  EXPECT_EQ(r.status, 0) << r.output;
  return json_in_output(r.output);
}

// A model kernel's message buffer: one record per line.
std::vector<std::string> log_lines(const nlohmann::json& log) {
  std::vector<std::string> out;
  for (const auto& r : log["records"]) out.push_back(r["text"]);
  return out;
}

std::vector<std::string> functions(const nlohmann::json& backtrace) {
  std::vector<std::string> out;
  for (const auto& f : backtrace["frames"]) out.push_back(f["function"]);
  return out;
}

// The report's stacks (seed 000), innermost first.
const std::vector<std::string> kZfsTruncStack = {
    "hati_page_unmap", "hati_pageunload", "hat_pageunload", "pvn_getdirty", "pvn_vplist_dirty", "zfs_trunc", "zfs_freesp",
    "zfs_create",      "fop_create",      "vn_createat",    "vn_openat",    "copen",            "openat64",  "open64",
    "_sys_sysenter_post_swapgs"};
const std::vector<std::string> kProcExitStack = {"cpu_update_pct", "restore_mstate", "swtch_from_zombie", "thread_exit",
                                                 "proc_exit",      "exit",           "rexit",             "_sys_sysenter_post_swapgs"};

}  // namespace

TEST(Seed000Illumos, PsFindsEveryThreadAndThePanickingOne) {
  auto ps = coroner_json("seed-000", "ps");
  EXPECT_EQ(ps["schema"], "coroner.ps");
  EXPECT_EQ(ps["os"], "illumos");
  EXPECT_EQ(ps["panic"], "assertion failed: ht->ht_valid_cnt >= 0, file: ../../i86pc/vm/htable.c, line: 1204");
  ASSERT_EQ(ps["threads"].size(), 3u) << ps.dump(1);
  std::map<std::string, nlohmann::json> by_comm;
  for (const auto& t : ps["threads"]) by_comm[t["comm"]] = t;
  EXPECT_EQ(ps["panicking_thread"], by_comm["file_write"]["address"]);
  EXPECT_EQ(by_comm["ksh"]["address"], "0xffffd033e590a400");  // the bufctl's freeing thread
  EXPECT_EQ(by_comm["ksh"]["state"], "Z");
  EXPECT_EQ(by_comm["file_write"]["state"], "O");
  EXPECT_NE(by_comm["ksh"]["pid"], by_comm["file_write"]["pid"]);  // two processes
  EXPECT_EQ(by_comm["sched"]["pid"], 0);
}

TEST(Seed000Illumos, BacktracesAreTheReportsStacks) {
  auto bt = coroner_json("seed-000", "bt", "--all");
  EXPECT_EQ(bt["schema"], "coroner.bt");
  ASSERT_EQ(bt["backtraces"].size(), 3u);
  for (const auto& b : bt["backtraces"]) {
    auto f = functions(b);
    EXPECT_EQ(b["end"], "end of stack") << b.dump(1);
    if (b["thread"]["comm"] == "file_write") {
      EXPECT_TRUE(b["panicking"].get<bool>());
      // panicsys <- vpanic <- panic <- assfail, then the report's stack frame for frame.
      ASSERT_GE(f.size(), 4u + kZfsTruncStack.size());
      EXPECT_EQ(std::vector<std::string>(f.begin(), f.begin() + 4),
                (std::vector<std::string>{"panicsys", "vpanic", "panic", "assfail"}));
      EXPECT_EQ(std::vector<std::string>(f.begin() + 4, f.end()), kZfsTruncStack);
    } else if (b["thread"]["comm"] == "ksh") {
      EXPECT_EQ(f, kProcExitStack);
    }
  }
  // Every return address is right after a call: the frame's offset is past the function's start.
  for (const auto& b : bt["backtraces"]) {
    for (const auto& frame : b["frames"]) EXPECT_GT(frame["offset"].get<uint64_t>(), 0u) << frame.dump();
  }
}

TEST(Seed000Illumos, WhatthreadNamesBothThreadsLikeTheReport) {
  auto w = coroner_json("seed-000", "whatthread", "'(htable_t *)0xffffd0576bff2800'");
  EXPECT_EQ(w["schema"], "coroner.whatthread");
  EXPECT_EQ(w["object"], "struct htable");  // htable_t's size bounds the search
  std::map<std::string, std::string> where;
  for (const auto& r : w["references"]) where[r["thread"]["comm"]] = r["place"];
  ASSERT_EQ(where.size(), 2u) << w.dump(1);
  EXPECT_EQ(where["file_write"].rfind("frame #4 hati_page_unmap+", 0), 0u) << where["file_write"];
  EXPECT_EQ(where["ksh"].rfind("frame #4 proc_exit+", 0), 0u) << where["ksh"];
}

// The Linux commands' schemas on an illumos kernel: `search --stacks` finds what whatthread finds,
// and bt takes a process id (every thread of it) as well as a thread id or address.
TEST(Seed000Illumos, OneSchemaPerCommandOnEveryKernel) {
  auto w = coroner_json("seed-000", "whatthread", "0xffffd0576bff2800");
  auto s = coroner_json("seed-000", "search", "0xffffd0576bff2800 --stacks");
  EXPECT_EQ(s["scope"], "stacks");
  ASSERT_EQ(s["hits"].size(), w["references"].size()) << s.dump(1);
  for (size_t i = 0; i < s["hits"].size(); ++i) {
    EXPECT_EQ(s["hits"][i]["location"], w["references"][i]["location"]);
    EXPECT_EQ(s["hits"][i]["thread"]["address"], w["references"][i]["thread"]["address"]);
  }
  auto ps = coroner_json("seed-000", "ps");
  EXPECT_EQ(ps["schema_version"], 2);
  for (const auto& t : ps["threads"]) {
    if (t["comm"] != "ksh") continue;
    auto by_pid = coroner_json("seed-000", "bt", std::to_string(t["pid"].get<int>()));
    auto by_tid = coroner_json("seed-000", "bt", std::to_string(t["tid"].get<uint64_t>()));
    ASSERT_EQ(by_pid["backtraces"].size(), 1u) << by_pid.dump(1);
    EXPECT_EQ(by_pid["backtraces"][0]["thread"]["address"], t["address"]);
    EXPECT_EQ(by_tid["backtraces"][0]["thread"]["address"], t["address"]);
    EXPECT_FALSE(by_tid["backtraces"][0]["panicking"].get<bool>());
  }
}

TEST(Seed000Illumos, TheFreedHtableIsAsTheReportShowsIt) {
  std::string args = " " + kFixtures + "/seed-000.core -k " + kFixtures + "/seed-000 ";
  auto ht = run_command(std::string(CORONER_BINARY) + " print" + args + "'((htable_t *)0xffffd0576bff2800)->ht_valid_cnt'");
  EXPECT_EQ(ht.status, 0) << ht.output;
  EXPECT_NE(ht.output.find("= -16657"), std::string::npos) << ht.output;  // 0xbeef: the assertion's ht_valid_cnt < 0
  auto bufctl = run_command(std::string(CORONER_BINARY) + " print" + args +
                            "'((kmem_bufctl_audit_t *)0xffffd03def4546e8)->bc_thread'");
  EXPECT_NE(bufctl.output.find("0xffffd033e590a400"), std::string::npos) << bufctl.output;
  // Placed at the report's addresses (::whatis printed them): the buffer, its bufctl and its cache.
  for (auto [symbol, address] : {std::pair{"htable_buf", "0xffffd0576bff2800"}, std::pair{"htable_bufctl", "0xffffd03def4546e8"},
                                 std::pair{"htable_cache", "0xffffd032e7e49008"}}) {
    auto p = run_command(std::string(CORONER_BINARY) + " print" + args + "'&" + symbol + "'");
    EXPECT_NE(p.output.find(address), std::string::npos) << symbol << ": " << p.output;
  }
  auto version = run_command(std::string(CORONER_BINARY) + " info" + args + "--json");
  auto j = json_in_output(version.output);
  EXPECT_EQ(j["vmlinux"]["verdict"], "match") << version.output;
}

// mdb's ::whatis on the htable, from an address inside it: "is freed from htable_t", the bufctl
// audit record's address, timestamp and thread, and the stack that freed it (proc_exit's).
TEST(Seed000Illumos, WhatisNamesTheFreedBufferItsCacheAndWhoFreedIt) {
  auto w = coroner_json("seed-000", "whatis", "0xffffd0576bff2812 0xffffd0576bff2800");
  EXPECT_EQ(w["schema"], "coroner.whatis");
  ASSERT_EQ(w["results"].size(), 2u) << w.dump(1);
  for (const auto& r : w["results"]) {
    const auto& b = r["buffer"];
    EXPECT_EQ(b["address"], "0xffffd0576bff2800") << r.dump(1);
    EXPECT_EQ(b["cache"], "htable_t");
    EXPECT_EQ(b["cache_address"], "0xffffd032e7e49008");
    EXPECT_EQ(b["state"], "free");
    EXPECT_EQ(b["bufctl"], "0xffffd03def4546e8");
    EXPECT_EQ(b["audit"]["thread"], "0xffffd033e590a400");
    EXPECT_EQ(b["audit"]["timestamp"], 0x98b15f2347fbeULL);
    std::vector<std::string> stack;
    for (const auto& f : b["audit"]["stack"]) stack.push_back(f["function"].get<std::string>().substr(0, f["function"].get<std::string>().find('+')));
    EXPECT_EQ(stack, (std::vector<std::string>{"htable_free", "htable_purge_hat", "hat_free_end", "as_free", "relvm",
                                               "proc_exit", "exit", "rexit", "_sys_sysenter_post_swapgs"}));
    EXPECT_EQ(r["poison"]["name"], "KMEM_FREE_PATTERN");  // 0xdeadbeef, as the report's ht_valid_cnt shows
    EXPECT_EQ(r["stack"], nullptr);
  }
  EXPECT_EQ(w["results"][0]["buffer"]["offset"], 0x12);
  // The same buffer, alive in the near miss; an address on a stack; one that is nothing known.
  auto alive = coroner_json("seed-000-near-miss-allocated", "whatis", "0xffffd0576bff2800");
  EXPECT_EQ(alive["results"][0]["buffer"]["state"], "allocated") << alive.dump(1);
  EXPECT_EQ(alive["results"][0]["poison"], nullptr);
  auto held = coroner_json("seed-000", "whatthread", "0xffffd0576bff2800");
  ASSERT_FALSE(held["references"].empty());
  std::string slot = held["references"][0]["location"];
  auto on_stack = coroner_json("seed-000", "whatis", slot + " 0x1000");
  EXPECT_EQ(on_stack["results"][0]["stack"]["place"], held["references"][0]["place"]) << on_stack.dump(1);
  EXPECT_EQ(on_stack["results"][0]["buffer"], nullptr);
  EXPECT_EQ(on_stack["results"][1]["stack"], nullptr);
  EXPECT_EQ(on_stack["results"][1]["symbol"], nullptr);
}

TEST(Seed000Illumos, NearMissesHaveTheirOwnShape) {
  auto alive = run_command(std::string(CORONER_BINARY) + " print " + kFixtures + "/seed-000-near-miss-allocated.core -k " +
                           kFixtures + "/seed-000-near-miss-allocated '((htable_t *)0xffffd0576bff2800)->ht_valid_cnt'");
  EXPECT_NE(alive.output.find("= 3"), std::string::npos) << alive.output;  // alive: nothing freed it
  auto other = coroner_json("seed-000-near-miss-other-stack", "bt");
  ASSERT_EQ(other["backtraces"].size(), 1u);
  auto f = functions(other["backtraces"][0]);
  EXPECT_EQ(f, (std::vector<std::string>{"panicsys", "vpanic", "panic", "assfail", "hati_page_unmap", "segvn_fault",
                                         "as_fault", "pagefault", "trap", "cmntrap"}));
  auto w = coroner_json("seed-000-near-miss-other-stack", "whatthread", "'(htable_t *)0xffffd0576bff2800'");
  EXPECT_EQ(w["references"].size(), 2u);  // the same two holders: only the panicking path differs
}

namespace {

std::vector<std::string> verdict_ids(const nlohmann::json& j) {
  std::vector<std::string> ids;
  for (const auto& v : j["verdicts"]) ids.push_back(v["id"]);
  return ids;
}

nlohmann::json analyze(const std::string& fixture) {
  auto r = run_command(std::string(CORONER_BINARY) + " analyze " + kFixtures + "/" + fixture + ".core -k " + kFixtures +
                       "/" + fixture + " --format json");
  EXPECT_EQ(r.status, 0) << r.output;
  return json_in_output(r.output);
}

}  // namespace

// The verdict, as the report's engineers reached it: the freed htable the panicking thread held,
// its ht_valid_cnt negative, and the exiting thread of another process that references it.
TEST(Seed000Illumos, AnalyzeNamesTheRaceWithItsEvidence) {
  auto j = analyze("seed-000");
  EXPECT_EQ(j["os"], "illumos");
  EXPECT_EQ(verdict_ids(j), std::vector<std::string>{"illumos.htable-freed-by-exiting-process"}) << j["verdicts"].dump(1);
  ASSERT_FALSE(j["verdicts"].empty());
  std::string evidence = j["verdicts"][0]["evidence"].dump();
  for (const char* wanted : {"freed htable_t (cache htable_t) 0xffffd0576bff2800", "frame #4 hati_page_unmap",
                             "field ht_valid_cnt = -16657 (ht_valid_cnt < 0)", "last freed by thread 0xffffd033e590a400",
                             "thread pid 27770 (ksh), another process: #4 proc_exit; holds the same object 0xffffd0576bff2800"}) {
    EXPECT_NE(evidence.find(wanted), std::string::npos) << wanted << " not in " << evidence;
  }
  EXPECT_EQ(j["crashing_thread"]["comm"], "file_write/1");
  ASSERT_EQ(j["other_threads"].size(), 1u);
  EXPECT_EQ(j["other_threads"][0]["comm"], "ksh/1");
  // The signature skips the panic machinery (panicsys, vpanic, panic, assfail) and numbers.
  EXPECT_NE(j["signature"].get<std::string>().find("line: N | hati_page_unmap | hati_pageunload"), std::string::npos)
      << j["signature"];
  std::string report = ::testing::TempDir() + "/seed-000-report.json";
  std::ofstream(report) << j.dump();
  auto check = run_command("python3 -c 'import json, sys, jsonschema; "
                           "jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))' " +
                           std::string(CORONER_SCHEMA_DIR) + "/report.schema.json " + report);
  EXPECT_EQ(check.status, 0) << check.output;
}

// Near misses: the seed's rule stays silent, and no Linux rule speaks on an illumos dump.
TEST(Seed000Illumos, NearMissesGetNoVerdict) {
  for (const char* fixture : {"seed-000-near-miss-allocated", "seed-000-near-miss-other-stack"}) {
    auto j = analyze(fixture);
    EXPECT_EQ(verdict_ids(j), std::vector<std::string>{}) << fixture << ": " << j["verdicts"].dump(1);
  }
  // The live htable is still found, allocated, with its holders; hati_page_unmap's page_t
  // parameter is an object the crashing frame used too, typed by its debug info.
  auto alive = analyze("seed-000-near-miss-allocated");
  std::map<std::string, std::string> state;
  for (const auto& o : alive["objects"]) state[o["type"].get<std::string>() + " " + o["address"].get<std::string>()] = o["state"];
  EXPECT_EQ(state, (std::map<std::string, std::string>{{"htable_t 0xffffd0576bff2800", "allocated"},
                                                       {"page_t 0xffffd000d9032a00", "pointed to"}}))
      << alive["objects"].dump(1);
}

// A hostile core: bytes of the fixture's memory overwritten at random (threads, stacks, the kmem
// buffer and its tags, the lists). coroner must answer or fail with a message, never crash.
TEST(Seed000Illumos, CorruptCoresNeverCrashCoroner) {
  std::ifstream in(kFixtures + "/seed-000.core", std::ios::binary);
  std::string core((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(core.size(), 4096u);
  std::string path = ::testing::TempDir() + "/seed-000-corrupt.core";
  uint64_t state = 0x9e3779b97f4a7c15;
  auto next = [&] { return state = state * 6364136223846793005ULL + 1442695040888963407ULL; };
  for (int round = 0; round < 12; ++round) {
    std::string bad = core;
    // Past the headers, the memory itself: one word in 64, in 16 or in 4 replaced by noise, by all
    // ones, or by a pointer to a nearby word (lists that loop, frames that point back).
    const uint64_t one_in = round % 3 == 0 ? 64 : round % 3 == 1 ? 16 : 4;
    for (size_t at = 4096; at + 8 <= bad.size(); at += 8) {
      if (next() % one_in) continue;
      uint64_t word = 0, r = next();
      std::memcpy(&word, &bad[at], 8);
      word = (r & 3) == 0 ? ~uint64_t{0} : (r & 3) == 1 ? word + ((r >> 8) % 512) - 256 : (r & 3) == 2 ? 0 : r;
      std::memcpy(&bad[at], &word, 8);
    }
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bad;
    for (const char* command : {"ps", "bt --all", "analyze", "whatthread 0xffffd0576bff2800", "whatis 0xffffd0576bff2812"}) {
      std::string cmd(command);
      auto space = cmd.find(' ');
      std::string args = cmd.starts_with("what") ? cmd.substr(0, space) + " " + path + " -k " + kFixtures + "/seed-000 " + cmd.substr(space + 1)
                                                 : cmd + " " + path + " -k " + kFixtures + "/seed-000";
      auto r = run_command(std::string(CORONER_BINARY) + " " + args);
      EXPECT_TRUE(r.status == 0 || r.status == 1) << "round " << round << ": " << command << " exited " << r.status << "\n"
                                                  << r.output;
    }
  }
}

// Seed 001: FreeBSD review D4103. A kernel whose threads hang off processes (allproc -> p_threads),
// the panicking thread's registers in dumppcb, and the object the KASSERT names in its message.
TEST(Seed001FreeBSD, ThreadsBacktracesAndTheObjectsHolders) {
  auto ps = coroner_json("seed-001", "ps");
  EXPECT_EQ(ps["os"], "freebsd");
  ASSERT_EQ(ps["threads"].size(), 3u) << ps.dump(1);
  EXPECT_EQ(ps["panicking_thread"], "0xfffff8004cf09000");  // dumptid 100234
  auto bt = coroner_json("seed-001", "bt");
  ASSERT_EQ(bt["backtraces"].size(), 1u);
  EXPECT_EQ(functions(bt["backtraces"][0]),
            (std::vector<std::string>{"doadump", "kern_reboot", "vpanic", "kassert_panic", "vm_object_collapse",
                                      "vm_object_deallocate", "vm_map_process_deferred", "vm_map_remove", "sys_munmap",
                                      "amd64_syscall", "fast_syscall_common"}));
  auto w = coroner_json("seed-001", "whatthread", "'(struct vm_object *)0xfffff800534a1600'");
  std::map<int64_t, std::string> where;
  for (const auto& r : w["references"]) where[r["thread"]["pid"]] = r["place"];
  EXPECT_EQ(where[4567].rfind("frame #4 vm_object_collapse+", 0), 0u) << w.dump(1);
  EXPECT_EQ(where[4568].rfind("frame #6 vm_fault_hold+", 0), 0u) << w.dump(1);
  auto bobj = run_command(std::string(CORONER_BINARY) + " print " + kFixtures + "/seed-001.core -k " + kFixtures +
                          "/seed-001 '&backing_object' '((struct vm_object *)0xfffff800534a1600)->ref_count'");
  EXPECT_NE(bobj.output.find("0xfffff800534a1600"), std::string::npos) << bobj.output;
  EXPECT_NE(bobj.output.find("ref_count = 2"), std::string::npos) << bobj.output;
}

TEST(Seed001FreeBSD, AnalyzeReadsTheNamedObjectAndFindsTheFaultingThread) {
  auto j = analyze("seed-001");
  EXPECT_EQ(verdict_ids(j), std::vector<std::string>{"freebsd.vm-object-collapse-rereferenced"}) << j["verdicts"].dump(1);
  ASSERT_FALSE(j["verdicts"].empty());
  std::string evidence = j["verdicts"][0]["evidence"].dump();
  for (const char* wanted : {"the panic message's 0xfffff800534a1600, read as struct vm_object", "field ref_count = 2",
                             "field flags = 0x1008", "thread pid 4568 (fsx): #5 unlock_and_deallocate, #6 vm_fault_hold"}) {
    EXPECT_NE(evidence.find(wanted), std::string::npos) << wanted << " not in " << evidence;
  }
  ASSERT_EQ(j["other_threads"].size(), 1u);
  EXPECT_EQ(j["other_threads"][0]["pid"], 4568);
  // The near miss: the same panic and stack, but the faulting thread holds another object.
  EXPECT_EQ(verdict_ids(analyze("seed-001-near-miss-no-fault")), std::vector<std::string>{});
  // No seed's rule speaks on another seed's fixture.
  EXPECT_EQ(verdict_ids(analyze("seed-000")), std::vector<std::string>{"illumos.htable-freed-by-exiting-process"});
}

// The report's other symptom: the faulting thread (the one the report names) frees a page that the
// collapse, asleep on it, has had mapped.
TEST(Seed001FreeBSD, TheFreeingMappedPageDumpGetsItsOwnVerdict) {
  auto j = analyze("seed-001-freeing-mapped-page");
  EXPECT_EQ(verdict_ids(j), std::vector<std::string>{"freebsd.vm-fault-frees-mapped-page"}) << j["verdicts"].dump(1);
  ASSERT_FALSE(j["verdicts"].empty());
  std::string evidence = j["verdicts"][0]["evidence"].dump();
  for (const char* wanted : {"the panic message's 0xfffff8007e1a2480, read as struct vm_page",
                             "field md.pv_list.tqh_first = 0xfffff80012345e40", "#5 vm_object_backing_scan; holds the same object"}) {
    EXPECT_NE(evidence.find(wanted), std::string::npos) << wanted << " not in " << evidence;
  }
  EXPECT_EQ(coroner_json("seed-001-freeing-mapped-page", "ps")["panicking_thread"], "0xfffff8004cf09000");
  // The signature starts past the panic machinery, not past the trap the fault came in by.
  EXPECT_NE(j["signature"].get<std::string>().find("freeing mapped page N | vm_page_free_toq | vm_page_free"), std::string::npos)
      << j["signature"];
}

// Seed 002: OpenZFS on FreeBSD (PR 15233). The lwb is found where the report's engineer found it,
// in zil_lwb_write_issue()'s frame (`p/x lwb->lwb_issued_timestamp`), read as lwb_t.
TEST(Seed002OpenZfs, AnalyzeReadsTheLwbInItsFrameAndFindsUmasTrash) {
  auto bt = coroner_json("seed-002", "bt");
  auto f = functions(bt["backtraces"][0]);
  ASSERT_GE(f.size(), 9u);
  EXPECT_EQ(std::vector<std::string>(f.begin() + 7, f.begin() + 9), (std::vector<std::string>{"zio_nowait", "zil_lwb_write_issue"}));
  auto j = analyze("seed-002");
  EXPECT_EQ(verdict_ids(j), std::vector<std::string>{"openzfs.lwb-used-after-zil-sync-freed-it"}) << j["verdicts"].dump(1);
  ASSERT_FALSE(j["verdicts"].empty());
  std::string evidence = j["verdicts"][0]["evidence"].dump();
  // The lwb is zil_lwb_write_issue()'s parameter where its DWARF puts it (DW_OP_fbreg from the
  // CFA): the slot the fixture filled as gcc -O0 spills the second argument, rbp - 16.
  for (const char* wanted : {"lwb = 0xfffff80123456000 in frame #8 zil_lwb_write_issue (parameter, lwb_t *, at 0xfffffe01a3c446f0)",
                             "read as lwb_t",
                             "field lwb_issued_timestamp = 0xdeadc0dedeadc0de, UMA_JUNK",
                             "field lwb_child_zio = 0xdeadc0dedeadc0de, UMA_JUNK"}) {
    EXPECT_NE(evidence.find(wanted), std::string::npos) << wanted << " not in " << evidence;
  }
  // The near miss: the same fault in the same frames, the lwb alive.
  EXPECT_EQ(verdict_ids(analyze("seed-002-near-miss-alive")), std::vector<std::string>{});
  // Each seed's rule speaks on its own fixture only.
  EXPECT_EQ(verdict_ids(analyze("seed-001")), std::vector<std::string>{"freebsd.vm-object-collapse-rereferenced"});
}

// With no allocator model (FreeBSD's UMA is not modelled), whatis still says what the word holds.
TEST(Seed002OpenZfs, WhatisSaysTheLwbHoldsUmasTrash) {
  auto w = coroner_json("seed-002", "whatis", "0xfffff80123456008 panic");
  ASSERT_EQ(w["results"].size(), 2u) << w.dump(1);
  EXPECT_EQ(w["os"], "freebsd");
  EXPECT_EQ(w["results"][0]["buffer"], nullptr);
  EXPECT_EQ(w["results"][0]["word"], "0xdeadc0dedeadc0de");
  EXPECT_EQ(w["results"][0]["poison"]["name"], "UMA_JUNK");
  EXPECT_EQ(w["results"][1]["symbol"].get<std::string>().rfind("panic+0x0", 0), 0u) << w.dump(1);
}

// info and log on model kernels: what the model's `kernel` and `log` expressions name.
TEST(Seed001FreeBSD, InfoAndLogReadTheKernelsOwnRecords) {
  auto info = coroner_json("seed-001", "info");
  EXPECT_EQ(info["os"], "freebsd");
  EXPECT_EQ(info["release"]["value"], "11.0-CURRENT");
  EXPECT_EQ(info["release"]["source"], "osrelease");
  EXPECT_EQ(info["cpus"]["value"], 8);
  EXPECT_EQ(info["panic_message"]["value"], "backing_object 0xfffff800534a1600 was somehow re-referenced during collapse!");
  auto illumos = coroner_json("seed-000", "info");
  EXPECT_EQ(illumos["os"], "illumos");
  EXPECT_EQ(illumos["release"]["value"], "5.11");
  EXPECT_EQ(illumos["version"]["value"], "illumos-coroner-seed-000");
  auto log = coroner_json("seed-001", "log");
  EXPECT_EQ(log["schema"], "coroner.log");
  EXPECT_EQ(log["os"], "freebsd");
  std::vector<std::string> lines = log_lines(log);
  ASSERT_EQ(lines.size(), 7u) << log.dump(1);
  EXPECT_EQ(lines[0], "Copyright (c) 1992-2015 The FreeBSD Project.");
  EXPECT_EQ(lines[4], "panic @ time 1446721794.625, thread 0xfffff8004cf09000: backing_object 0xfffff800534a1600 was "
                      "somehow re-referenced during collapse!");
  // illumos keeps its messages in STREAMS blocks, which the model does not describe: said, not guessed.
  auto none = run_command(std::string(CORONER_BINARY) + " log " + kFixtures + "/seed-000.core -k " + kFixtures + "/seed-000");
  EXPECT_EQ(none.status, 1);
  EXPECT_NE(none.output.find("has no `log`"), std::string::npos) << none.output;
}

// Commands that read Linux's own structures say so on another kernel, and which commands do read it,
// instead of reading Linux's symbols in an illumos or FreeBSD dump.
TEST(Seed000Illumos, LinuxOnlyCommandsSayWhatTheyCannotRead) {
  const std::string args = " " + kFixtures + "/seed-000.core -k " + kFixtures + "/seed-000";
  for (const std::string command : {"kmem", "scan", "mod", "fault", "search"}) {
    auto r = run_command(std::string(CORONER_BINARY) + " " + command + args + (command == "search" ? " 0xffffd0576bff2800" : ""));
    EXPECT_EQ(r.status, 1) << command << ": " << r.output;
    EXPECT_NE(r.output.find("data/os/illumos.yaml (illumos)"), std::string::npos) << command << ": " << r.output;
    EXPECT_NE(r.output.find("read on Linux only"), std::string::npos) << command << ": " << r.output;
    EXPECT_NE(r.output.find("whatthread"), std::string::npos) << command << ": " << r.output;
  }
}

// A ring that has wrapped reads oldest first, across its end, and a user's rule can match its lines.
TEST(Seed002OpenZfs, TheWrappedMessageBufferReadsInOrderAndFeedsLogRules) {
  auto log = coroner_json("seed-002", "log");
  EXPECT_EQ(log["ring"]["size"], 1024);
  EXPECT_EQ(log["ring"]["write_position"], 82);  // (3 * 1024 + 82) % 1024: the newest text's length
  std::vector<std::string> lines = log_lines(log);
  ASSERT_EQ(lines.size(), 9u) << log.dump(1);
  EXPECT_EQ(lines.front(), "pid 48113 (cc), jid 0, uid 0: exited on signal 11 (core dumped)");
  EXPECT_EQ(lines[4], "trap number\t\t= 9");  // the buffer's last bytes ...
  EXPECT_EQ(lines[5], "panic: general protection fault");  // ... and its first
  EXPECT_EQ(lines.back(), "KDB: stack backtrace:");
  std::string dir = ::testing::TempDir() + "/freebsd-log-rule";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/trap.yaml") << "rules:\n  - id: mine.fatal-trap-9\n    title: t\n    os: freebsd\n"
                                       "    when: {log: \"Fatal trap 9: general protection fault while in kernel mode\"}\n"
                                       "    explanation: e\n";
  std::string base = std::string(CORONER_BINARY) + " rules test mine.fatal-trap-9 " + kFixtures + "/%s.core -k " + kFixtures +
                     "/%s --rules " + dir + " --expect ";
  auto on = [&](const std::string& fixture, const std::string& expect) {
    std::string cmd = base + expect;
    for (size_t at; (at = cmd.find("%s")) != std::string::npos;) cmd.replace(at, 2, fixture);
    return run_command(cmd);
  };
  auto match = on("seed-002", "match");
  EXPECT_EQ(match.status, 0) << match.output;
  auto other = on("seed-001", "no-match");
  EXPECT_EQ(other.status, 0) << other.output;
}

// Seed 003 (kernel bug 29402) on Linux 2.6.38, read through data/os/linux-2.6.yaml: CPU 2's
// registers from its NT_PRSTATUS note, in spin_bug() on the interrupt stack, the frames chaining on
// into ext4lazyinit's own stack, and the completion in the frame blkdev_issue_zeroout() left.
TEST(Seed003Linux, TheSoftirqCompletesACompletionInExt4lazyinitsDeadFrame) {
  auto ps = coroner_json("seed-003", "ps");
  EXPECT_EQ(ps["os"], "linux");
  EXPECT_EQ(ps["panic"], "BUG: spinlock bad magic on CPU#2, ext4lazyinit/1931");
  EXPECT_EQ(ps["panicking_thread"], "0xffff88017b8d5b00");
  auto bt = coroner_json("seed-003", "bt");
  ASSERT_EQ(bt["backtraces"].size(), 1u);
  auto f = functions(bt["backtraces"][0]);
  EXPECT_EQ(bt["backtraces"][0]["end"], "end of stack");
  ASSERT_GE(f.size(), 21u);
  EXPECT_EQ(std::vector<std::string>(f.begin(), f.begin() + 5),
            (std::vector<std::string>{"spin_bug", "do_raw_spin_lock", "_raw_spin_lock_irqsave", "complete", "bio_batch_end_io"}));
  EXPECT_EQ(std::vector<std::string>(f.end() - 5, f.end()),  // past do_IRQ, on ext4lazyinit's stack
            (std::vector<std::string>{"common_interrupt", "ext4_run_li_request", "ext4_lazyinit_thread", "kthread", "kernel_thread_helper"}));
  // The sleeping threads were switched out at thread_return, a label inside schedule() and no
  // function symbol of its own: code all the same, where their unwinds start.
  auto all = coroner_json("seed-003", "bt", "--all");
  ASSERT_EQ(all["backtraces"].size(), 3u);
  for (const auto& b : all["backtraces"]) {
    EXPECT_EQ(b["end"], "end of stack") << b.dump();
    if (b["thread"]["address"] != "0xffff88017b8d5b00") {
      EXPECT_EQ(functions(b).front(), "thread_return") << b.dump();
    }
  }

  auto j = analyze("seed-003");
  EXPECT_EQ(verdict_ids(j), (std::vector<std::string>{"linux.completion-on-dead-stack-frame", "linux.spinlock-bad-magic"}))
      << j["verdicts"].dump(1);
  EXPECT_EQ(j["release"], "2.6.38-rc5");
  std::map<std::string, nlohmann::json> by_address;
  for (const auto& o : j["objects"]) by_address[o["address"]] = o;
  // The lock spin_bug() was given (rdi) and the bio_batch (rbx): below ext4lazyinit's interrupted
  // stack pointer, typed by the variables of the frames that point at them.
  for (auto [address, type] : {std::pair{"0xffff88017c30b8b8", "raw_spinlock_t"}, std::pair{"0xffff88017c30b8e0", "struct bio_batch"}}) {
    const auto& o = by_address[address];
    EXPECT_EQ(o["state"], "dead frame") << o.dump(1);
    EXPECT_EQ(o["type"], type);
    ASSERT_EQ(o["holders"].size(), 1u);
    EXPECT_EQ(o["holders"][0]["comm"], "ext4lazyinit");
  }
  auto magic = run_command(std::string(CORONER_BINARY) + " print " + kFixtures + "/seed-003.core -k " + kFixtures +
                           "/seed-003 '((struct bio_batch *)0xffff88017c30b8e0)->wait->wait.lock.rlock.magic'");
  EXPECT_NE(magic.output.find("= 4294936577"), std::string::npos) << magic.output;  // 0xffff8801, the log's .magic
  auto log = coroner_json("seed-003", "log");
  std::vector<std::string> lines = log_lines(log);
  ASSERT_GE(lines.size(), 3u);
  EXPECT_EQ(lines[1], "BUG: spinlock bad magic on CPU#2, ext4lazyinit/1931");  // the "<0>" level dropped
}

TEST(Seed003Linux, TheHungVariantAndTheLiveFrameNearMissGetTheirOwnVerdicts) {
  auto hung = analyze("seed-003-hung");
  EXPECT_EQ(verdict_ids(hung), (std::vector<std::string>{"linux.zeroout-completion-never-comes", "linux.hung-task"}))
      << hung["verdicts"].dump(1);
  EXPECT_EQ(hung["crashing_thread"]["comm"], "khungtaskd");
  auto ps = coroner_json("seed-003-hung", "ps");
  std::string blocked;
  for (const auto& t : ps["threads"]) {
    if (t["state"] == "D") blocked += t["comm"].get<std::string>() + " ";
  }
  EXPECT_EQ(blocked, "ext4lazyinit jbd2/sdb1-8 flush-8:16 ");
  // The one analysis names the blocked threads on a model kernel as on Linux, by the pid the
  // kernel's messages use.
  std::string asleep;
  for (const auto& t : hung["other_threads"]) {
    if (t["why"] == "in uninterruptible sleep (D)") asleep += t["comm"].get<std::string>() + "/" + std::to_string(t["pid"].get<int>()) + " ";
  }
  EXPECT_EQ(asleep, "ext4lazyinit/1931 jbd2/sdb1-8/1402 flush-8:16/1510 ") << hung["other_threads"].dump(1);
  // Interrupted inside blkdev_issue_zeroout(): the completion's frame is live, the lock's bad
  // magic is the same, and the dead-frame rule stays silent.
  auto live = analyze("seed-003-near-miss-live");
  EXPECT_EQ(verdict_ids(live), std::vector<std::string>{"linux.spinlock-bad-magic"}) << live["verdicts"].dump(1);
  EXPECT_EQ(live["signature"], analyze("seed-003")["signature"]);
  for (const auto& o : live["objects"]) EXPECT_NE(o["state"], "dead frame") << o.dump(1);
}

// Seed 004 (NFS/d_splice_alias, Linux 4.7) through data/os/linux-3.11.yaml: the oops's registers,
// the log's printk records, and the dentry the report printed.
TEST(Seed004Linux, DspliceAliasGotAHashedPositiveDentry) {
  auto j = analyze("seed-004");
  EXPECT_EQ(verdict_ids(j), (std::vector<std::string>{"linux.d-splice-alias-hashed-dentry", "linux.kernel-bug"}))
      << j["verdicts"].dump(1);
  EXPECT_EQ(j["panic"], "Fatal exception");
  EXPECT_EQ(j["cause"], "kernel BUG at /home/green/bk/linux/fs/dcache.c:2989!");
  EXPECT_EQ(j["crashing_thread"]["pid"], 2894259);
  std::string evidence = j["verdicts"][0]["evidence"].dump();
  EXPECT_NE(evidence.find("struct dentry 0xffff880055dbd2e8 (dentry, parameter of frame #0 d_splice_alias"), std::string::npos) << evidence;
  EXPECT_NE(evidence.find("d_hash.pprev = 0xffffc900000fd9c0"), std::string::npos) << evidence;
  EXPECT_NE(evidence.find("d_inode = 0xffff880066d8ab38"), std::string::npos) << evidence;
  // The report's `p *(struct dentry *)0xffff880055dbd2e8`, field by field.
  std::string args = " " + kFixtures + "/seed-004.core -k " + kFixtures + "/seed-004 ";
  for (auto [field, value] : {std::pair{"d_flags", "= 4718796"}, std::pair{"d_time", "= 6510615555426956154"},
                              std::pair{"d_lockref.lock.rlock.magic", "= 3735899821"}, std::pair{"d_name.hash", "= 2223188567"},
                              std::pair{"d_lockref.count", "= 3"}, std::pair{"d_subdirs.next", "= 0xffff880055dbd408"},
                              std::pair{"d_name.name", "= 0xffff880055dbd358"}}) {
    auto p = run_command(std::string(CORONER_BINARY) + " print" + args + "'((struct dentry *)0xffff880055dbd2e8)->" + field + "'");
    EXPECT_NE(p.output.find(value), std::string::npos) << field << ": " << p.output;
  }
  auto log = coroner_json("seed-004", "log");
  std::vector<std::string> lines = log_lines(log);
  ASSERT_EQ(lines.size(), 8u) << log.dump(1);
  EXPECT_EQ(lines.front(), "[22845.516232] kernel BUG at /home/green/bk/linux/fs/dcache.c:2989!");
  auto near = analyze("seed-004-near-miss-negative");
  EXPECT_EQ(verdict_ids(near), std::vector<std::string>{"linux.kernel-bug"}) << near["verdicts"].dump(1);
  EXPECT_EQ(near["signature"], j["signature"]);
}
