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

}  // namespace coroner::cli
