// Rule files: parsing (errors name file, line and column), and conditions evaluated on facts.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "coroner/os/model/os_model.hpp"
#include "coroner/analysis/crash_signature.hpp"
#include "coroner/analysis/object_index.hpp"
#include "coroner/os/linux/kernel_summary.hpp"
#include "coroner/rules/function_name.hpp"
#include "coroner/rules/rule_engine.hpp"

using namespace coroner::rules;
using coroner::analysis::add_holder;
using coroner::analysis::crash_signature;
using coroner::analysis::ObjectIndex;
using coroner::linux_kernel::crash_machinery;

namespace {

Facts uaf_facts() {
  Facts f;
  f.panic = {"Kernel panic - not syncing: Fatal exception",
             "general protection fault, probably for non-canonical address 0x6b6b6b6b6b6b6b73"};
  f.log = {"coroner_test: crashing: uaf"};
  f.threads = {{102, 102, "insmod", {"panic", "asm_exc_general_protection", "coroner_crash", "coroner_test_init", "do_one_initcall"}},
               {103, 103, "coroner_holder/0", {"__schedule", "schedule", "coroner_holder", "kthread"}},
               {104, 102, "insmod-thread", {"__schedule", "proc_exit"}}};
  f.crashing = 0;
  f.fault = FaultFacts{coroner::AddressKind::poison, "POISON_FREE", "movl 8(%rax), %esi", "struct coroner_obj.peer", 0x6b6b6b6b6b6b6b73};
  ObjectFacts o;
  o.address = 0xffff888012345678;
  o.cache = "coroner_obj";
  o.found_as = "loaded from";
  o.free = true;
  f.objects = {o};
  return f;
}

// Seed 004's dentry, as its report prints it: a reader that knows its fields.
ObjectFacts seed_004_dentry() {
  ObjectFacts o;
  o.address = 0xffff880055dbd2e8;
  o.cache = "dentry";
  o.type = "struct dentry";
  o.found_as = "register si of the exception at frame #0 d_splice_alias";
  o.field = [](const std::string& path) -> std::optional<FieldValue> {
    if (path == "d_hash.pprev") return FieldValue{0xffffc900000fd9c0, false, "", "0xffffc900000fd9c0"};
    if (path == "d_hash.next") return FieldValue{0, false, "", "0"};
    if (path == "d_inode") return FieldValue{0xffff880066d8ab38, false, "", "0xffff880066d8ab38"};
    if (path == "d_flags") return FieldValue{4718796, false, "", "4718796"};
    if (path == "d_lockref.count") return FieldValue{static_cast<uint64_t>(-3), true, "", "-3"};
    if (path == "d_iname") return FieldValue{std::nullopt, false, "POISON_INUSE", "\"10\\000ZZZZ\""};
    return std::nullopt;
  };
  return o;
}

// Seed 000's race: the panicking thread and a thread of another process both hold the htable.
Facts seed_000_facts() {
  Facts f;
  f.os = "illumos";
  f.panic = {"assertion failed: ht->ht_valid_cnt >= 0, file: ../../i86pc/vm/htable.c, line: 1204"};
  f.threads = {{1, 1, "zfs", {"hati_page_unmap", "hati_pageunload", "hat_pageunload", "pvn_getdirty"}},
               {2, 2, "sh", {"cpu_update_pct", "restore_mstate", "swtch_from_zombie", "thread_exit", "proc_exit"}},
               {3, 3, "sched", {"swtch", "proc_exit"}}};
  f.crashing = 0;
  ObjectFacts other;
  other.address = 0xffffd0576bff1000;
  other.cache = "htable_cache";
  other.free = false;
  other.holders = {{0, "register rdi"}, {2, "stack slot"}};
  ObjectFacts ht;
  ht.address = 0xffffd0576bff2800;
  ht.cache = "htable_cache";
  ht.type = "htable_t";
  ht.free = true;
  ht.holders = {{0, "stack slot 0x1"}, {1, "stack slot 0x2"}};
  f.objects = {other, ht};
  return f;
}

bool matches(const std::string& when, const Facts& f) {
  auto rules = parse_rules("rules:\n  - id: t\n    title: t\n    os: any\n    when:\n" + when, "t.yaml");
  EXPECT_TRUE(rules.ok()) << rules.error().message;
  if (!rules) return false;
  std::vector<std::string> evidence;
  return holds(rules->front().when, f, evidence);
}

}  // namespace

