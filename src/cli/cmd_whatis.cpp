#include <iostream>

#include "commands.hpp"
#include "coroner/report/info_report.hpp"
#include "coroner/report/memory_report.hpp"
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
      "whatis", "what an address is: symbol, task stack and frame, slab object (cache, allocated or free, alloc and "
                "free stacks), page, vmalloc, user (like mdb's ::whatis, crash's kmem ADDR)");
  add_dump_args(*cmd, args->dump, true);
  cmd->add_option("address", args->addresses, "addresses or expressions")->required();
  cmd->add_flag("--json", args->json, "print JSON (schema coroner.whatis)");
  cmd->callback([args] {
    auto typed = open_target(args->dump);
    if (typed.model) {
      std::vector<uint64_t> addresses;
      for (const auto& text : args->addresses) {
        auto address = evaluate_address(*typed.objects, text);
        if (!address) fail(address.error().message);
        addresses.push_back(*address);
      }
      return model_whatis(typed, addresses, args->json);
    }
    linux_kernel::LinuxView& view = *typed.view;
    linux_kernel::Slub* slub = slub_or_warn(typed);
    nlohmann::ordered_json results = nlohmann::ordered_json::array();
    for (const auto& text : args->addresses) {
      auto address = evaluate_address(*typed.objects, text);
      if (!address) fail(address.error().message);
      auto w = linux_kernel::what_is(view, slub, *address);
      if (args->json) results.push_back(report::whatis_json(view, w));
      else std::cout << report::whatis_text(view, w);
    }
    if (args->json) std::cout << report::to_json_text({{"schema", "coroner.whatis"}, {"results", results}}) << '\n';
    if (slub) {
      for (const auto& p : slub->problems()) std::cerr << "coroner: warning: " << p << '\n';
    }
    print_warnings(view);
  });
}

}  // namespace coroner::cli
