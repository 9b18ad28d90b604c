#pragma once
// Threads, backtraces and the threads holding a value, for every kernel alike: text in crash's
// columns and JSON (schemas coroner.ps, coroner.bt and coroner.whatthread, version 2; see
// docs/threads.schema.md).
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "coroner/target/frame.hpp"
#include "coroner/target/stack_slot.hpp"
#include "coroner/target/thread_list.hpp"

namespace coroner::report {

inline constexpr int kThreadSchemaVersion = 2;

// A thread as every schema shows it: address, tid, pid, ppid, lwp, comm, state, CPUs, stack.
nlohmann::ordered_json thread_json(const Thread& t);

std::string ps_text(const ThreadList& threads);
nlohmann::ordered_json ps_json(const std::string& os, const ThreadList& threads);

std::string backtrace_text(const Thread& thread, const Backtrace& bt, bool crashed);
nlohmann::ordered_json backtrace_json(const Thread& thread, const Backtrace& bt, bool crashed);
nlohmann::ordered_json bt_json(const std::string& os, nlohmann::ordered_json backtraces);

// The references to [address, address + size) that `whatthread` found; `what` names the object.
struct HeldRange {
  uint64_t address = 0, size = 1;
  std::string what;
};
std::string whatthread_text(const HeldRange& range, const std::vector<StackReference>& refs);
nlohmann::ordered_json whatthread_json(const std::string& os, const HeldRange& range, const std::vector<StackReference>& refs);

}  // namespace coroner::report
