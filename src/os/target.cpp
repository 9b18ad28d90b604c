#include "coroner/os/target.hpp"

#include "coroner/os/linux/kernel_btf.hpp"
#include "coroner/os/linux/kernel_summary.hpp"
#include "coroner/os/linux/stack_references.hpp"
#include "coroner/os/linux/printk_log.hpp"
#include "coroner/os/linux/whatis.hpp"
#include "coroner/os/model/model_whatis.hpp"
#include "coroner/os/model/model_log.hpp"
#include "coroner/os/model/model_summary.hpp"
#include "coroner/os/model/model_threads.hpp"

namespace coroner {

const os_model::OsModel* os_model_of(const Kernel& kernel) {
  // A model walks its kernel by expressions over the vmlinux's DWARF; without a vmlinux the symbols
  // are kallsyms, which only Linux has.
  if (kernel.vmlinux_check().path.empty()) return nullptr;
  const SymbolTable* symbols = kernel.symbols();
  if (!symbols) return nullptr;
  return os_model::detect_os_model([&](const std::string& s) { return symbols->find(s) != nullptr; });
}

std::string kernel_os(const Kernel& kernel) {
  const os_model::OsModel* model = os_model_of(kernel);
  return model ? model->os : "linux";
}

Result<PoisonCatalog> poison_catalog(const std::vector<std::string>& files) {
  PoisonCatalog catalog = PoisonCatalog::shipped();
  for (const auto& path : files) {
    auto extra = PoisonCatalog::load(path);
    if (!extra) return extra.error();
    catalog.merge(*extra);
  }
  return catalog;
}

namespace {

// Why there are no symbols: none given and none found (where it looked), or the one given or
// found does not match the dump.
Error no_symbols(const TargetOptions& options, const Kernel& kernel, const std::string& no_btf = "") {
  const VmlinuxCheck& check = kernel.vmlinux_check();
  if (check.path.empty()) {
    std::string release(kernel.vmcoreinfo().osrelease().value_or(""));
    std::string build_id(kernel.vmcoreinfo().build_id().value_or(""));
    std::string looked;
    for (const auto& t : check.tried) looked += "\n  " + t;
    // What the dump could not give in its place.
    if (!kernel.kallsyms_problem().empty()) looked += "\n  kallsyms in the dump: " + kernel.kallsyms_problem();
    if (!no_btf.empty()) looked += "\n  BTF in the dump: " + no_btf;
    return make_error("no vmlinux for " + options.dump + " (build-id " + (build_id.empty() ? "unknown" : build_id) +
                      ", release " + (release.empty() ? "unknown" : release) + "): none given with -k, and none found:" +
                      looked + "\nInstall the kernel's debug package (Debian: linux-image-" +
                      (release.empty() ? "RELEASE" : release) +
                      "-dbg), point --debug-dir or CORONER_DEBUG_PATH at a directory laid out like /usr/lib/debug, set "
                      "DEBUGINFOD_URLS to a debuginfod server, or give -k VMLINUX");
  }
  return make_error(check.path + " does not match " + options.dump + ": " + check.detail + "\n(run `coroner info` for details)");
}

}  // namespace

Result<Target> Target::open(const TargetOptions& options, std::unique_ptr<Kernel> kernel) {
  Target t;
  if (!kernel) {
    KernelOpenOptions open{options.dump, std::nullopt, std::nullopt};
    if (!options.vmlinux.empty()) open.vmlinux_path = options.vmlinux;
    else open.find_vmlinux = options.search;
    auto opened = Kernel::open(open);
    if (!opened) return opened.error();
    kernel = std::move(*opened);
  }
  t.kernel = std::move(kernel);
  if (!t.kernel->symbols()) return no_symbols(options, *t.kernel);
  const std::string& vmlinux = t.kernel->vmlinux_check().path;
  // Without a vmlinux the symbols are kallsyms', and the types the kernel's own BTF.
  auto debug = vmlinux.empty() ? linux_kernel::read_kernel_btf(*t.kernel) : DebugInfo::open(vmlinux, 0, {}, IndexCache(options.cache));
  if (!debug && vmlinux.empty()) return no_symbols(options, *t.kernel, debug.error().message);
  if (!debug) return debug.error();
  t.debug = std::move(*debug);
  t.warnings = t.debug->problems();
  t.objects = std::make_unique<TypedMemory>(*t.kernel, *t.debug);
  t.model = os_model_of(*t.kernel);
  if (!t.model) {
    t.view = std::make_unique<linux_kernel::LinuxView>(*t.objects);
    std::vector<std::string> modules = options.module_dirs;
    if (modules.empty()) modules = module_debug_directories(std::string(t.kernel->vmcoreinfo().osrelease().value_or("")), options.search);
    // Modules by build-id too: in the debug directories and what debuginfod already cached, not
    // downloaded (every typed command would otherwise ask the servers for every loaded module).
    DebugSearch module_search = options.search;
    module_search.debuginfod = false;
    t.view->load_module_debug(modules, module_search, IndexCache(options.cache));
    if (t.debug->btf()) t.view->load_module_btf();
  }
  auto poison = poison_catalog(options.poison_files);
  if (!poison) return poison.error();
  t.poison = std::move(*poison);
  return t;
}

linux_kernel::Slub* Target::slub() {
  if (!view) return nullptr;
  if (!slub_) {
    slub_ = linux_kernel::Slub::read(*objects);
    if (!*slub_) slub_problem = slub_->error().message;
  }
  return *slub_ ? &slub_->value() : nullptr;
}

Result<const ThreadList*> Target::threads() {
  if (view) return view->threads();
  if (!model_threads_) {
    ThreadList list = os_model::read_threads(*objects, *model);
    if (list.threads.empty()) {
      std::string why = list.problems.empty() ? "the list is empty" : list.problems.front();
      model_threads_ = make_error("no " + model->os + " threads found through " + model->file + ": " + why);
    } else {
      model_threads_ = std::move(list);
    }
  }
  if (!*model_threads_) return model_threads_->error();
  return &model_threads_->value();
}

Result<Backtrace> Target::backtrace(const Thread& thread) {
  if (view) return view->backtrace(thread);
  return os_model::unwind(model_unwinder(), thread);
}

Result<std::vector<StackReference>> Target::stack_references(const std::function<bool(uint64_t)>& match) {
  if (view) return linux_kernel::find_stack_references(*view, match);
  auto list = threads();
  if (!list) return list.error();
  return os_model::find_stack_references(model_unwinder(), **list, match);
}

const Unwinder& Target::model_unwinder() {
  if (!model_unwinder_) model_unwinder_ = std::make_unique<Unwinder>(os_model::model_unwinder(*objects));
  return *model_unwinder_;
}

const os_model::KmemBuffers* Target::kmem() {
  if (!model) return nullptr;
  if (!kmem_) kmem_ = os_model::KmemBuffers::read(*objects, *model);
  return *kmem_ ? &**kmem_ : nullptr;
}

Identity Target::identify(uint64_t address) {
  Identity out;
  if (view) {
    out = linux_kernel::what_is(*view, slub(), address);
  } else {
    auto list = threads();
    static const ThreadList kNone;
    out = os_model::what_is(model_unwinder(), list ? **list : kNone, kmem(), address);
    if (!list) out.problems.push_back(list.error().message);
  }
  if (auto word = kernel->read_u64(address & ~uint64_t{7})) {
    out.word = *word;
    out.poison = poison.match_scalar(*word, 8, os());
  }
  return out;
}

CrashAccount Target::crash_account(const Result<KernelLog>& log) {
  CrashAccount out;
  const KernelLog* read = log ? &*log : nullptr;
  if (view) {
    out.summary = linux_kernel::summarize(*kernel, read);
    if (out.summary.panic_message.value) out.panic.push_back(*out.summary.panic_message.value);
    if (out.summary.panic_cause.value) out.panic.push_back(*out.summary.panic_cause.value);
    return out;
  }
  out.summary = os_model::summarize_model(*objects, *model, &log);
  if (!log && model->log) out.problems.push_back("message buffer: " + log.error().message);
  if (!model->panic_log.empty()) {
    if (read) out.panic = os_model::panic_from_log(*model, read->lines());
  } else if (out.summary.panic_message.value) {
    out.panic.push_back(*out.summary.panic_message.value);
  }
  // A model's panic string is its cause too when the kernel says no other.
  if (!out.summary.panic_cause.value) out.summary.panic_cause.value = out.summary.panic_message.value;
  return out;
}

std::optional<Allocation> Target::allocation_at(uint64_t address, bool history) {
  if (linux_kernel::Slub* s = slub()) {
    if (!jiffies_) jiffies_.emplace(*kernel);
    return linux_kernel::slab_allocation(*s, *jiffies_, address, history);
  }
  const os_model::KmemBuffers* buffers = kmem();
  if (!buffers) return std::nullopt;
  auto b = buffers->buffer_at(address);
  if (!b) return std::nullopt;
  return os_model::as_allocation(*b);
}

std::optional<linux_kernel::FaultExplanation> Target::explain_fault(const Backtrace& bt, const KernelLog* log) {
  if (!view) return std::nullopt;
  return linux_kernel::explain_fault(*view, slub(), poison, bt, log);
}

SlotPlace Target::place_on_stack(const Thread& thread, const Backtrace& bt, uint64_t location) const {
  if (view) return linux_kernel::place_on_stack(bt, thread, location);
  return os_model::place_on_stack(thread, bt, location);
}

CodeLocation Target::locate(uint64_t pc, bool return_address) {
  return view ? linux_kernel::locate_code(*kernel, &view->modules(), pc, return_address) : locate_in_image(*kernel, pc, return_address);
}

Result<linux_kernel::LinuxView*> Target::linux_structures(std::string_view command, std::string_view needs) {
  if (view) return view.get();
  return make_error(std::string(command) + ": " + kernel->dump().path() + " holds a kernel described by " + model->file + " (" +
                    model->os + "); " + std::string(needs) + " are read on Linux only. On this kernel use ps, bt, whatis, "
                    "whatthread, search --stacks, log, info, struct, print, list or analyze");
}

const std::vector<std::string>& Target::crash_machinery() const {
  return model ? model->panic_machinery : linux_kernel::crash_machinery();
}

DebugSources Target::debug_sources() const {
  DebugSources out;
  if (const SymbolTable* s = kernel->symbols()) out.symbols = s->source();
  if (debug) out.types = debug->btf() ? debug->path() : "DWARF of " + debug->path();
  return out;
}

const Type* Target::thread_type() const {
  auto type = debug->find_type(model ? model->thread_type : "struct task_struct");
  return type ? strip_typedefs(*type) : nullptr;
}

Result<KernelLog> Target::log() const {
  if (model) return os_model::read_log(*objects, *model);
  return linux_kernel::read_printk_log(*kernel);
}

linux_kernel::KernelSummary Target::summary() const {
  if (model) return os_model::summarize_model(*objects, *model);
  return *summary_without_types(*kernel);
}

std::optional<Result<KernelLog>> log_without_types(const Kernel& kernel) {
  if (os_model_of(kernel)) return std::nullopt;
  return linux_kernel::read_printk_log(kernel);
}

std::optional<linux_kernel::KernelSummary> summary_without_types(const Kernel& kernel) {
  auto log = log_without_types(kernel);
  if (!log) return std::nullopt;
  auto summary = linux_kernel::summarize(kernel, *log ? &log->value() : nullptr);
  if (!*log) summary.warnings.push_back("kernel log: " + log->error().message);
  return summary;
}

std::vector<std::string> Target::problems() const { return view ? view->problems() : std::vector<std::string>{}; }

}  // namespace coroner
