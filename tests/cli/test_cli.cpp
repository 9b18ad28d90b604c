// The coroner command line on synthetic dumps: output, JSON, exit status and error messages.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "../support/dump_builder.hpp"
#include "../support/run_command.hpp"
#include "../support/temp_file.hpp"

using namespace coroner;
using namespace coroner::testing;

namespace {

const std::string kCoroner = CORONER_BINARY;

Bytes synthetic_kdump() {
  SyntheticKernel k(4);
  k.write_log({{1000, "Linux version 6.1.0-synthetic (a@b) (gcc (X) 1.0) #7 SMP Synthetic"},
               {2000, "sysrq: Trigger a crash"},
               {3000, "Kernel panic - not syncing: sysrq triggered crash"}},
              4, 10);
  std::string vi = k.vmcoreinfo();
  return build_kdump(k.memory(), 1024, build_notes({{1, 0, 0, 0}, {2, 0, 0, 0}}, vi), vi, {});
}

}  // namespace

TEST(Cli, InfoJsonDescribesTheDump) {
  TempFile dump(synthetic_kdump());
  auto r = run_command(kCoroner + " info --json " + dump.path());
  ASSERT_EQ(r.status, 0) << r.output;
  auto j = nlohmann::json::parse(r.output);
  EXPECT_EQ(j["schema"], "coroner.info");
  EXPECT_EQ(j["dump"]["format"], "kdump-compressed");
  EXPECT_EQ(j["dump"]["compression"], "zlib");
  EXPECT_EQ(j["release"]["value"], "6.1.0-synthetic");
  EXPECT_EQ(j["version"]["value"], "#7 SMP Synthetic");
  EXPECT_EQ(j["cpus"]["value"], 2);
  EXPECT_EQ(j["panic_message"]["value"], "Kernel panic - not syncing: sysrq triggered crash");
  EXPECT_EQ(j["panic_cause"]["value"], "sysrq: Trigger a crash");
  EXPECT_EQ(j["vmlinux"]["verdict"], "not given");
}

std::vector<uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

// A sysrq crash as a serial console printed it, CRLF and all.
const std::string kSysrqConsole =
    "[    2.998493] sysrq: Trigger a crash\r\n"
    "[    2.998842] Kernel panic - not syncing: sysrq triggered crash\r\n"
    "[    2.999100] CPU: 0 PID: 1 Comm: init Not tainted 6.1.0-57-amd64 #1  Debian 6.1.192-3\r\n"
    "[    2.999200] Call Trace:\r\n"
    "[    2.999300]  <TASK>\r\n"
    "[    2.999400]  dump_stack_lvl+0x44/0x5c\r\n"
    "[    2.999500]  panic+0x118/0x2f4\r\n"
    "[    2.999600]  sysrq_handle_crash+0x16/0x20\r\n"
    "[    2.999700]  __handle_sysrq.cold+0x44/0x11c\r\n"
    "[    2.999800]  write_sysrq_trigger+0x24/0x40\r\n"
    "[    3.000000]  </TASK>\r\n";

