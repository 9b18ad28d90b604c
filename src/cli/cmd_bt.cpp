#include <iostream>

#include "commands.hpp"
#include "coroner/report/info_report.hpp"
#include "coroner/report/thread_report.hpp"

namespace coroner::cli {
namespace {

// What `bt` shows with no selection: the thread that panicked, or else every thread on a CPU.
std::vector<const Thread*> default_selection(const ThreadList& list) {
  if (const Thread* t = list.crashed_thread()) return {t};
  std::vector<const Thread*> out;
  for (const Thread& t : list.threads) {
    if (t.active_on) out.push_back(&t);
  }
  if (out.empty()) fail("no panicking thread known: name a thread (see `coroner ps`) or use --all");
  return out;
}

// A thread address (0x...), a thread id, or a process id (then every thread of the process).
std::vector<const Thread*> named_threads(const ThreadList& list, const std::string& word) {
  uint64_t n = 0;
  try {
    size_t used = 0;
    n = std::stoull(word, &used, 0);
    if (used != word.size()) throw std::invalid_argument(word);
  } catch (const std::exception&) {
    fail("'" + word + "' is neither a thread id, a process id nor a thread address (0x...)");
  }
  if (word.starts_with("0x")) {
    if (const Thread* at = list.by_address(n)) return {at};
  } else if (const Thread* with_id = list.by_id(n)) {
    return {with_id};
  } else {
    std::vector<const Thread*> process;
    for (const Thread& t : list.threads) {
      if (t.process_id >= 0 && static_cast<uint64_t>(t.process_id) == n) process.push_back(&t);
    }
    if (!process.empty()) return process;
  }
  fail("no thread " + word + " in the dump (see `coroner ps`)");
}

const Thread* on_cpu(const ThreadList& list, uint32_t cpu) {
  const Thread* t = list.active_on(cpu);
  if (!t) fail("CPU " + std::to_string(cpu) + ": no such CPU or its current thread is unknown (the dump has " +
               std::to_string(list.cpus.size()) + " CPUs; see `coroner ps`)");
  return t;
}

}  // namespace

void register_bt(CLI::App& app) {
  struct Args {
    DumpArgs dump;
    std::vector<std::string> threads;
    bool all = false;
    std::vector<uint32_t> cpus;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("bt", "backtraces: the thread that panicked by default, or thread ids, process ids, "
                                       "thread addresses, --cpu N, --all");
  add_dump_args(*cmd, args->dump, true);
  cmd->add_option("thread", args->threads, "thread ids (Linux's pids), process ids, or thread addresses (0x...)");
  cmd->add_flag("-a,--all", args->all, "every thread");
  cmd->add_option("--cpu", args->cpus, "the thread running on this CPU at the crash (repeatable)");
  cmd->add_flag("--json", args->json, "print JSON (schema coroner.bt)");
  cmd->callback([args] {
    auto target = open_target(args->dump);
    const ThreadList& list = threads_or_fail(target);
    std::vector<const Thread*> selected;
    if (args->all) {
      for (const Thread& t : list.threads) selected.push_back(&t);
    }
    for (uint32_t c : args->cpus) selected.push_back(on_cpu(list, c));
    for (const std::string& word : args->threads) {
      for (const Thread* t : named_threads(list, word)) selected.push_back(t);
    }
    if (selected.empty()) selected = default_selection(list);
    nlohmann::ordered_json backtraces = nlohmann::ordered_json::array();
    for (size_t i = 0; i < selected.size(); ++i) {
      auto bt = target.backtrace(*selected[i]);
      if (!bt) fail(bt.error().message);
      const bool crashed = list.crashed_thread() == selected[i];
      if (args->json) backtraces.push_back(report::backtrace_json(*selected[i], *bt, crashed));
      else std::cout << (i ? "\n" : "") << report::backtrace_text(*selected[i], *bt, crashed);
    }
    if (args->json) std::cout << report::to_json_text(report::bt_json(target.os(), std::move(backtraces))) << '\n';
    print_warnings(target);
  });
}

}  // namespace coroner::cli
