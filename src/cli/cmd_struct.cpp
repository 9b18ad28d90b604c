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

// `struct [DUMP] TYPE [ADDR]`: with two words, the first is the dump when it is a file.
struct StructWords {
  std::string dump, type, address;
};
StructWords struct_words(const std::vector<std::string>& pos) {
  StructWords w;
  if (pos.size() == 3) w = {pos[0], pos[1], pos[2]};
  else if (pos.size() == 2 && is_file(pos[0])) w = {pos[0], pos[1], ""};
  else if (pos.size() == 2) w = {"", pos[0], pos[1]};
  else w.type = pos[0];
  if (!w.address.empty() && w.dump.empty()) {
    std::cerr << "coroner: struct " << w.type << " " << w.address << ": an address needs a dump: coroner struct DUMP "
              << w.type << " " << w.address << "\n";
    throw CLI::RuntimeError(2);
  }
  return w;
}

// The object of type `t` at `address` in the dump, as crash's `struct TYPE ADDR` prints it.
void print_object(Target& target, const Type* t, const std::string& address, int depth, bool offsets, bool json) {
  TypedMemory& objects = *target.objects;
  auto where = evaluate_address(objects, address);
  if (!where) fail(where.error().message);
  Value v = objects.lvalue(t, *where);
  report::ValueFormat format;
  format.depth = depth;
  format.poison = &target.poison;
  if (json) {
    auto j = report::value_json(objects, v, format);
    j["schema"] = "coroner.object";
    std::cout << report::to_json_text(j) << '\n';
  } else {
    if (offsets) std::cout << report::layout_text(*target.debug, t);
    std::cout << type_name(t) << " " << report::value_text(objects, v, format) << '\n';
  }
  print_warnings(target);
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
    bool no_cache = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "struct",
      "a type's layout, or an object in the dump: `struct [DUMP] TYPE [ADDR]` (like crash's struct; "
      "union and enum types work too)");
  cmd->add_option("args", args->positional, "[DUMP] TYPE [ADDR]: TYPE alone (or with -o) needs no dump; ADDR is an address or expression")
      ->required()->expected(1, 3);
  cmd->add_option("--vmlinux,-k", args->vmlinux,
                  "the kernel's vmlinux with debug info; with a dump and without it, the dump's own is looked for, "
                  "else the types are the kernel's BTF in the dump");
  cmd->add_option("--modules", args->module_dirs,
                  "a directory of the loaded modules' .ko files (their types need a dump); repeatable")
      ->allow_extra_args(false)
      ->check(CLI::ExistingDirectory);
  add_poison_option(*cmd, args->poison_files);
  add_cache_option(*cmd, args->no_cache);
  cmd->add_flag("-o,--offsets", args->offsets, "the layout with member offsets, as crash's struct -o");
  cmd->add_flag("--json", args->json, "print JSON (schema coroner.layout or coroner.object)");
  cmd->add_option("--depth", args->depth, "expand nested structs this deep (default 16)");
  cmd->callback([args] {
    const StructWords words = struct_words(args->positional);
    Target target;
    if (words.dump.empty()) {
      if (args->vmlinux.empty()) fail("struct " + words.type + ": a type needs a vmlinux (-k VMLINUX) or a dump to read it from");
      target.debug = open_debug_info(args->vmlinux, args->no_cache);
      if (!target.debug) throw CLI::RuntimeError(1);
    } else {
      DumpArgs dump{words.dump, args->vmlinux, args->module_dirs, args->poison_files, {}, args->no_cache};
      target = open_target(dump);
    }
    auto t = target.debug->find_type(words.type);
    if (!t) fail(t.error().message);
    if (!words.address.empty()) return print_object(target, *t, words.address, args->depth, args->offsets, args->json);
    if (args->json) std::cout << report::to_json_text(report::layout_json(*target.debug, *t)) << '\n';
    else std::cout << report::layout_text(*target.debug, *t);
  });
}

}  // namespace coroner::cli
