// info, log, ps, bt, whatthread and whatis on kernels described by an OS model (data/os/*.yaml).
#include <iostream>

#include "commands.hpp"
#include "coroner/format.hpp"
#include "coroner/os/model/model_log.hpp"
#include "coroner/os/model/model_summary.hpp"
#include "coroner/os/model/model_whatis.hpp"
#include "coroner/report/model_report.hpp"
#include "coroner/report/info_report.hpp"

namespace coroner::cli {
namespace {

os_model::ModelThreads threads_or_fail(Target& typed) {
  auto threads = os_model::read_threads(*typed.objects, *typed.model);
  if (threads.threads.empty()) {
    std::string why = threads.problems.empty() ? "the list is empty" : threads.problems.front();
    fail("no " + typed.model->os + " threads found through " + typed.model->file + ": " + why);
  }
  return threads;
}

void print_model_warnings(const Target& typed) { print_warnings(*typed.kernel); }

}  // namespace

void model_ps(Target& typed, bool json) {
  auto threads = threads_or_fail(typed);
  if (json) std::cout << report::to_json_text(report::model_ps_json(*typed.model, threads)) << '\n';
  else std::cout << report::model_ps_text(threads);
  print_model_warnings(typed);
}

void model_bt(Target& typed, const std::vector<std::string>& wanted, bool all, bool json) {
  auto threads = threads_or_fail(typed);
  std::vector<size_t> selected;
  for (size_t i = 0; i < threads.threads.size(); ++i) {
    if (all) selected.push_back(i);
  }
  for (const std::string& w : wanted) {
    uint64_t n = 0;
    try {
      n = std::stoull(w, nullptr, 0);
    } catch (const std::exception&) {
      fail("'" + w + "' is neither a thread id, a pid nor a thread address (0x...)");
    }
    bool found = false;
    for (size_t i = 0; i < threads.threads.size(); ++i) {
      const auto& t = threads.threads[i];
      if (t.address == n || t.thread_id == n || static_cast<uint64_t>(t.process_id) == n) {
        selected.push_back(i);
        found = true;
      }
    }
    if (!found) fail("no thread " + w + " in the dump (see `coroner ps`)");
  }
  if (selected.empty()) {
    if (!threads.panicking) fail("no panicking thread known: name a thread (see `coroner ps`) or use --all");
    selected.push_back(*threads.panicking);
  }
  const Unwinder unwinder = os_model::model_unwinder(*typed.objects);
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (size_t n = 0; n < selected.size(); ++n) {
    const auto& t = threads.threads[selected[n]];
    auto bt = os_model::unwind(unwinder, t);
    bool panicking = threads.panicking == selected[n];
    if (json) {
      list.push_back(report::model_bt_json(t, bt, panicking));
    } else {
      std::cout << (n ? "\n" : "") << report::model_bt_text(t, bt, panicking);
    }
  }
  if (json) std::cout << report::to_json_text({{"schema", "coroner.model-bt"}, {"os", typed.model->os}, {"backtraces", list}}) << '\n';
  print_model_warnings(typed);
}

void model_whatthread(Target& typed, uint64_t address, uint64_t size, const std::string& what, bool json) {
  auto threads = threads_or_fail(typed);
  const Unwinder unwinder = os_model::model_unwinder(*typed.objects);
  auto refs = os_model::find_stack_references(unwinder, threads,
                                              [&](uint64_t v) { return v >= address && v - address < size; });
  if (json) std::cout << report::to_json_text(report::model_whatthread_json(address, size, what, refs)) << '\n';
  else std::cout << report::model_whatthread_text(refs);
  print_model_warnings(typed);
}

void model_whatis(Target& typed, const std::vector<uint64_t>& addresses, bool json) {
  auto threads = threads_or_fail(typed);
  auto kmem = os_model::KmemBuffers::read(*typed.objects, *typed.model);
  const Unwinder unwinder = os_model::model_unwinder(*typed.objects);
  nlohmann::ordered_json results = nlohmann::ordered_json::array();
  for (uint64_t address : addresses) {
    auto w = os_model::what_is(unwinder, threads, kmem ? &*kmem : nullptr, typed.poison, typed.model->os, address);
    if (json) results.push_back(report::model_whatis_json(*typed.kernel, threads, w));
    else std::cout << report::model_whatis_text(*typed.kernel, threads, w);
  }
  if (json) {
    std::cout << report::to_json_text({{"schema", "coroner.model-whatis"}, {"os", typed.model->os}, {"results", results}}) << '\n';
  }
  print_model_warnings(typed);
}

void model_info(Target& typed, bool json) {
  auto summary = os_model::summarize_model(*typed.objects, *typed.model);
  if (json) std::cout << report::to_json_text(report::info_json(*typed.kernel, summary)) << '\n';
  else std::cout << report::info_text(*typed.kernel, summary);
}

void model_log(Target& typed, bool json) {
  auto log = os_model::read_log(*typed.objects, *typed.model);
  if (!log) fail(typed.kernel->dump().path() + ": " + log.error().message);
  if (json) {
    std::cout << report::to_json_text({{"schema", "coroner.model-log"}, {"os", typed.model->os}, {"buffer", hex(log->buffer)},
                                       {"size", log->size}, {"write_position", log->write_position}, {"lines", log->lines}})
              << '\n';
  } else {
    for (const auto& line : log->lines) std::cout << line << '\n';
  }
  print_model_warnings(typed);
}

}  // namespace coroner::cli
