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
    auto kernel = open_kernel(args->dump, std::nullopt);  // Linux's log needs no vmlinux
    if (!kernel) throw CLI::RuntimeError(1);
    DumpAnswers dump(std::move(kernel), args->dump);
    auto log = dump.answer(log_without_types, [](Target& t) { return t.log(); });
    const Kernel& k = dump.kernel();
    if (!log) fail(k.dump().path() + ": " + log.error().message);
    if (args->json) std::cout << report::to_json_text(report::log_json(kernel_os(k), *log)) << '\n';
    else std::cout << report::log_text(*log, args->caller);
    for (const auto& p : log->problems) std::cerr << "coroner: warning: " << p << '\n';
    print_warnings(k);
  });
}

}  // namespace coroner::cli
