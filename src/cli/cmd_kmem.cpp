#include <iostream>

#include "commands.hpp"
#include "coroner/report/info_report.hpp"
#include "coroner/report/memory_report.hpp"

namespace coroner::cli {

void register_kmem(CLI::App& app) {
  struct Args {
    DumpArgs dump;
    bool caches = false;
    std::string name;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("kmem", "the slab caches with object counts (like crash's kmem -s); "
                                         "for what one address is, see whatis");
  add_dump_args(*cmd, args->dump, true);
  cmd->add_flag("-s,--caches", args->caches, "list the slab caches (the default)");
  cmd->add_option("--cache", args->name, "only the cache of this name");
  cmd->add_flag("--json", args->json, "print JSON (schema coroner.kmem)");
  cmd->callback([args] {
    auto typed = open_target(args->dump);
    linux_or_fail(typed, "kmem", "the slab caches");
    linux_kernel::Slub* slub = slub_or_warn(typed);
    if (!slub) fail("cannot read the slab caches (see the warning above)");
    std::vector<report::CacheRow> rows;
    for (const auto& c : slub->caches()) {
      if (!args->name.empty() && c.name != args->name) continue;
      rows.push_back({&c, slub->counts(c)});
    }
    if (!args->name.empty() && rows.empty()) fail("no slab cache named " + args->name + " (see `coroner kmem -s`)");
    if (args->json) std::cout << report::to_json_text(report::kmem_caches_json(rows, slub->problems())) << '\n';
    else std::cout << report::kmem_caches_text(rows);
    for (const auto& p : slub->problems()) std::cerr << "coroner: warning: " << p << '\n';
    print_warnings(typed);
  });
}

}  // namespace coroner::cli