TEST(Rules, ConditionsOnPanicLogStacksThreadsFaultAndObjects) {
  Facts f = uaf_facts();
  EXPECT_TRUE(matches("      panic: \"non-canonical address 0x6b6b\"\n", f));
  EXPECT_FALSE(matches("      panic: \"sysrq triggered crash\"\n", f));
  EXPECT_TRUE(matches("      log: \"crashing: uaf\"\n", f));
  EXPECT_TRUE(matches("      stack: [coroner_crash, \"do_one_init.*\"]\n", f));   // in order, gaps allowed
  EXPECT_FALSE(matches("      stack: [do_one_initcall, coroner_crash]\n", f));     // wrong order
  f.threads[0].functions[3] = "coroner_test_init.cold";  // a GCC clone is its function
  EXPECT_TRUE(matches("      stack: [coroner_crash, coroner_test_init]\n", f));
  EXPECT_TRUE(matches("      thread: {stack: [schedule, coroner_holder]}\n", f));
  EXPECT_TRUE(matches("      thread: {stack: [coroner_holder], other_process: true}\n", f));
  EXPECT_FALSE(matches("      thread: {stack: [proc_exit], other_process: true}\n", f));  // same tgid as insmod
  EXPECT_TRUE(matches("      fault: {address: poison, pattern: POISON_FREE}\n", f));
  EXPECT_FALSE(matches("      fault: {address: \"null\"}\n", f));
  EXPECT_TRUE(matches("      object: {freed: true}\n", f));
  EXPECT_TRUE(matches("      all:\n        - log: uaf\n        - none:\n            - fault: {address: \"null\"}\n", f));
  EXPECT_FALSE(matches("      any:\n        - log: nothing-like-this\n        - object: {freed: false}\n", f));
}

TEST(Rules, EvaluateRanksByConfidenceAndCarriesEvidence) {
  auto rules = parse_rules(R"(rules:
  - {id: low, title: low, confidence: 0.3, when: {log: uaf}}
  - {id: high, title: high, confidence: 0.9, when: [{fault: {address: poison}}, {object: {freed: true}}]}
  - {id: freebsd, title: other os, os: freebsd, confidence: 1, when: {log: uaf}}
)", "r.yaml");
  ASSERT_TRUE(rules.ok()) << rules.error().message;
  auto verdicts = evaluate(*rules, uaf_facts());
  ASSERT_EQ(verdicts.size(), 2u);
  EXPECT_EQ(verdicts[0].rule->id, "high");
  EXPECT_EQ(verdicts[1].rule->id, "low");
  ASSERT_EQ(verdicts[0].evidence.size(), 2u);
  EXPECT_NE(verdicts[0].evidence[1].find("freed coroner_obj object 0xffff888012345678"), std::string::npos);
}

TEST(Rules, ErrorsNameFileLineAndColumnAndSayWhatIsWrong) {
  auto error = [](const std::string& text) {
    auto r = parse_rules(text, "bad.yaml");
    return r ? std::string("no error") : r.error().message;
  };
  EXPECT_EQ(error("rules:\n  - id: a\n    title: t\n    when:\n      stak: [x]\n"),
            "bad.yaml:5:7: unknown condition `stak` (expected all, any, none, panic, log, stack, thread, fault, object)");
  EXPECT_NE(error("rules:\n  - id: a\n    title: t\n    when: {log: \"(unclosed\"}\n").find("bad.yaml:4:17: bad regular expression"),
            std::string::npos);
  EXPECT_NE(error("rules:\n  - id: a\n    title: t\n    confidence: 7\n    when: {log: x}\n").find("bad.yaml:4:17: confidence"),
            std::string::npos);
  EXPECT_NE(error("rules:\n  - title: t\n    when: {log: x}\n").find("needs an `id`"), std::string::npos);
  EXPECT_NE(error("rules:\n  - id: a\n    title: t\n    colour: red\n    when: {log: x}\n").find("bad.yaml:4:5: unknown rule key `colour`"),
            std::string::npos);
  EXPECT_NE(error("rules: [\n").find("bad.yaml:"), std::string::npos);
  EXPECT_NE(error("{\"rules\": [{\"id\": \"j\", \"title\": \"json\", \"when\": {\"fault\": {\"address\": \"elsewhere\"}}}]}")
                .find("unknown address kind `elsewhere`"),
            std::string::npos);
}

TEST(Rules, TheShippedRulesAllParse) {
  const auto& rules = shipped_rules();
  EXPECT_GE(rules.size(), 9u);
  for (const auto& r : rules) {
    EXPECT_FALSE(r.explanation.empty()) << r.id;
    EXPECT_TRUE(r.file.starts_with("rules/")) << r.file;
  }
}

