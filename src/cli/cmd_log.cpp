#include <iostream>

#include "commands.hpp"
#include "coroner/report/info_report.hpp"

namespace coroner::cli {

void register_log(CLI::App& app) {
  struct Args {
    DumpArgs dump;
    bool json = false;
    bool caller = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("log", "the kernel log (printk ring buffer), like dmesg; needs only VMCOREINFO (on FreeBSD, the message buffer)");
  add_dump_args(*cmd, args->dump, false);
  cmd->add_flag("--json", args->json, "print JSON (schema coroner.log)");
  cmd->add_flag("--caller,-T", args->caller, "show the caller (T<pid> or C<cpu>) of each record");
  cmd->callback([args] {
    auto kernel = open_kernel(args->dump);
    if (!kernel) throw CLI::RuntimeError(1);
    if (os_model_of(*kernel)) {
      auto typed = open_target(std::move(kernel), args->dump);
      return model_log(typed, args->json);
    }
    auto log = linux_kernel::read_printk_log(*kernel);
    if (!log) {
      std::cerr << "coroner: " << kernel->dump().path() << ": " << log.error().message << '\n';
      throw CLI::RuntimeError(1);
    }
    if (args->json) {
      std::cout << report::to_json_text(report::log_json(*log)) << '\n';
    } else {
      std::cout << report::log_text(*log, args->caller);
    }
    for (const auto& p : log->problems) std::cerr << "coroner: warning: " << p << '\n';
    print_warnings(*kernel);
  });
}

}  // namespace coroner::cli
