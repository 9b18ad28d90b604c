#include <iostream>

#include "commands.hpp"

namespace coroner::cli {

void add_dump_args(CLI::App& cmd, DumpArgs& args, bool vmlinux_required) {
  cmd.add_option("dump", args.dump, "crash dump: ELF vmcore, kdump-compressed or makedumpfile flattened")
      ->required();
  auto* v = cmd.add_option("--vmlinux,-k", args.vmlinux, "the kernel's vmlinux with symbols (Debian: linux-image-*-dbg)");
  if (vmlinux_required) v->required();
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

std::unique_ptr<Kernel> open_kernel_for_types(const DumpArgs& args) {
  auto kernel = open_kernel(args);
  if (!kernel) return nullptr;
  if (!kernel->symbols()) {
    std::cerr << "coroner: " << args.vmlinux << " does not match " << args.dump << ": "
              << kernel->vmlinux_check().detail << "\n(run `coroner info` for details)\n";
    return nullptr;
  }
  return kernel;
}

void print_warnings(const Kernel& kernel) {
  for (const auto& w : kernel.warnings()) std::cerr << "coroner: warning: " << w << '\n';
}

}  // namespace coroner::cli
