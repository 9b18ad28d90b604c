#include <iostream>

#include "commands.hpp"
#include "coroner/report/info_report.hpp"
#include "coroner/report/object_report.hpp"
#include "coroner/target/expression.hpp"

namespace coroner::cli {

void register_print(CLI::App& app) {
  struct Args {
    DumpArgs dump;
    std::vector<std::string> expressions;
    bool json = false;
    int depth = 16;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("print", "evaluate C expressions on the dump, like crash's p: init_task.comm, "
                                          "(struct inode *)0x...->i_sb, container_of(p, struct task_struct, tasks)");
  add_dump_args(*cmd, args->dump, true);
  cmd->add_option("expression", args->expressions, "one or more expressions")->required();
  cmd->add_flag("--json", args->json, "print JSON (schema coroner.print)");
  cmd->add_option("--depth", args->depth, "expand nested structs this deep (default 16)");
  cmd->callback([args] {
    auto typed = open_target(args->dump);
    TypedMemory& objects = *typed.objects;
    report::ValueFormat format;
    format.depth = args->depth;
    format.poison = &typed.poison;
    nlohmann::ordered_json results = nlohmann::ordered_json::array();
    bool failed = false;
    for (const auto& e : args->expressions) {
      auto v = evaluate(objects, e);
      if (!v) {
        std::cerr << "coroner: " << v.error().message << '\n';
        if (args->json) results.push_back({{"expression", e}, {"error", v.error().message}});
        failed = true;
        continue;
      }
      if (args->json) {
        nlohmann::ordered_json j{{"expression", e}};
        auto value = report::value_json(objects, *v, format);
        for (auto& [k, val] : value.items()) j[k] = val;
        results.push_back(std::move(j));
      } else {
        std::cout << e << " = " << report::value_text(objects, *v, format) << '\n';
      }
    }
    if (args->json) std::cout << report::to_json_text({{"schema", "coroner.print"}, {"results", results}}) << '\n';
    print_warnings(typed);
    if (failed) throw CLI::RuntimeError(1);
  });
}

}  // namespace coroner::cli
