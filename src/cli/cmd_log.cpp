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
    // Linux's printk ring needs only the dump; a model kernel's buffer is read through its types.
    std::optional<Target> typed;
    auto log = log_without_types(*kernel);
    if (!log) {
      typed.emplace(open_target(std::move(kernel), args->dump));
      log = typed->log();
    }
    const Kernel& k = typed ? *typed->kernel : *kernel;
    if (!*log) fail(k.dump().path() + ": " + log->error().message);
    const std::string os = typed ? typed->os() : "linux";
    if (args->json) std::cout << report::to_json_text(report::log_json(os, **log)) << '\n';
    else std::cout << report::log_text(**log, args->caller);
    for (const auto& p : (*log)->problems) std::cerr << "coroner: warning: " << p << '\n';
    print_warnings(k);
  });
}

}  // namespace coroner::cli
