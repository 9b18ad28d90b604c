#pragma once
// Each subcommand registers itself on the app; the CLI holds no analysis logic of its own.
#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "coroner/debuginfo/debug_info.hpp"
#include "coroner/os/linux/linux_view.hpp"
#include "coroner/os/linux/slub.hpp"
#include "coroner/os/target.hpp"
#include "coroner/poison/poison_catalog.hpp"
#include "coroner/target/kernel.hpp"
#include "coroner/target/object.hpp"

namespace coroner::cli {

struct DumpArgs {
  std::string dump;
  std::string vmlinux;
  std::vector<std::string> module_dirs;  // --modules: where the loaded modules' .ko files are
  std::vector<std::string> poison_files;  // --poison: catalogs added to data/poison.yaml's
  std::vector<std::string> debug_dirs;    // --debug-dir: where to look for the vmlinux when -k is not given
  bool no_cache = false;                  // --no-cache: build the debug files' indexes, keep none
};
// --no-cache on a command that reads debug info.
void add_cache_option(CLI::App& cmd, bool& no_cache);
// Where the debug files' indexes are kept: the user's cache directory, or none with --no-cache.
IndexCacheSettings index_cache(bool no_cache);
// Where the vmlinux is looked for when -k is not given, with a progress line for a download.
DebugSearch debug_search(const DumpArgs& args);
// `with_types`: the command reads the kernel's types (it takes --poison and --modules too).
void add_dump_args(CLI::App& cmd, DumpArgs& args, bool with_types);
// Opens the dump with -k's vmlinux, or without -k the one `search` finds (none: no vmlinux); on
// failure prints the error and returns nullptr.
std::unique_ptr<Kernel> open_kernel(const DumpArgs& args, std::optional<DebugSearch> search);

// Prints "coroner: MESSAGE" and ends the command with exit status 1.
[[noreturn]] void fail(const std::string& message);
// The vmlinux's debug info alone (`struct TYPE -k V`); on failure prints the error and returns nullptr.
std::unique_ptr<DebugInfo> open_debug_info(const std::string& vmlinux, bool no_cache);
// The dump opened with its types (Target::open); fails the command, saying why, when it cannot be.
Target open_target(const DumpArgs& args);
// The same, for a kernel already opened (`info` and `log` open one before they know they need types).
Target open_target(std::unique_ptr<Kernel> kernel, const DumpArgs& args);
// `info` and `log`: the dump answers by itself where the kernel allows it (Linux, through
// VMCOREINFO) and is opened with its types only when it must be (a model kernel).
class DumpAnswers {
 public:
  DumpAnswers(std::unique_ptr<Kernel> kernel, const DumpArgs& args) : kernel_(std::move(kernel)), args_(args) {}
  const Kernel& kernel() const { return typed_ ? *typed_->kernel : *kernel_; }
  // `untyped(kernel)` when it answers (not nullopt), else `typed(target)`.
  template <class Untyped, class Typed>
  auto answer(Untyped untyped, Typed typed) {
    auto a = untyped(*kernel_);
    if (a) return std::move(*a);
    typed_.emplace(open_target(std::move(kernel_), args_));
    return typed(*typed_);
  }

 private:
  std::unique_ptr<Kernel> kernel_;
  std::optional<Target> typed_;
  const DumpArgs& args_;
};
// The slab allocator; null (after a warning on stderr) when unreadable.
linux_kernel::Slub* slub_or_warn(Target& target);
void add_poison_option(CLI::App& cmd, std::vector<std::string>& files);
// The shipped poison catalog with the users' files merged in; fails the command on a bad file.
PoisonCatalog poison_catalog_or_fail(const std::vector<std::string>& files);
// Linux's structures, for a command that reads them (`kmem`: "the slab caches"); on a kernel one
// of data/os/'s models describes, fails the command naming the kernel and what it lacks.
linux_kernel::LinuxView& linux_or_fail(Target& typed, std::string_view command, std::string_view needs);
// The threads of a typed dump; fails the command (saying why) when they cannot be read.
const ThreadList& threads_or_fail(Target& target);
// The kernel's warnings and the problems met on the way (unreadable tasks, modules, ORC tables),
// on stderr.
void print_warnings(const Kernel& kernel);
void print_warnings(Target& target);

// whatis on a kernel described by an OS model (typed.model set).
void model_whatis(Target& typed, const std::vector<uint64_t>& addresses, bool json);

void register_info(CLI::App& app);
void register_struct(CLI::App& app);
void register_print(CLI::App& app);
void register_list(CLI::App& app);
void register_log(CLI::App& app);
void register_ps(CLI::App& app);
void register_bt(CLI::App& app);
void register_mod(CLI::App& app);
void register_whatthread(CLI::App& app);
void register_search(CLI::App& app);
void register_whatis(CLI::App& app);
void register_kmem(CLI::App& app);
void register_scan(CLI::App& app);
void register_dis(CLI::App& app);
void register_fault(CLI::App& app);
void register_analyze(CLI::App& app);
void register_rules(CLI::App& app);

}  // namespace coroner::cli
