#include <iostream>

#include "commands.hpp"
#include "coroner/format.hpp"
#include "coroner/report/info_report.hpp"
#include "coroner/report/object_report.hpp"
#include "coroner/target/expression.hpp"
#include "coroner/target/list_walk.hpp"

namespace coroner::cli {

void register_list(CLI::App& app) {
  struct Args {
    DumpArgs dump;
    std::string start, type, member;
    std::vector<std::string> show;
    bool head = false;
    bool json = false;
    size_t limit = 100000;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "list", "walk a linked list to its containing structs, like crash's list: "
              "list DUMP init_task --type task_struct --member tasks -s comm,pid");
  add_dump_args(*cmd, args->dump, true);
  cmd->add_option("start", args->start,
                  "the first entry (a struct address or expression, included), or with --head a list head")
      ->required();
  cmd->add_option("--type,-t", args->type, "the containing struct: task_struct")->required();
  cmd->add_option("--member,-m", args->member, "its list member: tasks (a list_head, hlist_node, llist_node or next pointer)")
      ->required();
  cmd->add_flag("--head,-H", args->head, "START is a list head that is not an entry (crash's list -H); "
                                         "implied when START is a list_head or hlist_head");
  cmd->add_option("-s,--show", args->show, "members of each entry to print: comm,pid")->delimiter(',');
  cmd->add_option("--limit", args->limit, "stop after this many entries (default 100000)");
  cmd->add_flag("--json", args->json, "print JSON (schema coroner.list)");
  cmd->callback([args] {
    auto typed = open_target(args->dump);
    TypedMemory& objects = *typed.objects;
    auto container = typed.debug->find_type(args->type);
    if (!container) fail(container.error().message);
    auto start_value = evaluate(objects, args->start);
    if (!start_value) fail(start_value.error().message);
    const Type* start_type = strip_typedefs(start_value->type);
    if (start_type && start_type->kind == TypeKind::pointer) start_type = strip_typedefs(start_type->target);
    bool is_head = args->head || (start_type && start_type->kind == TypeKind::structure &&
                                  (start_type->name == "list_head" || start_type->name == "hlist_head"));
    auto start = evaluate_address(objects, args->start);
    if (!start) fail(start.error().message);
    ListRequest request{*container, args->member, *start, is_head, args->limit};
    auto walk = walk_list(objects, request);
    if (!walk) fail(walk.error().message);

    auto shown = [&](uint64_t entry, const std::string& member) -> Result<Value> {
      return evaluate(objects, "((" + type_name(*container) + " *)" + hex(entry) + ")->" + member);
    };
    if (args->json) {
      auto entries = nlohmann::ordered_json::array();
      for (uint64_t e : walk->entries) {
        nlohmann::ordered_json j{{"address", hex(e)}};
        for (const auto& m : args->show) {
          auto v = shown(e, m);
          j[m] = v ? report::value_json(objects, *v) : nlohmann::ordered_json{{"error", v.error().message}};
        }
        entries.push_back(std::move(j));
      }
      nlohmann::ordered_json out{{"schema", "coroner.list"}, {"type", type_name(*container)},
                                 {"member", args->member}, {"count", walk->entries.size()},
                                 {"end", list_end_name(walk->end)}};
      if (!walk->detail.empty()) out["detail"] = walk->detail;
      out["entries"] = std::move(entries);
      std::cout << report::to_json_text(out) << '\n';
    } else {
      for (uint64_t e : walk->entries) {
        std::cout << hex_padded(e) << '\n';
        for (const auto& m : args->show) {
          auto v = shown(e, m);
          std::cout << "  " << m << " = " << (v ? report::value_text(objects, *v) : "<" + v.error().message + ">") << '\n';
        }
      }
    }
    if (walk->end != ListEnd::back_at_start && walk->end != ListEnd::null_pointer) {
      std::cerr << "coroner: the walk stopped early (" << list_end_name(walk->end) << "): " << walk->detail << '\n';
    }
    print_warnings(typed);
  });
}

}  // namespace coroner::cli
