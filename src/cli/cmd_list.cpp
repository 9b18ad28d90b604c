#include <iostream>

#include "commands.hpp"
#include "coroner/format.hpp"
#include "coroner/report/info_report.hpp"
#include "coroner/report/object_report.hpp"
#include "coroner/target/expression.hpp"
#include "coroner/target/list_walk.hpp"

namespace coroner::cli {
namespace {

// A member of one entry, `-s comm`: read through the expression evaluator, which follows paths
// (`se.vruntime`) and arrays as `print` does.
Result<Value> member_of(TypedMemory& objects, const Type* container, uint64_t entry, const std::string& member) {
  return evaluate(objects, "((" + type_name(container) + " *)" + hex(entry) + ")->" + member);
}

void print_json(TypedMemory& objects, const Type* container, const std::string& member, const WalkedList& walk,
                const std::vector<std::string>& show) {
  auto entries = nlohmann::ordered_json::array();
  for (uint64_t e : walk.entries) {
    nlohmann::ordered_json j{{"address", hex(e)}};
    for (const auto& m : show) {
      auto v = member_of(objects, container, e, m);
      j[m] = v ? report::value_json(objects, *v) : nlohmann::ordered_json{{"error", v.error().message}};
    }
    entries.push_back(std::move(j));
  }
  nlohmann::ordered_json out{{"schema", "coroner.list"}, {"type", type_name(container)}, {"member", member},
                             {"count", walk.entries.size()}, {"end", list_end_name(walk.end)}};
  if (!walk.detail.empty()) out["detail"] = walk.detail;
  out["entries"] = std::move(entries);
  std::cout << report::to_json_text(out) << '\n';
}

void print_text(TypedMemory& objects, const Type* container, const WalkedList& walk, const std::vector<std::string>& show) {
  for (uint64_t e : walk.entries) {
    std::cout << hex_padded(e) << '\n';
    for (const auto& m : show) {
      auto v = member_of(objects, container, e, m);
      std::cout << "  " << m << " = " << (v ? report::value_text(objects, *v) : "<" + v.error().message + ">") << '\n';
    }
  }
}

// START is a list head, not an entry, when asked (-H) or when its type says so.
bool starts_at_head(const Value& start, bool asked) {
  const Type* t = strip_typedefs(start.type);
  if (t && t->kind == TypeKind::pointer) t = strip_typedefs(t->target);
  return asked || (t && t->kind == TypeKind::structure && (t->name == "list_head" || t->name == "hlist_head"));
}

}  // namespace

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
    auto start = evaluate_address(objects, args->start);
    if (!start) fail(start.error().message);
    ListRequest request{*container, args->member, *start, starts_at_head(*start_value, args->head), args->limit};
    auto walk = walk_list(objects, request);
    if (!walk) fail(walk.error().message);
    if (args->json) print_json(objects, *container, args->member, *walk, args->show);
    else print_text(objects, *container, *walk, args->show);
    if (walk->end != ListEnd::back_at_start && walk->end != ListEnd::null_pointer) {
      std::cerr << "coroner: the walk stopped early (" << list_end_name(walk->end) << "): " << walk->detail << '\n';
    }
    print_warnings(typed);
  });
}

}  // namespace coroner::cli
