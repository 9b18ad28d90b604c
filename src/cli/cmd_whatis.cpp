#include <iostream>

#include "commands.hpp"
#include "coroner/report/info_report.hpp"
#include "coroner/report/whatis_report.hpp"
#include "coroner/target/expression.hpp"

namespace coroner::cli {

void register_whatis(CLI::App& app) {
  struct Args {
    DumpArgs dump;
    std::vector<std::string> addresses;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "whatis", "what an address is: symbol, thread stack and frame, allocator object (cache, allocated or free, who "
                "allocated and freed it), page, vmalloc, user, the poison it holds (like mdb's ::whatis, crash's kmem ADDR)");
  add_dump_args(*cmd, args->dump, true);
  cmd->add_option("address", args->addresses, "addresses or expressions")->required();
  cmd->add_flag("--json", args->json, "print JSON (schema coroner.whatis)");
  cmd->callback([args] {
    auto target = open_target(args->dump);
    slub_or_warn(target);
    auto threads = target.threads();
    const report::WhatIsContext context{[&target](uint64_t pc) { return target.locate(pc, true); },
                                        threads ? *threads : nullptr};
    nlohmann::ordered_json results = nlohmann::ordered_json::array();
    for (const auto& text : args->addresses) {
      auto address = evaluate_address(*target.objects, text);
      if (!address) fail(address.error().message);
      Identity w = target.identify(*address);
      if (args->json) results.push_back(report::whatis_json(w, context));
      else std::cout << report::whatis_text(w, context);
    }
    if (args->json) std::cout << report::to_json_text(report::whatis_results_json(target.os(), std::move(results))) << '\n';
    if (auto* slub = target.slub()) {
      for (const auto& p : slub->problems()) std::cerr << "coroner: warning: " << p << '\n';
    }
    print_warnings(target);
  });
}

}  // namespace coroner::cli