TEST(Rules, FieldTestsCompareTypedFieldsAndPoison) {
  Facts f;
  f.objects = {seed_004_dentry()};
  EXPECT_TRUE(matches("      object: {type: dentry, fields: [\"d_hash.pprev != 0\", \"d_hash.next == 0\"]}\n", f));
  EXPECT_FALSE(matches("      object: {type: dentry, fields: [\"d_hash.pprev == 0\"]}\n", f));
  EXPECT_TRUE(matches("      object: {fields: [\"d_flags == 4718796\", \"d_flags & 0x8 == 0x8\", \"d_flags & 0x1 == 0\"]}\n", f));
  EXPECT_FALSE(matches("      object: {fields: [\"d_flags & 0x1 != 0\"]}\n", f));
  // A signed field compares as signed: -3 < 0, although its bits are a huge unsigned number.
  EXPECT_TRUE(matches("      object: {fields: [\"d_lockref.count < 0\", \"d_lockref.count >= -3\"]}\n", f));
  EXPECT_FALSE(matches("      object: {fields: [\"d_lockref.count > 0\"]}\n", f));
  EXPECT_TRUE(matches("      object: {fields: [\"d_iname holds POISON_INUSE\", \"d_iname holds poison\"]}\n", f));
  EXPECT_FALSE(matches("      object: {fields: [\"d_iname holds POISON_FREE\"]}\n", f));
  EXPECT_FALSE(matches("      object: {fields: [\"d_no_such_field == 0\"]}\n", f));  // unreadable: no match
  EXPECT_FALSE(matches("      object: {type: inode}\n", f));
  EXPECT_TRUE(matches("      object: {cache: \"dent.*\", freed: false, place: slab}\n", f));
  EXPECT_FALSE(matches("      object: {place: dead-stack-frame}\n", f));

  std::vector<std::string> evidence;
  auto rules = parse_rules("rules: [{id: t, title: t, when: {object: {fields: [\"d_hash.pprev != 0\"]}}}]", "t.yaml");
  ASSERT_TRUE(rules.ok());
  ASSERT_TRUE(holds(rules->front().when, f, evidence));
  ASSERT_EQ(evidence.size(), 2u);
  EXPECT_EQ(evidence[0], "allocated struct dentry (cache dentry) 0xffff880055dbd2e8 (register si of the exception at frame #0 d_splice_alias)");
  EXPECT_EQ(evidence[1], "field d_hash.pprev = 0xffffc900000fd9c0 (d_hash.pprev != 0)");
}

TEST(Rules, SameObjectBindsTheThreadToTheObjectTheRuleMatched) {
  Facts f = seed_000_facts();
  const std::string rule = "      all:\n        - thread: {stack: [thread_exit, proc_exit], other_process: true, same_object: true}\n"
                           "        - object: {type: htable_t, freed: true}\n";
  EXPECT_TRUE(matches(rule, f));  // written after the thread, the object is still matched first
  // The sched thread holds an htable too, but not the freed one: the relation is to that object.
  EXPECT_FALSE(matches("      all:\n        - object: {type: htable_t, freed: true}\n"
                       "        - thread: {stack: [swtch, proc_exit], same_object: true}\n", f));
  EXPECT_TRUE(matches("      all:\n        - object: {freed: false}\n"
                      "        - thread: {stack: [swtch, proc_exit], same_object: true}\n", f));
  // Without an object condition, any object the evidence found will do.
  EXPECT_TRUE(matches("      thread: {stack: [swtch], same_object: true}\n", f));
  f.objects[1].holders.pop_back();
  EXPECT_FALSE(matches(rule, f));

  auto rules = parse_rules("rules: [{id: t, title: t, os: illumos, when: [{object: {freed: true}}, "
                           "{thread: {stack: [proc_exit], same_object: true}}]}]", "t.yaml");
  ASSERT_TRUE(rules.ok()) << rules.error().message;
  f = seed_000_facts();
  auto verdicts = evaluate(*rules, f);
  ASSERT_EQ(verdicts.size(), 1u);
  ASSERT_EQ(verdicts[0].evidence.size(), 2u);
  EXPECT_EQ(verdicts[0].evidence[1],
            "thread pid 2 (sh): #4 proc_exit; holds the same object 0xffffd0576bff2800 (stack slot 0x2)");
}

TEST(Rules, ObjectsOnAnotherThreadsDeadStackFrame) {
  Facts f;
  ObjectFacts o;
  o.address = 0xffffc90000123e40;
  o.place = ObjectPlace::stack;
  o.found_as = "register di; on the stack of pid 7 (ext4lazyinit), below the stack pointer";
  f.objects = {o};
  EXPECT_TRUE(matches("      object: {place: stack}\n", f));
  EXPECT_FALSE(matches("      object: {place: dead-stack-frame}\n", f));
  EXPECT_FALSE(matches("      object: {place: slab}\n", f));
  f.objects[0].dead_frame = true;
  EXPECT_TRUE(matches("      object: {place: dead-stack-frame}\n", f));
}

// The facts of a crash with one thread, the crashing one, and one object.
static Facts crashing_thread_and(ThreadFacts thread, ObjectFacts object) {
  Facts f;
  f.threads = {std::move(thread)};
  f.crashing = 0;
  f.objects = {std::move(object)};
  return f;
}

