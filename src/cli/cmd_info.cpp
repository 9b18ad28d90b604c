#include <iostream>

#include "commands.hpp"
#include "coroner/report/info_report.hpp"

namespace coroner::cli {

void register_info(CLI::App& app) {
  struct Args {
    DumpArgs dump;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("info", "what this dump is: format, kernel, KASLR, CPUs, panic, vmlinux match");
  add_dump_args(*cmd, args->dump, false);
  cmd->add_flag("--json", args->json, "print JSON (schema coroner.info)");
  cmd->callback([args] {
    // Which vmlinux matches, where this machine keeps it; a download is left to the commands
    // that read types.
    DebugSearch search = debug_search(args->dump);
    search.debuginfod = false;
    auto kernel = open_kernel(args->dump, search);
    if (!kernel) throw CLI::RuntimeError(1);
    if (kernel->dump().header().producer == DumpProducer::user_space) {
      const Dump& d = kernel->dump();
      std::cout << (args->json ? report::to_json_text(report::user_core_json(d)) + "\n" : report::user_core_text(d));
      return;
    }
    DumpAnswers dump(std::move(kernel), args->dump);
    auto summary = dump.answer(summary_without_types, [](Target& t) { return t.summary(); });
    const Kernel& k = dump.kernel();
    if (args->json) std::cout << report::to_json_text(report::info_json(k, summary)) << '\n';
    else std::cout << report::info_text(k, summary);
    if (k.vmlinux_check().verdict == VmlinuxMatch::mismatch) throw CLI::RuntimeError(3);
  });
}

}  // namespace coroner::cli
