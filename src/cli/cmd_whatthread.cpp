#include <iostream>

#include "commands.hpp"
#include "coroner/report/info_report.hpp"
#include "coroner/report/thread_report.hpp"
#include "coroner/target/expression.hpp"

namespace coroner::cli {
namespace {

// The size of what starts at `address`, when coroner knows: a slab object (from its start: the
// whole object), a thread structure, or a sized symbol.
std::optional<uint64_t> known_object_size(Target& target, const ThreadList& threads, uint64_t address, std::string& what) {
  if (auto* slub = target.slub()) {
    if (auto o = slub->object_at(address); o && *o && (*o)->slot && (*o)->offset == 0) {
      const auto& obj = **o;
      what = std::string(obj.free ? "free" : "allocated") + " " + obj.cache->name + " object";
      return obj.cache->object_size;
    }
  }
  if (const Thread* t = threads.by_address(address)) {
    if (const Type* type = target.thread_type(); type && type->size) {
      what = type_name(type) + " of thread " + std::to_string(t->thread_id) + " (" + thread_name(*t) + ")";
      return type->size;
    }
  }
  if (const SymbolTable* syms = target.kernel->symbols()) {
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
    const ThreadList& threads = threads_or_fail(typed);
    if (!size) size = known_object_size(typed, threads, *address, what).value_or(1);
    if (*size == 0) fail("--size 0 matches nothing; give the object's size in bytes");
    const report::HeldRange range{*address, *size, what};
    auto refs = typed.stack_references([&](uint64_t v) { return v >= range.address && v - range.address < range.size; });
    if (!refs) fail(refs.error().message);
    if (args->json) std::cout << report::to_json_text(report::whatthread_json(typed.os(), range, *refs)) << '\n';
    else std::cout << report::whatthread_text(range, *refs);
    print_warnings(typed);
  });
}

}  // namespace coroner::cli
