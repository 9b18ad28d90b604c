#pragma once
// Each subcommand registers itself on the app; the CLI holds no analysis logic of its own.
#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "coroner/debuginfo/debug_info.hpp"
#include "coroner/target/kernel.hpp"

namespace coroner::cli {

struct DumpArgs {
  std::string dump;
  std::string vmlinux;
};
void add_dump_args(CLI::App& cmd, DumpArgs& args, bool vmlinux_required);
// Opens the dump; on failure prints the error and returns nullptr.
std::unique_ptr<Kernel> open_kernel(const DumpArgs& args);

// The vmlinux's debug info; on failure prints the error and returns nullptr.
std::unique_ptr<DebugInfo> open_debug_info(const std::string& vmlinux);
// A kernel whose symbols can be trusted with the vmlinux's types; nullptr (after saying why) if not.
std::unique_ptr<Kernel> open_kernel_for_types(const DumpArgs& args);
void print_warnings(const Kernel& kernel);

void register_info(CLI::App& app);
void register_struct(CLI::App& app);
void register_print(CLI::App& app);
void register_list(CLI::App& app);
void register_log(CLI::App& app);

}  // namespace coroner::cli
