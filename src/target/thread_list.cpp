#include "coroner/target/thread_list.hpp"

#include "coroner/format.hpp"

namespace coroner {

const Thread* ThreadList::by_id(uint64_t id) const {
  for (const Thread& t : threads) {
    if (t.thread_id == id && !t.idle) return &t;
  }
  for (const Thread& t : threads) {
    if (t.thread_id == id) return &t;
  }
  return nullptr;
}

const Thread* ThreadList::by_address(uint64_t address) const {
  for (const Thread& t : threads) {
    if (t.address == address) return &t;
  }
  return nullptr;
}

const Thread* ThreadList::active_on(uint32_t id) const {
  if (const Cpu* c = cpu(id)) return by_address(c->current);
  for (const Thread& t : threads) {  // a kernel whose CPUs were not read: the threads say where they ran
    if (t.active_on == id) return &t;
  }
  return nullptr;
}

const Cpu* ThreadList::cpu(uint32_t id) const { return id < cpus.size() ? &cpus[id] : nullptr; }

std::vector<StackRange> ThreadList::stacks_of(const Thread& t) const {
  std::vector<StackRange> out{own_stack(t)};
  if (t.active_on) {
    if (const Cpu* c = cpu(*t.active_on)) out.insert(out.end(), c->stacks.begin(), c->stacks.end());
  }
  return out;
}

std::string thread_name(const Thread& t) {
  return (t.comm.empty() ? "?" : t.comm) + (t.lwp >= 0 ? "/" + std::to_string(t.lwp) : "");
}

std::string thread_label(const Thread& t) {
  return hex(t.address) + " (" + thread_name(t) + ", pid " + std::to_string(t.process_id) + ")";
}

int64_t named_pid(const ThreadList& threads, const Thread& t) {
  return threads.naming == ThreadNaming::thread_id ? static_cast<int64_t>(t.thread_id) : t.process_id;
}

std::string evidence_label(const ThreadList& threads, const Thread& t) {
  if (threads.naming == ThreadNaming::process_id) return thread_label(t);
  return "pid " + std::to_string(t.thread_id) + " (" + t.comm + ")";
}

std::string thread_label(const ThreadList& threads, uint64_t address) {
  for (const auto& t : threads.threads) {
    if (t.address == address) return thread_label(t);
  }
  return hex(address) + " (not a thread on the list)";
}

}  // namespace coroner
