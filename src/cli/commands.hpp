#pragma once
// Each subcommand registers itself on the app; the CLI holds no analysis logic of its own.
#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "coroner/target/kernel.hpp"

namespace coroner::cli {

struct DumpArgs {
  std::string dump;
  std::string vmlinux;
};
void add_dump_args(CLI::App& cmd, DumpArgs& args, bool vmlinux_required);
// Opens the dump; on failure prints the error and returns nullptr.
std::unique_ptr<Kernel> open_kernel(const DumpArgs& args);

void register_info(CLI::App& app);
void register_log(CLI::App& app);

}  // namespace coroner::cli
