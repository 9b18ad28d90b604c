#pragma once
// A kernel opened for analysis, the one object every typed command gets: the dump, the vmlinux's
// debug info and the typed memory between them, and which kernel it is, decided once: Linux (a
// LinuxView over its own structures) or one of data/os/'s models. Nothing else opens a dump with
// its types.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "coroner/debuginfo/debug_info.hpp"
#include "coroner/os/linux/linux_view.hpp"
#include "coroner/os/linux/slub.hpp"
#include "coroner/os/model/os_model.hpp"
#include "coroner/poison/poison_catalog.hpp"
#include "coroner/target/kernel.hpp"
#include "coroner/target/object.hpp"

namespace coroner {

struct TargetOptions {
  std::string dump, vmlinux;
  std::vector<std::string> module_dirs;   // the loaded modules' .ko files with debug info (Linux)
  std::vector<std::string> poison_files;  // catalogs added to data/poison.yaml's
};

struct Target {
  // Opens the dump and the vmlinux, refuses a vmlinux whose symbols do not match the dump (saying
  // how to check), and detects the kernel. `kernel`: a dump already opened (`info` and `log` open
  // one before they know they need types).
  static Result<Target> open(const TargetOptions& options, std::unique_ptr<Kernel> kernel = nullptr);

  std::unique_ptr<Kernel> kernel;
  std::unique_ptr<DebugInfo> debug;
  std::unique_ptr<TypedMemory> objects;
  std::unique_ptr<linux_kernel::LinuxView> view;  // Linux: its structures, with the modules' debug info
  const os_model::OsModel* model = nullptr;       // a kernel data/os/ describes; then `view` is null
  PoisonCatalog poison;                           // the shipped catalog and the options' files
  std::vector<std::string> warnings;              // the debug info's index problems

  // The slab allocator, read on first use; null when unreadable (`slub_problem` says why) or not Linux.
  linux_kernel::Slub* slub();
  std::optional<std::string> slub_problem;

 private:
  std::optional<Result<linux_kernel::Slub>> slub_;
};

// The OS model whose symbols the kernel's vmlinux has, if any: not Linux.
const os_model::OsModel* os_model_of(const Kernel& kernel);
// The shipped poison catalog with `files` merged in.
Result<PoisonCatalog> poison_catalog(const std::vector<std::string>& files);

}  // namespace coroner
