#include "coroner/os/linux/linux_view.hpp"

namespace coroner::linux_kernel {

Result<const ThreadList*> LinuxView::tasks() {
  if (!tasks_) tasks_ = read_tasks(objects_);
  if (!*tasks_) return tasks_->error();
  return &tasks_->value();
}

Result<const ThreadList*> LinuxView::threads() {
  auto t = tasks();
  if (!t || crashed_known_) return t;
  crashed_known_ = true;
  if (const Task* p = panicking_task()) tasks_->value().crashed = (*t)->index_of(*p);
  return t;
}

const ModuleList& LinuxView::modules() {
  if (!modules_) {
    auto m = read_modules(objects_);
    if (m) {
      modules_ = std::move(*m);
    } else {
      modules_ = ModuleList{};
      modules_->problems.push_back("modules: " + m.error().message);
    }
  }
  return *modules_;
}

LinuxView::~LinuxView() {
  for (const ModuleDebug& m : module_debug_.all()) objects_.debug().remove_fallback(m.debug.get());
  for (const ModuleBtf& m : module_btf_) objects_.debug().remove_fallback(m.debug.get());
}

void LinuxView::load_module_btf() {
  for (const ModuleBtf& m : module_btf_) objects_.debug().remove_fallback(m.debug.get());
  module_btf_problems_.clear();
  module_btf_ = read_module_btf(objects_, module_btf_problems_);
  // A module's .ko, when given, says more (lines, variables): its BTF is not needed then.
  std::erase_if(module_btf_, [&](const ModuleBtf& m) { return module_debug_.find(m.module) != nullptr; });
  for (const ModuleBtf& m : module_btf_) objects_.debug().add_fallback(m.debug.get());
}

void LinuxView::load_module_debug(const std::vector<std::string>& dirs, const std::optional<DebugSearch>& search,
                                  const IndexCache& cache) {
  if (dirs.empty() && !search) return;
  for (const ModuleDebug& m : module_debug_.all()) objects_.debug().remove_fallback(m.debug.get());
  module_debug_ = ModuleDebugSet::load(objects_.kernel(), modules(), dirs, search, cache);
  for (const ModuleDebug& m : module_debug_.all()) objects_.debug().add_fallback(m.debug.get());
}

const x86_64::OrcIndex& LinuxView::orc() {
  if (orc_) return *orc_;
  std::vector<std::string> problems;
  orc_ = load_orc(objects_, &modules(), problems);
  // A module whose in-memory tables the dump lacks unwinds with its .ko's, when given one.
  x86_64::OrcLayout layout = orc_layout(objects_);
  for (const LoadedModule& m : modules().modules) {
    const ModuleDebug* debug = module_debug_.find(m.name);
    if (orc_->has(m.name) || !debug) continue;
    auto table = module_orc_from_ko(*debug, m, layout);
    if (table) {
      orc_->add(std::move(*table));
      std::erase_if(problems, [&](const std::string& p) { return p.starts_with("module " + m.name + ":"); });
    } else {
      problems.push_back("module " + m.name + ": " + table.error().message);
    }
  }
  orc_problems_ = std::move(problems);
  return *orc_;
}

std::pair<DebugInfo*, uint64_t> LinuxView::debug_info_for(uint64_t pc) {
  const SymbolTable* syms = objects_.kernel().symbols();
  if (syms && syms->lookup(pc)) return {&objects_.debug(), pc - syms->kaslr_offset()};
  // A module's .ko was relocated to its load addresses: it is asked with run-time addresses.
  const LoadedModule* m = modules().containing(pc);
  const ModuleDebug* debug = m ? module_debug_.find(m->name) : nullptr;
  return {debug ? debug->debug.get() : nullptr, pc};
}

std::string LinuxView::source_line(uint64_t pc) {
  auto [debug, address] = debug_info_for(pc);
  return debug ? debug->source_line(address) : "";
}

std::optional<CallFrameRule> LinuxView::call_frame_rule(uint64_t pc) {
  auto [debug, address] = debug_info_for(pc);
  return debug ? debug->call_frame_rule(address) : std::nullopt;
}

namespace {
bool runs_through_panic(const Backtrace& bt) {
  for (const Frame& f : bt.frames) {
    const std::string& name = f.where.function;  // panic, or a compiler clone of it (panic.cold)
    if (name == "panic" || name.starts_with("panic.")) return true;
  }
  return false;
}
}  // namespace

const Task* LinuxView::panicking_task() {
  auto t = tasks();
  if (!t || !(*t)->panic_cpu) return nullptr;
  const ThreadList& list = **t;
  const Task* current = list.active_on(*list.panic_cpu);
  if (current && !current->idle) return current;
  if (current) {
    auto bt = backtrace(*current);
    if (bt && runs_through_panic(*bt)) return current;
  }
  for (const Task& other : list.threads) {
    if (other.idle || other.active_on || other.last_cpu != *list.panic_cpu) continue;
    auto bt = backtrace(other);
    if (bt && runs_through_panic(*bt)) return &other;
  }
  return current;
}

Result<Backtrace> LinuxView::backtrace(const Task& task) {
  auto t = tasks();
  if (!t) return t.error();
  if (!unwinder_) {
    const Kernel& k = objects_.kernel();
    const ModuleList* modules = &this->modules();
    auto text = std::make_shared<TextRanges>(k, modules);  // computed once for every task
    CodeView code;
    code.is_text = [text](uint64_t pc) { return text->contains(pc); };
    code.locate = [&k, modules](uint64_t pc, bool return_address) { return locate_code(k, modules, pc, return_address); };
    code.line = [this](uint64_t pc) { return source_line(pc); };
    code.call_frame_rule = [this](uint64_t pc) { return call_frame_rule(pc); };
    code.orc = &orc();
    unwinder_.emplace(k, std::move(code));
  }
  return task_backtrace(objects_.kernel(), **t, *unwinder_, task);
}

std::vector<std::string> LinuxView::problems() const {
  std::vector<std::string> out;
  if (tasks_ && *tasks_) out.insert(out.end(), (*tasks_)->problems.begin(), (*tasks_)->problems.end());
  if (modules_) out.insert(out.end(), modules_->problems.begin(), modules_->problems.end());
  out.insert(out.end(), module_debug_.problems().begin(), module_debug_.problems().end());
  out.insert(out.end(), orc_problems_.begin(), orc_problems_.end());
  out.insert(out.end(), module_btf_problems_.begin(), module_btf_problems_.end());
  return out;
}

}  // namespace coroner::linux_kernel
