#include <iostream>

#include "commands.hpp"
#include "coroner/report/info_report.hpp"
#include "coroner/report/task_report.hpp"

namespace coroner::cli {

void register_ps(CLI::App& app) {
  struct Args {
    DumpArgs dump;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("ps", "every task: pid, parent, CPU, state, command; which ran on each CPU (like crash's ps)");
  add_dump_args(*cmd, args->dump, true);
  cmd->add_flag("--json", args->json, "print JSON (schema coroner.ps)");
  cmd->callback([args] {
    auto typed = open_target(args->dump);
    if (typed.model) return model_ps(typed, args->json);
    linux_kernel::LinuxView& view = *typed.view;
    const auto& tasks = tasks_or_fail(view);
    if (args->json) std::cout << report::to_json_text(report::ps_json(tasks)) << '\n';
    else std::cout << report::ps_text(tasks);
    print_warnings(view);
  });
}

}  // namespace coroner::cli
