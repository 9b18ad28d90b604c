#include <iostream>

#include "commands.hpp"
#include "coroner/report/info_report.hpp"
#include "coroner/report/module_report.hpp"

namespace coroner::cli {

void register_mod(CLI::App& app) {
  struct Args {
    DumpArgs dump;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("mod", "loaded modules: struct module, base, size, symbols (like crash's mod)");
  add_dump_args(*cmd, args->dump, true);
  cmd->add_flag("--json", args->json, "print JSON (schema coroner.mod)");
  cmd->callback([args] {
    auto typed = open_target(args->dump);
    linux_kernel::LinuxView& view = linux_or_fail(typed, "mod", "the loaded modules");
    const auto& modules = view.modules();
    if (args->json) std::cout << report::to_json_text(report::modules_json(modules, view.module_debug())) << '\n';
    else std::cout << report::modules_text(modules, view.module_debug());
    print_warnings(typed);
  });
}

}  // namespace coroner::cli
