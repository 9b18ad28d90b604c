#include "coroner/os/target.hpp"

namespace coroner {

const os_model::OsModel* os_model_of(const Kernel& kernel) {
  const ElfSymbols* symbols = kernel.symbols();
  if (!symbols) return nullptr;
  return os_model::detect_os_model([&](const std::string& s) { return symbols->find(s) != nullptr; });
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

Result<Target> Target::open(const TargetOptions& options, std::unique_ptr<Kernel> kernel) {
  Target t;
  if (!kernel) {
    KernelOpenOptions open{options.dump, std::nullopt};
    if (!options.vmlinux.empty()) open.vmlinux_path = options.vmlinux;
    auto opened = Kernel::open(open);
    if (!opened) return opened.error();
    kernel = std::move(*opened);
  }
  t.kernel = std::move(kernel);
  if (!t.kernel->symbols()) {
    return make_error(options.vmlinux + " does not match " + options.dump + ": " + t.kernel->vmlinux_check().detail +
                      "\n(run `coroner info` for details)");
  }
  auto debug = DebugInfo::open(options.vmlinux);
  if (!debug) return debug.error();
  t.debug = std::move(*debug);
  t.warnings = t.debug->index().problems();
  t.objects = std::make_unique<TypedMemory>(*t.kernel, *t.debug);
  t.model = os_model_of(*t.kernel);
  if (!t.model) {
    t.view = std::make_unique<linux_kernel::LinuxView>(*t.objects);
    t.view->load_module_debug(options.module_dirs);
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

}  // namespace coroner