// An object reached through another object's field counts only for rules that ask for it: a
// freed object two pointers from the crash is not what the crash used.
TEST(Rules, ObjectsReachedThroughPointersCountOnlyWhereTheRuleSaysSo) {
  ObjectFacts o;
  o.address = 0xffffc90000123e40;
  o.place = ObjectPlace::stack;
  o.dead_frame = true;
  o.pointers = 1;
  o.found_as = "struct coroner_request 0xffff888004a1c000 .private -> (1 pointer from what the crashing thread used)";
  Facts f = crashing_thread_and({42, 42, "kworker/0:1", {"complete", "process_one_work"}, 'R'}, o);
  EXPECT_FALSE(matches("      object: {place: dead-stack-frame}\n", f));
  EXPECT_TRUE(matches("      object: {place: dead-stack-frame, pointers: 1}\n", f));
  EXPECT_TRUE(matches("      object: {place: dead-stack-frame, pointers: 2}\n", f));
  f.objects[0].pointers = 2;
  EXPECT_FALSE(matches("      object: {place: dead-stack-frame, pointers: 1}\n", f));
  auto bad = parse_rules("rules: [{id: t, title: t, when: {object: {pointers: many}}}]", "t.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("t.yaml:1:"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("expected a number from 0 to 8"), std::string::npos) << bad.error().message;
}

// Reallocated: freed and allocated again by threads other than the crashing one (its holder),
// within the rule's seconds of the crash.
TEST(Rules, ReallocatedObjectsNameBothLivesAndOnlyOtherThreadsCount) {
  ObjectFacts o;
  o.address = 0xffff888004a1c000;
  o.cache = "coroner_entry";
  o.found_as = "register di of the exception at frame #0 coroner_check_entry";
  o.reallocation = Reallocation{301, 302, "coroner_reaper", "coroner_refill", 0.42, 0.31};
  Facts f = crashing_thread_and({300, 300, "insmod", {"coroner_check_entry", "do_one_initcall"}, 'R'}, o);
  const std::string rule = "      object: {freed: false, operand: true, reallocated: true, reallocated_within: 30}\n";
  EXPECT_FALSE(matches(rule, f));  // a recycled object the registers hold, but not what the check read
  f.objects[0].operand = true;
  EXPECT_TRUE(matches(rule, f));
  std::vector<std::string> evidence;
  auto rules = parse_rules("rules: [{id: t, title: t, when: {object: {reallocated: true}}}]", "t.yaml");
  ASSERT_TRUE(rules.ok());
  ASSERT_TRUE(holds(rules->front().when, f, evidence));
  EXPECT_EQ(evidence.at(0),
            "allocated coroner_entry object 0xffff888004a1c000 (register di of the exception at frame #0 coroner_check_entry); "
            "freed by pid 301 in coroner_reaper 0.42 s before the crash, allocated again by pid 302 in coroner_refill "
            "0.31 s before the crash");
  EXPECT_FALSE(matches("      object: {reallocated: true, reallocated_within: 0.3}\n", f));  // freed 0.42 s before
  f.objects[0].reallocation->free_pid = 300;  // the holder freed it itself: its own bug, not this race
  EXPECT_FALSE(matches(rule, f));
  EXPECT_TRUE(matches("      object: {reallocated: false}\n", f));
  f.objects[0].reallocation->free_pid = 301;
  f.objects[0].reallocation->free_age.reset();  // HZ unknown: no age, no `within`
  EXPECT_TRUE(matches("      object: {reallocated: true}\n", f));
  EXPECT_FALSE(matches(rule, f));
  f.objects[0].reallocation.reset();
  EXPECT_FALSE(matches("      object: {reallocated: true}\n", f));
}

TEST(Rules, FieldTestsAreParsedWithErrorsThatSayWhatIsExpected) {
  auto t = parse_field_test("flags & 0x8 == 0");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->path, "flags");
  EXPECT_EQ(t->mask, 0x8u);
  EXPECT_EQ(t->op, FieldTest::Op::eq);
  t = parse_field_test("ht_valid_cnt < -1");
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->negative);
  EXPECT_EQ(static_cast<int64_t>(t->value), -1);
  t = parse_field_test("d_lockref.lock.rlock.magic holds POISON_FREE");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->path, "d_lockref.lock.rlock.magic");
  EXPECT_EQ(t->pattern, "POISON_FREE");
  EXPECT_TRUE(parse_field_test("a[2].b->c >= 0x10").ok());
  EXPECT_FALSE(parse_field_test("flags === 0").ok());
  EXPECT_FALSE(parse_field_test("flags == zero").ok());
  EXPECT_FALSE(parse_field_test("== 0").ok());

  auto r = parse_rules("rules:\n  - id: a\n    title: t\n    when:\n      object: {fields: [\"d_flags ~ 3\"]}\n", "bad.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("bad.yaml:5:25: a field test is `PATH OP NUMBER`"), std::string::npos) << r.error().message;
  r = parse_rules("rules:\n  - id: a\n    title: t\n    when:\n      object: {colour: red}\n", "bad.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("bad.yaml:5:16: unknown `object` key `colour`"), std::string::npos) << r.error().message;
  r = parse_rules("rules:\n  - id: a\n    title: t\n    when:\n      object: {place: heap}\n", "bad.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("`place` is slab, stack, dead-stack-frame, panic-message or frame"), std::string::npos);
}

namespace {

std::vector<std::string> shipped_verdicts(const Facts& f) {
  std::vector<std::string> ids;
  for (const auto& v : evaluate(shipped_rules(), f)) ids.push_back(v.rule->id);
  return ids;
}

// Seed 004 as its report shows it: the BUG, the open path's stack, the dentry in RSI.
Facts seed_004_facts() {
  Facts f;
  f.panic = {"Kernel panic - not syncing: Fatal exception", "kernel BUG at /home/green/bk/linux/fs/dcache.c:2989!"};
  f.log = {"kernel BUG at /home/green/bk/linux/fs/dcache.c:2989!", "invalid opcode: 0000 [#1] SMP"};
  f.threads = {{2894259, 2894259, "cat",
                {"d_splice_alias", "nfs4_do_open", "nfs4_atomic_open", "nfs_atomic_open", "lookup_open", "path_openat",
                 "do_filp_open", "do_sys_open", "SyS_open"}}};
  f.crashing = 0;
  f.objects = {seed_004_dentry()};
  return f;
}

// Seed 003 as its report describes it: complete() in softirq on the ext4lazyinit thread's dead frame.
Facts seed_003_facts() {
  Facts f;
  f.log = {"BUG: spinlock bad magic on CPU#10, ext4lazyinit/3457"};
  f.threads = {{0, 0, "swapper",
                {"spin_bug", "do_raw_spin_lock", "_raw_spin_lock_irqsave", "complete", "bio_batch_end_io", "bio_endio",
                 "req_bio_endio", "blk_update_request", "scsi_io_completion", "blk_done_softirq", "__do_softirq"}},
               {3457, 3457, "ext4lazyinit", {"schedule", "schedule_timeout", "ext4_lazyinit_thread", "kthread"}, 'S'}};
  f.crashing = 0;
  ObjectFacts wait;
  wait.address = 0xffff88202f0bfc30;
  wait.place = ObjectPlace::stack;
  wait.dead_frame = true;
  wait.found_as = "register di of the exception at frame #0 spin_bug; on the stack of pid 3457 (ext4lazyinit), below the stack pointer";
  wait.holders = {{1, "on its own stack, below the stack pointer"}};
  f.objects = {wait};
  return f;
}

}  // namespace

TEST(SeedRules, EachSeedsFactsGetItsRuleFirstAndNoOtherSeedRule) {
  auto seed_004 = shipped_verdicts(seed_004_facts());
  ASSERT_FALSE(seed_004.empty());
  EXPECT_EQ(seed_004.front(), "linux.d-splice-alias-hashed-dentry");
  // The evidence docs/rules.md shows for it, word for word.
  EXPECT_EQ(evaluate(shipped_rules(), seed_004_facts()).front().evidence,
            (std::vector<std::string>{
                "log: \"kernel BUG at /home/green/bk/linux/fs/dcache.c:2989!\"",
                "crashing thread pid 2894259 (cat): #0 d_splice_alias, #1 nfs4_do_open, #4 lookup_open",
                "allocated struct dentry (cache dentry) 0xffff880055dbd2e8 (register si of the exception at frame #0 d_splice_alias)",
                "field d_hash.pprev = 0xffffc900000fd9c0 (d_hash.pprev != 0)",
                "field d_inode = 0xffff880066d8ab38 (d_inode != 0)"}));
  auto seed_003 = shipped_verdicts(seed_003_facts());
  ASSERT_FALSE(seed_003.empty());
  EXPECT_EQ(seed_003.front(), "linux.completion-on-dead-stack-frame");
  EXPECT_EQ(std::count(seed_003.begin(), seed_003.end(), "linux.d-splice-alias-hashed-dentry"), 0);
  EXPECT_EQ(std::count(seed_004.begin(), seed_004.end(), "linux.completion-on-dead-stack-frame"), 0);
  EXPECT_EQ(shipped_verdicts(uaf_facts()), std::vector<std::string>{"linux.use-after-free.poison-pointer"});

  // Near misses stay silent: the same stack with an unhashed dentry; a live frame instead of a dead one.
  Facts unhashed = seed_004_facts();
  auto reader = unhashed.objects[0].field;
  unhashed.objects[0].field = [reader](const std::string& path) -> std::optional<FieldValue> {
    if (path == "d_hash.pprev") return FieldValue{0, false, "", "0"};
    return reader(path);
  };
  auto unhashed_ids = shipped_verdicts(unhashed);
  EXPECT_EQ(std::count(unhashed_ids.begin(), unhashed_ids.end(), "linux.d-splice-alias-hashed-dentry"), 0);
  EXPECT_EQ(unhashed_ids.front(), "linux.kernel-bug");
  Facts live = seed_003_facts();
  live.objects[0].dead_frame = false;
  auto live_ids = shipped_verdicts(live);
  EXPECT_EQ(std::count(live_ids.begin(), live_ids.end(), "linux.completion-on-dead-stack-frame"), 0);

  // Comment 8's variant: ext4lazyinit hung in the zeroout's wait.
  Facts hung;
  hung.log = {"INFO: task ext4lazyinit:3457 blocked for more than 120 seconds.",
              "\"echo 0 > /proc/sys/kernel/hung_task_timeout_secs\" disables this message."};
  hung.panic = {"Kernel panic - not syncing: hung_task: blocked tasks"};
  hung.threads = {{40, 40, "khungtaskd", {"watchdog", "kthread"}},
                  {3457, 3457, "ext4lazyinit",
                   {"schedule", "schedule_timeout", "wait_for_common", "wait_for_completion", "blkdev_issue_zeroout",
                    "ext4_init_inode_table", "ext4_lazyinit_thread", "kthread"}, 'D'}};
  hung.crashing = 0;
  auto hung_ids = shipped_verdicts(hung);
  EXPECT_EQ(hung_ids, (std::vector<std::string>{"linux.zeroout-completion-never-comes", "linux.hung-task"}));
}

TEST(OsModels, TheShippedModelsParseAndBadOnesSayWhere) {
  const auto& models = coroner::os_model::shipped_os_models();
  std::set<std::string> files;
  for (const auto& m : models) files.insert(m.file + " " + m.os);
  EXPECT_EQ(files, (std::set<std::string>{"data/os/freebsd.yaml freebsd", "data/os/illumos.yaml illumos",
                                          "data/os/linux-2.6.yaml linux", "data/os/linux-3.11.yaml linux"}));
  // `absent` keeps the 3.11-4.8 model off a 4.9 kernel, whose switch frame is __switch_to_asm's.
  auto detected = [](std::set<std::string> symbols) {
    const auto* m = coroner::os_model::detect_os_model([&](const std::string& s) { return symbols.contains(s); });
    return m ? m->file : std::string("none");
  };
  std::set<std::string> linux_4_7 = {"init_task", "log_first_idx", "log_next_idx", "__schedule"};
  EXPECT_EQ(detected(linux_4_7), "data/os/linux-3.11.yaml");
  linux_4_7.insert("__switch_to_asm");
  EXPECT_EQ(detected(linux_4_7), "none");
  EXPECT_EQ(detected({"init_task", "thread_return", "log_end", "log_buf"}), "data/os/linux-2.6.yaml");
  auto error = [](const std::string& yaml) {
    auto m = coroner::os_model::parse_os_model(yaml, "m.yaml");
    return m ? std::string("no error") : m.error().message;
  };
  const std::string ok = "os: x\ndetect: [a]\nthreads: {type: t, first: a, next: n, pc: p, fp: f, stack_low: l, stack_high: h}\n";
  EXPECT_EQ(error(ok), "no error");
  EXPECT_NE(error(ok + "interrupt_stack: {size: 12288, interrupted_sp: -8}\n").find("a power of two"), std::string::npos);
  EXPECT_NE(error(ok + "panic: {registers: gdb}\n").find("the only `registers` source is `prstatus`"), std::string::npos);
  EXPECT_NE(error(ok + "log: {buffer: b, size: s}\n").find("or `record`, `first` and `next`"), std::string::npos)
      << error(ok + "log: {buffer: b, size: s}\n");
  EXPECT_EQ(error(ok + "colour: red\n").rfind("m.yaml:4:1: unknown `model` key `colour`", 0), 0u) << error(ok + "colour: red\n");
  EXPECT_NE(error("os: x\ndetect: [a]\nthreads: {type: t, first: a, next: n, pc: p, fp: f, stack_low: l}\n")
                .find("give the stack's end as one of `stack_high` or `stack_pages`"),
            std::string::npos);
  EXPECT_NE(error(ok + "allocator: {kind: slab, caches: {type: c, first: a, next: b}}\n").find("allocator kinds known are"),
            std::string::npos);
  // Detection: every detect symbol must be there.
  auto illumos = coroner::os_model::detect_os_model([](const std::string& s) {
    return s == "allthreads" || s == "panicstr" || s == "panic_thread";
  });
  ASSERT_NE(illumos, nullptr);
  EXPECT_EQ(illumos->os, "illumos");
  EXPECT_EQ(coroner::os_model::detect_os_model([](const std::string& s) { return s == "panicstr"; }), nullptr);
}

TEST(CrashSignature, NumbersOutMachineryOutStable) {
  // Linux: past the oops machinery (the last asm_ entry), numbers and addresses taken out.
  auto linux_sig = crash_signature("general protection fault for 0x6b6b6b6b6b6b6b73: 0000 [#1] stuck for 22s!",
                                   {"panic", "oops_end", "asm_exc_general_protection", "coroner_crash", "do_one_initcall"},
                                   crash_machinery());
  EXPECT_EQ(linux_sig.substr(17), "general protection fault for N: N [#N] stuck for Ns! | coroner_crash | do_one_initcall");
  EXPECT_EQ(linux_sig, crash_signature("general protection fault for 0x6b6b6b6b6b6b6b00: 0000 [#1] stuck for 23s!",
                                       {"panic", "oops_end", "asm_exc_general_protection", "coroner_crash", "do_one_initcall"},
                                       crash_machinery()));
  // A trap at the outer end (the fault came from user mode) does not cut the stack.
  auto bsd = crash_signature("freeing mapped page 0xfffff8007e1a2480",
                             {"vpanic", "panic", "vm_page_free", "vm_fault", "trap_pfault", "trap"},
                             {"vpanic", "panic", "trap_pfault", "trap"});
  EXPECT_EQ(bsd.substr(17), "freeing mapped page N | vm_page_free | vm_fault | trap_pfault");
}

// One bug, one signature on every build: 6.1 has __handle_sysrq.cold where 6.12 has
// __handle_sysrq; clones and split parts are their function, and so is machinery.
TEST(CrashSignature, CompilerClonesAreTheirFunction) {
  auto sysrq = [](std::vector<std::string> frames) {
    return crash_signature("sysrq triggered crash", frames, crash_machinery());
  };
  auto built_61 = sysrq({"panic", "sysrq_handle_crash", "__handle_sysrq.cold", "write_sysrq_trigger", "proc_reg_write"});
  auto built_612 = sysrq({"panic", "sysrq_handle_crash", "__handle_sysrq", "write_sysrq_trigger", "proc_reg_write"});
  EXPECT_EQ(built_61, built_612);
  // Three frames: further out, two builds differ where the bug does not.
  EXPECT_EQ(built_612.substr(17), "sysrq triggered crash | sysrq_handle_crash | __handle_sysrq | write_sysrq_trigger");
  EXPECT_EQ(sysrq({"panic.cold", "f.isra.0", "g.constprop.0.isra.0", "h.part.0", "i.llvm.1234"}).substr(17),
            "sysrq triggered crash | f | g | h");
  EXPECT_EQ(sysrq({"panic", "i.llvm.1234"}).substr(17), "sysrq triggered crash | i");
  EXPECT_NE(built_61, sysrq({"panic", "sysrq_handle_crash", "__handle_sysrq_other", "write_sysrq_trigger"}));
  EXPECT_EQ(function_base_name(".Lframe"), ".Lframe");
  EXPECT_EQ(function_base_name("ext4_lazyinit_thread.cold"), "ext4_lazyinit_thread");
}

// A word of a crashing frame read as a type (seed 002's `p/x lwb->lwb_issued_timestamp` in
// zil_lwb_write_issue's frame): the first word whose fields all hold is the object.
TEST(Rules, FrameWordsReadAsTheRulesType) {
  Facts f;
  f.crashing_frames = {{7, "zio_nowait", {{0xfffffe0000001000, 0xdeadc0dedeadc0de}}, {}},
                       {8, "zil_lwb_write_issue", {{0xfffffe0000001100, 0xffffffff80200100}, {0xfffffe0000001108, 0xfffff80123456000}}, {}}};
  f.read_as = [](uint64_t address, const std::string& type) -> FieldReader {
    return [address, type](const std::string& path) -> std::optional<FieldValue> {
      if (type != "lwb_t" || path != "lwb_child_zio") return std::nullopt;
      if (address == 0xfffff80123456000) return FieldValue{0xdeadc0dedeadc0de, false, "UMA_JUNK", "0xdeadc0dedeadc0de, UMA_JUNK"};
      return FieldValue{0x1234, false, "", "0x1234"};
    };
  };
  const std::string rule = "      object: {place: frame, frame: zil_lwb_write_issue, as: lwb_t, fields: [\"lwb_child_zio holds UMA_JUNK\"]}\n";
  EXPECT_TRUE(matches(rule, f));
  EXPECT_FALSE(matches("      object: {place: frame, frame: zio_nowait, as: lwb_t, fields: [\"lwb_child_zio holds UMA_JUNK\"]}\n", f));
  f.read_as = nullptr;
  EXPECT_FALSE(matches(rule, f));
  auto r = parse_rules("rules:\n  - id: a\n    title: t\n    when:\n      object: {place: frame, as: lwb_t}\n", "bad.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("`place: frame` needs `frame: FUNCTION` and `variable: NAME`"), std::string::npos)
      << r.error().message;
}

// kgdb's `p lwb` in that frame: the variable the debug info places there, read as what it points
// to, and only that one (a word elsewhere in the frame that would pass does not count).
TEST(Rules, FrameVariablesAreReadAsTheTypeTheyPointTo) {
  Facts f;
  f.crashing_frames = {{8, "zil_lwb_write_issue", {{0xfffffe0000001100, 0xfffff80123456000}},
                        {{"zilog", "zilog_t *", "zilog_t", true, 0xfffffe0000001108, 0xfffff8010d2a6000},
                         {"lwb", "lwb_t *", "lwb_t", true, 0xfffffe0000001110, 0xfffff80123457000}}}};
  std::string read_type;
  f.read_as = [&read_type](uint64_t address, const std::string& type) -> FieldReader {
    read_type = type;
    return [address](const std::string& path) -> std::optional<FieldValue> {
      if (path != "lwb_child_zio") return std::nullopt;
      if (address == 0xfffff80123456000) return FieldValue{0xdeadc0dedeadc0de, false, "UMA_JUNK", "0xdeadc0dedeadc0de, UMA_JUNK"};
      return FieldValue{0x1234, false, "", "0x1234"};
    };
  };
  const std::string rule = "      object: {place: frame, frame: zil_lwb_write_issue, variable: lwb, fields: [\"lwb_child_zio != 0\"]}\n";
  EXPECT_TRUE(matches(rule, f));
  EXPECT_EQ(read_type, "lwb_t");  // the pointee, from the debug info
  // The word at 0xfffffe0000001100 holds junk, but it is not `lwb`: the variable decides.
  EXPECT_FALSE(matches("      object: {place: frame, frame: zil_lwb_write_issue, variable: lwb, fields: [\"lwb_child_zio holds UMA_JUNK\"]}\n", f));
  EXPECT_FALSE(matches("      object: {place: frame, frame: zil_lwb_write_issue, variable: nosuch}\n", f));
  EXPECT_TRUE(matches("      object: {place: frame, frame: zil_lwb_write_issue, variable: zilog, as: lwb_t}\n", f));
  EXPECT_EQ(read_type, "lwb_t");  // `as` overrides
  auto r = parse_rules("rules:\n  - id: a\n    title: t\n    when:\n      object: {variable: lwb}\n", "bad.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("it needs `place: frame`"), std::string::npos) << r.error().message;
}

TEST(Rules, ObjectIndexFindsTheObjectAValuePointsIntoAndHoldersOnce) {
  ObjectIndex index;
  index.add(0, 0xffff888000002000, 80);
  index.add(1, 0xffff888000001000, 0);  // added out of order; size 0 counts as one byte
  EXPECT_EQ(index.find(0xffff888000002000), 0u);
  EXPECT_EQ(index.find(0xffff88800000204f), 0u);
  EXPECT_EQ(index.find(0xffff888000002050), std::nullopt);
  EXPECT_EQ(index.find(0xffff888000001000), 1u);
  EXPECT_EQ(index.find(0xffff888000001001), std::nullopt);
  EXPECT_EQ(index.find(0x1000), std::nullopt);
  ObjectFacts o;
  add_holder(o, 3, "stack slot 0x1");
  add_holder(o, 3, "stack slot 0x2");
  add_holder(o, 4, "register rdi");
  ASSERT_EQ(o.holders.size(), 2u);
  EXPECT_EQ(o.holders[0].where, "stack slot 0x1");
}

namespace {

// A rule that reads a frame variable, on facts that cannot have one (the types are BTF's): it is
// said not to be evaluated, naming the variable and why; a rule that matched, or facts with DWARF,
// say nothing.
TEST(Rules, ARuleNeedingAFrameVariableSaysItCouldNotBeEvaluatedWithoutDwarf) {
  auto rules = parse_rules("rules:\n"
                           "  - {id: needs-lwb, title: t, os: any, when: {any: [{panic: nomatch}, {object: {place: frame, "
                           "frame: zil_lwb_write_issue, variable: lwb}}]}}\n"
                           "  - {id: plain, title: t, os: any, when: {panic: nomatch}}\n",
                           "t.yaml");
  ASSERT_TRUE(rules.ok()) << rules.error().message;
  Facts f;
  EXPECT_TRUE(not_evaluated(*rules, f, {}).empty());
  f.no_frame_variables = "frame variables need DWARF";
  auto why = not_evaluated(*rules, f, {});
  ASSERT_EQ(why.size(), 1u);
  EXPECT_EQ(why[0], "rule needs-lwb could not be evaluated: it reads lwb in the frame of zil_lwb_write_issue, and "
                    "frame variables need DWARF");
  std::vector<Verdict> matched{{&rules->front(), {}}};
  EXPECT_TRUE(not_evaluated(*rules, f, matched).empty());
}

}  // namespace
