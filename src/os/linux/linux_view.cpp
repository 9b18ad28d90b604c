#include "coroner/os/linux/linux_view.hpp"

namespace coroner::linux_kernel {

Result<const TaskList*> LinuxView::tasks() {
  if (!tasks_) tasks_ = read_tasks(objects_);
  if (!*tasks_) return tasks_->error();
  return &tasks_->value();
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

const x86_64::OrcIndex& LinuxView::orc() {
  if (!orc_) orc_ = load_orc(objects_, &modules(), orc_problems_);
  return *orc_;
}

Result<Backtrace> LinuxView::backtrace(const Task& task) {
  auto t = tasks();
  if (!t) return t.error();
  if (!unwinder_) {
    unwinder_.emplace(objects_, **t, &modules(), orc());
    unwinder_->set_line_lookup([this](uint64_t pc) -> std::string {
      // Lines come from the vmlinux's DWARF: kernel image addresses only (modules have no DWARF here).
      const ElfSymbols* syms = objects_.kernel().symbols();
      if (!syms || !syms->lookup(pc)) return "";
      return objects_.debug().source_line(pc - syms->kaslr_offset());
    });
  }
  return unwinder_->backtrace(task);
}

std::vector<std::string> LinuxView::problems() const {
  std::vector<std::string> out;
  if (tasks_ && *tasks_) out.insert(out.end(), (*tasks_)->problems.begin(), (*tasks_)->problems.end());
  if (modules_) out.insert(out.end(), modules_->problems.begin(), modules_->problems.end());
  out.insert(out.end(), orc_problems_.begin(), orc_problems_.end());
  return out;
}

}  // namespace coroner::linux_kernel
