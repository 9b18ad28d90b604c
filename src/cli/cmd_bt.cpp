#include <iostream>

#include "commands.hpp"
#include "coroner/report/info_report.hpp"
#include "coroner/report/task_report.hpp"

namespace coroner::cli {
namespace {

using linux_kernel::Task;
using linux_kernel::TaskList;

// What `bt` shows with no selection: the panicking task, or else every task on a CPU.
std::vector<const Task*> default_selection(linux_kernel::LinuxView& view, const TaskList& tasks) {
  std::vector<const Task*> out;
  if (const Task* t = view.panicking_task()) return {t};
  for (const Task& t : tasks.tasks) {
    if (t.active_on) out.push_back(&t);
  }
  return out;
}

}  // namespace

void register_bt(CLI::App& app) {
  struct Args {
    DumpArgs dump;
    std::vector<std::string> pids;
    bool all = false;
    std::vector<uint32_t> cpus;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("bt", "backtraces (ORC unwinder): the panicking task by default, or PIDs, task "
                                       "addresses, --cpu N, --all");
  add_dump_args(*cmd, args->dump, true);
  cmd->add_option("task", args->pids, "PIDs or task_struct addresses (0x...)");
  cmd->add_flag("-a,--all", args->all, "every task");
  cmd->add_option("--cpu", args->cpus, "the task running on this CPU at the crash (repeatable)");
  cmd->add_flag("--json", args->json, "print JSON (schema coroner.bt)");
  cmd->callback([args] {
    auto typed = open_target(args->dump);
    if (typed.model) return model_bt(typed, args->pids, args->all, args->json);
    linux_kernel::LinuxView& view = *typed.view;
    const TaskList& tasks = tasks_or_fail(view);
    std::vector<const Task*> selected;
    if (args->all) {
      for (const Task& t : tasks.tasks) selected.push_back(&t);
    }
    for (uint32_t c : args->cpus) {
      const Task* t = tasks.active_on(c);
      if (!t) fail("CPU " + std::to_string(c) + ": no such CPU or its current task is unknown (the dump has " +
                   std::to_string(tasks.cpus.size()) + " CPUs; see `coroner ps`)");
      selected.push_back(t);
    }
    for (const std::string& p : args->pids) {
      const Task* t = nullptr;
      try {
        t = p.rfind("0x", 0) == 0 ? tasks.by_address(std::stoull(p, nullptr, 16)) : tasks.by_pid(std::stoi(p));
      } catch (const std::exception&) {
        fail("'" + p + "' is neither a PID nor a task address (0x...)");
      }
      if (!t) fail("no task " + p + " in the dump (see `coroner ps`)");
      selected.push_back(t);
    }
    if (selected.empty()) selected = default_selection(view, tasks);
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (size_t i = 0; i < selected.size(); ++i) {
      auto bt = view.backtrace(*selected[i]);
      if (!bt) fail(bt.error().message);
      if (args->json) {
        list.push_back(report::backtrace_json(*selected[i], *bt));
      } else {
        if (i) std::cout << '\n';
        std::cout << report::backtrace_text(*selected[i], *bt);
      }
    }
    if (args->json) std::cout << report::to_json_text({{"schema", "coroner.bt"}, {"backtraces", list}}) << '\n';
    print_warnings(view);
  });
}

}  // namespace coroner::cli
