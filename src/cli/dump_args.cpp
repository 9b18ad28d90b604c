#include <iostream>

#include "commands.hpp"

namespace coroner::cli {

void add_dump_args(CLI::App& cmd, DumpArgs& args, bool vmlinux_required) {
  cmd.add_option("dump", args.dump, "crash dump: ELF vmcore, kdump-compressed or makedumpfile flattened")
      ->required();
  auto* v = cmd.add_option("--vmlinux,-k", args.vmlinux, "the kernel's vmlinux with symbols (Debian: linux-image-*-dbg)");
  if (!vmlinux_required) return;
  v->required();
  add_poison_option(cmd, args.poison_files);
  cmd.add_option("--modules", args.module_dirs,
                 "a directory of the loaded modules' .ko files with debug info, searched recursively "
                 "(Debian: /usr/lib/debug/lib/modules/RELEASE); repeatable")
      ->allow_extra_args(false)
      ->check(CLI::ExistingDirectory);
}

std::unique_ptr<Kernel> open_kernel(const DumpArgs& args) {
  KernelOpenOptions options{args.dump, std::nullopt};
  if (!args.vmlinux.empty()) options.vmlinux_path = args.vmlinux;
  auto kernel = Kernel::open(options);
  if (!kernel) {
    std::cerr << "coroner: " << kernel.error().message << '\n';
    return nullptr;
  }
  return std::move(*kernel);
}

std::unique_ptr<DebugInfo> open_debug_info(const std::string& vmlinux) {
  auto debug = DebugInfo::open(vmlinux);
  if (!debug) {
    std::cerr << "coroner: " << debug.error().message << '\n';
    return nullptr;
  }
  for (const auto& p : (*debug)->index().problems()) std::cerr << "coroner: warning: " << p << '\n';
  return std::move(*debug);
}

void fail(const std::string& message) {
  std::cerr << "coroner: " << message << '\n';
  throw CLI::RuntimeError(1);
}

const os_model::OsModel* os_model_of(const Kernel& kernel) {
  const ElfSymbols* symbols = kernel.symbols();
  if (!symbols) return nullptr;
  return os_model::detect_os_model([&](const std::string& s) { return symbols->find(s) != nullptr; });
}

TypedDump open_typed_dump(const DumpArgs& args) {
  auto kernel = open_kernel(args);
  if (!kernel) throw CLI::RuntimeError(1);
  return typed_dump(std::move(kernel), args);
}

TypedDump typed_dump(std::unique_ptr<Kernel> kernel, const DumpArgs& args) {
  TypedDump t;
  t.kernel = std::move(kernel);
  if (!t.kernel->symbols()) {
    fail(args.vmlinux + " does not match " + args.dump + ": " + t.kernel->vmlinux_check().detail +
         "\n(run `coroner info` for details)");
  }
  t.debug = open_debug_info(args.vmlinux);
  if (!t.debug) throw CLI::RuntimeError(1);
  t.objects = std::make_unique<Objects>(*t.kernel, *t.debug);
  t.model = os_model_of(*t.kernel);
  t.view = std::make_unique<linux_kernel::LinuxView>(*t.objects);
  t.view->load_module_debug(args.module_dirs);
  t.poison = poison_catalog(args.poison_files);
  return t;
}

linux_kernel::Slub* TypedDump::slub() {
  if (!slub_) {
    slub_ = linux_kernel::Slub::read(*objects);
    if (!*slub_) std::cerr << "coroner: warning: slab caches unreadable: " << slub_->error().message << '\n';
  }
  return *slub_ ? &slub_->value() : nullptr;
}

void add_poison_option(CLI::App& cmd, std::vector<std::string>& files) {
  cmd.add_option("--poison", files, "a poison catalog of your own, added to data/poison.yaml's patterns; repeatable")
      ->allow_extra_args(false)
      ->check(CLI::ExistingFile);
}

PoisonCatalog poison_catalog(const std::vector<std::string>& files) {
  PoisonCatalog catalog = PoisonCatalog::shipped();
  for (const auto& path : files) {
    auto extra = PoisonCatalog::load(path);
    if (!extra) fail(extra.error().message);
    catalog.merge(*extra);
  }
  return catalog;
}

linux_kernel::LinuxView& linux_or_fail(TypedDump& typed, std::string_view command, std::string_view needs) {
  if (typed.model) {
    fail(std::string(command) + ": " + typed.kernel->dump().path() + " holds a kernel described by " + typed.model->file + " (" +
         typed.model->os + "); " + std::string(needs) + " are read on Linux only. On this kernel use ps, bt, whatis, "
         "whatthread, log, info, struct, print, list or analyze");
  }
  return *typed.view;
}

const linux_kernel::TaskList& tasks_or_fail(linux_kernel::LinuxView& view) {
  auto tasks = view.tasks();
  if (!tasks) fail("cannot list the tasks: " + tasks.error().message);
  return **tasks;
}

void print_warnings(linux_kernel::LinuxView& view) {
  for (const auto& p : view.problems()) std::cerr << "coroner: warning: " << p << '\n';
  print_warnings(view.objects().kernel());
}

void print_warnings(const Kernel& kernel) {
  for (const auto& w : kernel.warnings()) std::cerr << "coroner: warning: " << w << '\n';
}

}  // namespace coroner::cli