TEST(Cli, AnalyzeLogNamesTheCrashWithoutADump) {
  TempFile log(bytes_of(kSysrqConsole));
  auto r = run_command(kCoroner + " analyze --log " + log.path() + " --format json");
  ASSERT_EQ(r.status, 0) << r.output;
  auto j = nlohmann::json::parse(r.output);
  EXPECT_TRUE(j["dump"].is_null());
  EXPECT_EQ(j["log"], log.path());
  EXPECT_EQ(j["title"], "kernel panic: sysrq triggered crash");
  EXPECT_EQ(j["type"], "sysrq");
  EXPECT_EQ(j["corrupted"], false);
  EXPECT_EQ(j["guilty_frame"], "sysrq_handle_crash");
  EXPECT_EQ(j["cause"], "sysrq: Trigger a crash");
  EXPECT_EQ(j["signature"].get<std::string>().substr(17),
            "kernel panic: sysrq triggered crash | sysrq_handle_crash | __handle_sysrq | write_sysrq_trigger");
  EXPECT_EQ(j["report"]["pid"], 1);
  EXPECT_EQ(j["report"]["comm"], "init");
  ASSERT_EQ(j["verdicts"].size(), 1u);  // its conditions are the panic, the log and the stack: a log answers them
  EXPECT_EQ(j["verdicts"][0]["id"], "linux.sysrq-crash");
  bool needs_dump = false;
  for (const auto& p : j["problems"]) needs_dump |= p.get<std::string>().find("needs a dump: it reads") != std::string::npos;
  EXPECT_TRUE(needs_dump) << j["problems"].dump();  // the rules that read memory say so
  // Standard input, and every format.
  auto text = run_command(kCoroner + " analyze --log - < " + log.path());
  EXPECT_EQ(text.status, 0);
  EXPECT_NE(text.output.find("title     kernel panic: sysrq triggered crash\n"), std::string::npos) << text.output;
  auto md = run_command(kCoroner + " analyze --log " + log.path() + " --format markdown");
  EXPECT_NE(md.output.find("| title | `kernel panic: sysrq triggered crash` |"), std::string::npos) << md.output;
}

TEST(Cli, AnalyzeLogOfABootSaysItHoldsNoCrash) {
  TempFile log(bytes_of("[    0.000000] Linux version 6.1.0-57-amd64 (a@b) (gcc 12) #1 SMP Debian\n[    1.0] Run /init\n"));
  auto r = run_command(kCoroner + " analyze --log " + log.path() + " --format json");
  ASSERT_EQ(r.status, 0) << r.output;
  auto j = nlohmann::json::parse(r.output);
  EXPECT_TRUE(j["title"].is_null());
  EXPECT_TRUE(j["report"].is_null());
  EXPECT_EQ(j["release"], "6.1.0-57-amd64");
  EXPECT_NE(j["problems"].dump().find("the log holds no crash report"), std::string::npos);
  auto missing = run_command(kCoroner + " analyze --log /nonexistent/console.log");
  EXPECT_NE(missing.status, 0);
  EXPECT_NE(missing.output.find("/nonexistent/console.log: cannot read the log"), std::string::npos) << missing.output;
  auto neither = run_command(kCoroner + " analyze");
  EXPECT_NE(neither.status, 0);
  EXPECT_NE(neither.output.find("--log"), std::string::npos) << neither.output;
}

TEST(Cli, LogPrintsLikeDmesg) {
  TempFile dump(synthetic_kdump());
  auto r = run_command(kCoroner + " log " + dump.path());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output,
            "[    0.000001] Linux version 6.1.0-synthetic (a@b) (gcc (X) 1.0) #7 SMP Synthetic\n"
            "[    0.000002] sysrq: Trigger a crash\n"
            "[    0.000003] Kernel panic - not syncing: sysrq triggered crash\n");
  auto t = run_command(kCoroner + " log -T " + dump.path());
  EXPECT_NE(t.output.find("[    0.000002] [C1] sysrq: Trigger a crash\n"), std::string::npos) << t.output;
  auto j = run_command(kCoroner + " log --json " + dump.path());
  auto parsed = nlohmann::json::parse(j.output);
  EXPECT_EQ(parsed["records"].size(), 3u);
  EXPECT_EQ(parsed["records"][2]["timestamp_ns"], 3000);
}

TEST(Cli, MissingDumpFailsNamingTheFile) {
  auto r = run_command(kCoroner + " info /nonexistent/vmcore");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find("/nonexistent/vmcore: cannot open"), std::string::npos) << r.output;
}

TEST(Cli, GarbageFileFailsWithWhatWasExpected) {
  TempFile junk(Bytes(4096, 'x'));
  auto r = run_command(kCoroner + " info " + junk.path());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find(junk.path() + ": offset 0x0: not a crash dump"), std::string::npos) << r.output;
}

