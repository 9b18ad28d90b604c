#include <iostream>

#include "commands.hpp"
#include "progress.hpp"

namespace coroner::cli {

void add_dump_args(CLI::App& cmd, DumpArgs& args, bool with_types) {
  cmd.add_option("dump", args.dump, "crash dump: ELF vmcore, kdump-compressed or makedumpfile flattened")
      ->required();
  cmd.add_option("--vmlinux,-k", args.vmlinux,
                 "the kernel's vmlinux with symbols (Debian: linux-image-*-dbg); without it, the dump's own is looked "
                 "for by its build-id and release under --debug-dir, CORONER_DEBUG_PATH and /usr/lib/debug, then on "
                 "the debuginfod servers DEBUGINFOD_URLS names");
  cmd.add_option("--debug-dir", args.debug_dirs,
                 "a directory laid out like /usr/lib/debug (.build-id/, boot/vmlinux-RELEASE, lib/modules/RELEASE/) "
                 "to look for the vmlinux and the modules' debug files in; repeatable")
      ->allow_extra_args(false)
      ->check(CLI::ExistingDirectory);
  add_cache_option(cmd, args.no_cache);
  if (!with_types) return;
  add_poison_option(cmd, args.poison_files);
  cmd.add_option("--modules", args.module_dirs,
                 "a directory of the loaded modules' .ko files with debug info, searched recursively "
                 "(Debian: /usr/lib/debug/lib/modules/RELEASE, the default when it exists); repeatable")
      ->allow_extra_args(false)
      ->check(CLI::ExistingDirectory);
}

void add_cache_option(CLI::App& cmd, bool& no_cache) {
  cmd.add_flag("--no-cache", no_cache,
               "neither read nor write the index of the vmlinux's and modules' debug info kept under "
               "$XDG_CACHE_HOME/coroner/index (default ~/.cache/coroner/index) by build-id");
}

IndexCacheSettings index_cache(bool no_cache) { return no_cache ? IndexCacheSettings{} : default_index_cache(); }

DebugSearch debug_search(const DumpArgs& args) {
  DebugSearch search{args.debug_dirs, true, {}};
  if (Progress::stderr_is_terminal()) {
    search.progress = [](long done, long total) {
      std::cerr << "\rcoroner: debuginfod: " << done / (1 << 20) << (total > 0 ? " of " + std::to_string(total / (1 << 20)) : "")
                << " MiB" << std::flush;
    };
  }
  return search;
}

std::unique_ptr<Kernel> open_kernel(const DumpArgs& args, std::optional<DebugSearch> search) {
  KernelOpenOptions options{args.dump, std::nullopt, std::nullopt};
  if (!args.vmlinux.empty()) options.vmlinux_path = args.vmlinux;
  else options.find_vmlinux = std::move(search);
  auto kernel = Kernel::open(options);
  if (!kernel) {
    std::cerr << "coroner: " << kernel.error().message << '\n';
    return nullptr;
  }
  return std::move(*kernel);
}

std::unique_ptr<DebugInfo> open_debug_info(const std::string& vmlinux, bool no_cache) {
  auto debug = DebugInfo::open(vmlinux, 0, {}, IndexCache(index_cache(no_cache)));
  if (!debug) {
    std::cerr << "coroner: " << debug.error().message << '\n';
    return nullptr;
  }
  for (const auto& p : (*debug)->problems()) std::cerr << "coroner: warning: " << p << '\n';
  return std::move(*debug);
}

void fail(const std::string& message) {
  std::cerr << "coroner: " << message << '\n';
  throw CLI::RuntimeError(1);
}

Target open_target(const DumpArgs& args) { return open_target(nullptr, args); }

Target open_target(std::unique_ptr<Kernel> kernel, const DumpArgs& args) {
  auto target = Target::open({args.dump, args.vmlinux, args.module_dirs, args.poison_files, debug_search(args),
                              index_cache(args.no_cache)},
                             std::move(kernel));
  if (!target) fail(target.error().message);
  for (const auto& p : target->warnings) std::cerr << "coroner: warning: " << p << '\n';
  return std::move(*target);
}

linux_kernel::Slub* slub_or_warn(Target& target) {
  bool first = !target.slub_problem;
  linux_kernel::Slub* slub = target.slub();
  if (!slub && first && target.slub_problem) std::cerr << "coroner: warning: slab caches unreadable: " << *target.slub_problem << '\n';
  return slub;
}

void add_poison_option(CLI::App& cmd, std::vector<std::string>& files) {
  cmd.add_option("--poison", files, "a poison catalog of your own, added to data/poison.yaml's patterns; repeatable")
      ->allow_extra_args(false)
      ->check(CLI::ExistingFile);
}

PoisonCatalog poison_catalog_or_fail(const std::vector<std::string>& files) {
  auto catalog = poison_catalog(files);
  if (!catalog) fail(catalog.error().message);
  return std::move(*catalog);
}

linux_kernel::LinuxView& linux_or_fail(Target& typed, std::string_view command, std::string_view needs) {
  auto view = typed.linux_structures(command, needs);
  if (!view) fail(view.error().message);
  return **view;
}

const ThreadList& threads_or_fail(Target& target) {
  auto threads = target.threads();
  if (!threads) fail("cannot list the threads: " + threads.error().message);
  return **threads;
}

void print_warnings(Target& target) {
  for (const auto& p : target.problems()) std::cerr << "coroner: warning: " << p << '\n';
  print_warnings(*target.kernel);
}

void print_warnings(const Kernel& kernel) {
  for (const auto& w : kernel.warnings()) std::cerr << "coroner: warning: " << w << '\n';
}

}  // namespace coroner::cli
