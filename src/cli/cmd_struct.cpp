#include <iostream>
#include <sys/stat.h>

#include "commands.hpp"
#include "coroner/report/object_report.hpp"
#include "coroner/report/type_layout.hpp"
#include "coroner/report/info_report.hpp"
#include "coroner/target/expression.hpp"

namespace coroner::cli {

namespace {

bool is_file(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

void register_struct(CLI::App& app) {
  struct Args {
    std::vector<std::string> positional;
    std::string vmlinux;
    std::vector<std::string> module_dirs;
    std::vector<std::string> poison_files;
    bool offsets = false;
    bool json = false;
    int depth = 16;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "struct",
      "a type's layout, or an object in the dump: `struct [DUMP] TYPE [ADDR]` (like crash's struct; "
      "union and enum types work too)");
  cmd->add_option("args", args->positional, "[DUMP] TYPE [ADDR]: TYPE alone (or with -o) needs no dump; ADDR is an address or expression")
      ->required()->expected(1, 3);
  cmd->add_option("--vmlinux,-k", args->vmlinux, "the kernel's vmlinux with debug info")->required();
  cmd->add_option("--modules", args->module_dirs,
                  "a directory of the loaded modules' .ko files (their types need a dump); repeatable")
      ->allow_extra_args(false)
      ->check(CLI::ExistingDirectory);
  add_poison_option(*cmd, args->poison_files);
  cmd->add_flag("-o,--offsets", args->offsets, "the layout with member offsets, as crash's struct -o");
  cmd->add_flag("--json", args->json, "print JSON (schema coroner.layout or coroner.object)");
  cmd->add_option("--depth", args->depth, "expand nested structs this deep (default 16)");
  cmd->callback([args] {
    auto& pos = args->positional;
    // [DUMP] TYPE [ADDR]: with two words, the first is the dump when it is a file.
    std::string dump, type, address;
    if (pos.size() == 3) dump = pos[0], type = pos[1], address = pos[2];
    else if (pos.size() == 2 && is_file(pos[0])) dump = pos[0], type = pos[1];
    else if (pos.size() == 2) type = pos[0], address = pos[1];
    else type = pos[0];
    if (!address.empty() && dump.empty()) {
      std::cerr << "coroner: struct " << type << " " << address << ": an address needs a dump: coroner struct DUMP "
                << type << " " << address << " -k VMLINUX\n";
      throw CLI::RuntimeError(2);
    }
    Target target;
    if (dump.empty()) {
      target.debug = open_debug_info(args->vmlinux);
      if (!target.debug) throw CLI::RuntimeError(1);
    } else {
      target = open_target({dump, args->vmlinux, args->module_dirs, args->poison_files});
    }
    DebugInfo* debug = target.debug.get();
    auto t = debug->find_type(type);
    if (!t) fail(t.error().message);
    if (address.empty()) {
      if (args->json) std::cout << report::to_json_text(report::layout_json(*debug, *t)) << '\n';
      else std::cout << report::layout_text(*debug, *t);
      return;
    }
    TypedMemory& objects = *target.objects;
    auto where = evaluate_address(objects, address);
    if (!where) fail(where.error().message);
    Value v = objects.lvalue(*t, *where);
    report::ValueFormat format;
    format.depth = args->depth;
    format.poison = &target.poison;
    if (args->json) {
      auto j = report::value_json(objects, v, format);
      j["schema"] = "coroner.object";
      std::cout << report::to_json_text(j) << '\n';
    } else {
      if (args->offsets) std::cout << report::layout_text(*debug, *t);
      std::cout << type_name(*t) << " " << report::value_text(objects, v, format) << '\n';
    }
    print_warnings(target);
  });
}

}  // namespace coroner::cli
