#include <iostream>

#include "commands.hpp"
#include "coroner/format.hpp"
#include "coroner/os/linux/slub.hpp"
#include "coroner/os/linux/stack_references.hpp"
#include "coroner/report/info_report.hpp"
#include "coroner/report/task_report.hpp"
#include "coroner/target/expression.hpp"

namespace coroner::cli {
namespace {

// The size of what starts at `address`, when coroner knows: a task_struct, a slab object (from its
// start: the whole object), or a sized symbol.
std::optional<uint64_t> known_object_size(TypedMemory& objects, const linux_kernel::TaskList& tasks, uint64_t address,
                                          std::string& what) {
  if (auto slub = linux_kernel::Slub::read(objects)) {
    if (auto o = slub->object_at(address); o && *o && (*o)->slot && (*o)->offset == 0) {
      const auto& obj = **o;
      what = std::string(obj.free ? "free" : "allocated") + " " + obj.cache->name + " object";
      return obj.cache->object_size;
    }
  }
  if (const auto* t = tasks.by_address(address)) {
    auto type = objects.debug().find_type("struct task_struct");
    what = "task_struct of pid " + std::to_string(t->thread_id) + " (" + t->comm + ")";
    if (type) return strip_typedefs(*type)->size;
  }
  if (const ElfSymbols* syms = objects.kernel().symbols()) {
    if (auto hit = syms->lookup(address); hit && hit->offset == 0 && hit->symbol->size && !hit->symbol->function) {
      what = std::string(hit->symbol->name);
      return hit->symbol->size;
    }
  }
  return std::nullopt;
}

}  // namespace

void register_whatthread(CLI::App& app) {
  struct Args {
    DumpArgs dump;
    std::string address;
    std::optional<uint64_t> size;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("whatthread", "which threads hold a value in [ADDR, ADDR+SIZE) on their stacks or in "
                                               "their registers, and in which frame (mdb's ::whatthread)");
  add_dump_args(*cmd, args->dump, true);
  cmd->add_option("address", args->address, "an address or expression (0xffff..., &init_task, ...)")->required();
  cmd->add_option("--size", args->size, "bytes from ADDR (default: the object's size when known, else 1)");
  cmd->add_flag("--json", args->json, "print JSON (schema coroner.whatthread)");
  cmd->callback([args] {
    auto typed = open_target(args->dump);
    auto value = evaluate(*typed.objects, args->address);
    if (!value) fail(value.error().message);
    const Type* type = strip_typedefs(value->type);
    auto address = type && type->kind == TypeKind::pointer ? typed.objects->integer(*value)
                                                           : evaluate_address(*typed.objects, args->address);
    if (!address) fail(address.error().message);
    std::string what;
    std::optional<uint64_t> size = args->size;
    // A typed pointer, "(struct pipe_inode_info *)0x...", gives the object's size.
    const Type* pointee = type && type->kind == TypeKind::pointer ? strip_typedefs(type->target) : nullptr;
    if (!size && pointee && pointee->size) {
      size = pointee->size;
      what = type_name(pointee);
    }
    if (typed.model) return model_whatthread(typed, *address, size.value_or(1), what, args->json);
    linux_kernel::LinuxView& view = *typed.view;
    const auto& tasks = tasks_or_fail(view);
    if (!size) size = known_object_size(*typed.objects, tasks, *address, what).value_or(1);
    if (*size == 0) fail("--size 0 matches nothing; give the object's size in bytes");
    auto refs = linux_kernel::find_stack_references(view, *address, *address + *size);
    if (!refs) fail(refs.error().message);
    if (args->json) {
      nlohmann::ordered_json list = nlohmann::ordered_json::array();
      for (const auto& r : *refs) {
        nlohmann::ordered_json j{{"task", report::task_json(*r.thread)}, {"value", hex(r.value)}, {"offset", r.value - *address}};
        j["location"] = r.location ? nlohmann::ordered_json(hex(*r.location)) : nullptr;
        j["register"] = r.reg.empty() ? nullptr : nlohmann::ordered_json(r.reg);
        j["stack"] = r.stack;
        j["frame"] = r.place.frame ? nlohmann::ordered_json(r.place.frame->level) : nullptr;
        j["function"] = r.place.frame ? nlohmann::ordered_json(r.place.frame->where.function) : nullptr;
        j["place"] = r.place.text;
        list.push_back(std::move(j));
      }
      std::cout << report::to_json_text({{"schema", "coroner.whatthread"}, {"address", hex(*address)}, {"size", *size},
                                         {"object", what}, {"references", list}})
                << '\n';
    } else {
      std::cout << "threads holding a value in [" << hex(*address) << ", " << hex(*address + *size) << ")"
                << (what.empty() ? "" : " (" + what + ")") << ":\n";
      for (const auto& r : *refs) {
        std::cout << "  pid " << r.thread->thread_id << " (" << r.thread->comm << ")  ";
        if (r.location) std::cout << r.stack << " stack " << hex(*r.location);
        std::cout << "  " << hex(r.value);
        if (r.value != *address) std::cout << " (+" << hex(r.value - *address) << ")";
        std::cout << "  " << r.place.text << '\n';
      }
      if (refs->empty()) std::cout << "  none\n";
    }
    print_warnings(view);
  });
}

}  // namespace coroner::cli
