#include <iostream>

#include "commands.hpp"
#include "coroner/report/info_report.hpp"
#include "coroner/report/thread_report.hpp"

namespace coroner::cli {

void register_ps(CLI::App& app) {
  struct Args {
    DumpArgs dump;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("ps", "every thread: thread and process ids, parent, CPU, state, command; which ran on "
                                       "each CPU (like crash's ps, mdb's ::threadlist)");
  add_dump_args(*cmd, args->dump, true);
  cmd->add_flag("--json", args->json, "print JSON (schema coroner.ps)");
  cmd->callback([args] {
    auto target = open_target(args->dump);
    const ThreadList& threads = threads_or_fail(target);
    if (args->json) std::cout << report::to_json_text(report::ps_json(target.os(), threads)) << '\n';
    else std::cout << report::ps_text(threads);
    print_warnings(target);
  });
}

}  // namespace coroner::cli
