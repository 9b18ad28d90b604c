#include <fstream>
#include <iostream>
#include <sstream>

#include "commands.hpp"
#include "progress.hpp"
#include "coroner/analysis/analyze.hpp"
#include "coroner/analysis/log_analysis.hpp"
#include "coroner/report/analysis_report.hpp"
#include "coroner/report/info_report.hpp"

namespace coroner::cli {
namespace {

std::vector<rules::Rule> all_rules(const std::vector<std::string>& dirs) {
  std::vector<rules::Rule> out = rules::shipped_rules();
  for (const auto& dir : dirs) {
    auto mine = rules::load_rule_directory(dir);
    if (!mine) fail(mine.error().message);
    out.insert(out.end(), mine->begin(), mine->end());
  }
  return out;
}

struct Analyzed {
  Target target;
  analysis::CrashAnalysis analysis;
};

std::unique_ptr<Analyzed> analyze(const DumpArgs& dump, const std::vector<rules::Rule>& rules,
                                  std::vector<rules::Verdict>& verdicts) {
  Progress progress;
  auto a = std::make_unique<Analyzed>();
  progress.step("opening the dump and its debug info");
  a->target = open_target(dump);
  slub_or_warn(a->target);
  a->analysis = analysis::analyze(a->target, [&](std::string_view what) { progress.step(what); });
  progress.step("evaluating " + std::to_string(rules.size()) + " rules");
  verdicts = rules::evaluate(rules, a->analysis.facts);
  for (auto& why : rules::not_evaluated(rules, a->analysis.facts, verdicts)) a->analysis.problems.push_back(std::move(why));
  return a;
}

// A console log, from a file or standard input ("-").
std::string read_log(const std::string& path) {
  std::ostringstream text;
  if (path == "-") {
    text << std::cin.rdbuf();
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(path + ": cannot read the log (give a console log, dmesg or syslog text, or - for standard input)");
    text << in.rdbuf();
  }
  return text.str();
}

std::string render(const std::string& format, const report::AnalysisInput& in) {
  return format == "json"       ? report::to_json_text(report::analysis_json(in)) + "\n"
         : format == "markdown" ? report::analysis_markdown(in)
                                : report::analysis_text(in);
}

void write_report(const std::string& output, const std::string& text) {
  if (output.empty()) {
    std::cout << text;
    return;
  }
  std::ofstream out(output);
  if (!(out << text)) fail(output + ": cannot write the report");
}

}  // namespace

void register_analyze(CLI::App& app) {
  struct Args {
    DumpArgs dump;
    std::vector<std::string> rule_dirs;
    std::string format = "text";
    std::string output;
    std::string log;
    std::vector<std::string> not_crashes;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("analyze", "the verdict: everything that applies to the dump, every rule, the matches "
                                            "ranked with their evidence");
  add_dump_args(*cmd, args->dump, true);
  cmd->get_option("dump")->required(false);
  cmd->add_option("--log", args->log,
                  "analyze a console log instead of a dump (serial capture, dmesg, syslog, journal; - for standard "
                  "input): the crash's title, type, guilty frame and signature, and the rules a log can answer")
      ->excludes("dump");
  cmd->add_option("--not-crashes", args->not_crashes,
                  "with --log: a report type that is not a crash on this machine (warning, without panic_on_warn); "
                  "its reports are listed, never the crash; repeatable")
      ->allow_extra_args(false);
  cmd->add_option("--rules", args->rule_dirs, "a directory of your own rule files (YAML or JSON); repeatable")
      ->allow_extra_args(false)
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--format", args->format, "text (default), json or markdown")
      ->check(CLI::IsMember({"text", "json", "markdown"}));
  cmd->add_option("-o,--output", args->output, "write the report to this file");
  cmd->callback([args] {
    auto rules = all_rules(args->rule_dirs);
    std::vector<rules::Verdict> verdicts;
    if (!args->log.empty()) {
      analysis::CrashAnalysis a = analysis::analyze_log(read_log(args->log), {args->not_crashes});
      verdicts = rules::evaluate(rules, a.facts);
      for (auto& why : rules::not_evaluated(rules, a.facts, verdicts)) a.problems.push_back(std::move(why));
      write_report(args->output, render(args->format, {report::analysis_summary(a, args->log, true), &verdicts}));
      return;
    }
    if (args->dump.dump.empty()) fail("analyze needs a dump, or --log FILE for a console log");
    auto a = analyze(args->dump, rules, verdicts);
    write_report(args->output, render(args->format, {report::analysis_summary(a->analysis, args->dump.dump), &verdicts}));
    print_warnings(a->target);
  });
}

void register_rules(CLI::App& app) {
  auto* cmd = app.add_subcommand("rules", "check rule files, or test a rule against a dump");
  cmd->require_subcommand(1);
  auto files = std::make_shared<std::vector<std::string>>();
  auto* check = cmd->add_subcommand("check", "lint rule files: errors name the file, line and column");
  check->add_option("files", *files, "rule files (YAML or JSON)")->required()->check(CLI::ExistingFile);
  check->callback([files] {
    int count = 0;
    for (const auto& f : *files) {
      auto r = rules::load_rule_file(f);
      if (!r) fail(r.error().message);
      count += static_cast<int>(r->size());
    }
    std::cout << count << " rules, no errors\n";
  });
  struct TestArgs {
    std::string rule;
    DumpArgs dump;
    std::vector<std::string> rule_dirs;
    std::string expect;
  };
  auto targs = std::make_shared<TestArgs>();
  auto* test = cmd->add_subcommand("test", "test one rule against a dump: `rules test RULE DUMP -k V --expect match|no-match`");
  test->add_option("rule", targs->rule, "the rule's id")->required();
  add_dump_args(*test, targs->dump, true);
  test->add_option("--rules", targs->rule_dirs, "directories of rule files besides the shipped ones")
      ->allow_extra_args(false)
      ->check(CLI::ExistingDirectory);
  test->add_option("--expect", targs->expect, "match or no-match")->required()->check(CLI::IsMember({"match", "no-match"}));
  test->callback([targs] {
    auto rules = all_rules(targs->rule_dirs);
    auto it = std::find_if(rules.begin(), rules.end(), [&](const rules::Rule& r) { return r.id == targs->rule; });
    if (it == rules.end()) fail("no rule with id " + targs->rule + " among the shipped rules and --rules");
    std::vector<rules::Verdict> verdicts;
    const std::vector<rules::Rule> one{*it};
    auto a = analyze(targs->dump, one, verdicts);
    bool matched = !verdicts.empty();
    std::cout << it->id << ": " << (matched ? "match" : "no match") << "\n";
    for (const auto& e : matched ? verdicts.front().evidence : std::vector<std::string>{}) std::cout << "  evidence: " << e << '\n';
    if (matched != (targs->expect == "match")) {
      std::cerr << "coroner: " << it->id << " was expected to " << (targs->expect == "match" ? "match" : "not match")
                << " " << targs->dump.dump << '\n';
      throw CLI::RuntimeError(1);
    }
  });
}

}  // namespace coroner::cli