TEST(Cli, VmlinuxThatIsNotElfFailsNamingIt) {
  TempFile dump(synthetic_kdump());
  TempFile junk(Bytes(100, 'x'));
  auto r = run_command(kCoroner + " info " + dump.path() + " --vmlinux " + junk.path());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.output.find(junk.path() + ": not an ELF file"), std::string::npos) << r.output;
}

TEST(Cli, WrongVmlinuxIsReportedAndExitsWithStatus3) {
  SyntheticKernel k(4);
  std::string vi = k.vmcoreinfo() + "BUILD-ID=00112233445566778899aabbccddeeff00112233\n";
  TempFile dump(build_kdump(k.memory(), 1024, build_notes({{1, 0, 0, 0}}, vi), vi, {}));
  auto r = run_command(kCoroner + " info " + dump.path() + " --vmlinux " + CORONER_FAKE_VMLINUX);
  EXPECT_EQ(r.status, 3);
  EXPECT_NE(r.output.find("VMLINUX: MISMATCH (by build-id)"), std::string::npos) << r.output;
}

TEST(Cli, UserSpaceCoreFromGcoreShowsTheProcess) {
  std::string base = "/tmp/coroner-gcore-test";
  auto made = run_command("sleep 30 & pid=$!; gcore -o " + base + " $pid >/dev/null 2>&1; kill $pid; echo $pid");
  int pid = std::stoi(made.output);
  std::string core = base + "." + std::to_string(pid);
  auto r = run_command(kCoroner + " info --json " + core);
  std::remove(core.c_str());
  ASSERT_EQ(r.status, 0) << r.output;
  auto j = nlohmann::json::parse(r.output);
  EXPECT_EQ(j["dump"]["producer"], "user-space core");
  EXPECT_EQ(j["process"]["pid"], pid);
  EXPECT_EQ(j["process"]["command"], "sleep");
  ASSERT_EQ(j["threads"].size(), 1u);
  EXPECT_EQ(j["threads"][0]["tid"], pid);
  bool maps_sleep = false;
  for (const auto& f : j["mapped_files"]) maps_sleep |= f["path"].get<std::string>().ends_with("/sleep");
  EXPECT_TRUE(maps_sleep) << j["mapped_files"].dump();
}

TEST(Cli, StructLayoutNeedsOnlyTheVmlinux) {
  auto r = run_command(kCoroner + " struct -k " + CORONER_TYPES_FIXTURE + " node -o");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output.rfind("struct node {\n    [0] int id;\n", 0), 0u) << r.output;
  EXPECT_NE(r.output.find("\nSIZE: 152\n"), std::string::npos);
  auto j = run_command(kCoroner + " struct --json -k " + CORONER_TYPES_FIXTURE + " 'struct list_head'");
  ASSERT_EQ(j.status, 0) << j.output;
  auto layout = nlohmann::json::parse(j.output);
  EXPECT_EQ(layout["schema"], "coroner.layout");
  EXPECT_EQ(layout["members"][1]["name"], "prev");
  EXPECT_EQ(layout["members"][1]["offset"], 8);
}

TEST(Cli, StructErrorsSayWhatToDo) {
  auto no_dump = run_command(kCoroner + " struct -k " + CORONER_TYPES_FIXTURE + " node ffffffff81003000");
  EXPECT_EQ(no_dump.status, 2) << no_dump.output;
  EXPECT_NE(no_dump.output.find("an address needs a dump"), std::string::npos) << no_dump.output;
  auto unknown = run_command(kCoroner + " struct -k " + CORONER_TYPES_FIXTURE + " no_such_struct");
  EXPECT_EQ(unknown.status, 1);
  EXPECT_NE(unknown.output.find("no type 'no_such_struct' in the debug info of " + std::string(CORONER_TYPES_FIXTURE)),
            std::string::npos) << unknown.output;
  auto stripped = run_command(kCoroner + " struct -k /dev/null node");
  EXPECT_EQ(stripped.status, 1);
  EXPECT_NE(stripped.output.find("/dev/null"), std::string::npos) << stripped.output;
}
