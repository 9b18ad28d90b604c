#include <iostream>

#include "commands.hpp"
#include "coroner/format.hpp"
#include "coroner/os/linux/memory_search.hpp"
#include "coroner/report/info_report.hpp"
#include "coroner/report/thread_report.hpp"
#include "coroner/target/expression.hpp"

namespace coroner::cli {
namespace {

uint64_t parse_number(const std::string& text, const char* what) {
  try {
    size_t used = 0;
    uint64_t v = std::stoull(text, &used, 0);
    if (used == text.size()) return v;
  } catch (const std::exception&) {
  }
  fail(std::string("--") + what + " '" + text + "' is not a number (0x... or decimal)");
}

void print_stack_hits(const std::vector<StackReference>& refs, bool json, uint64_t value, uint64_t mask) {
  if (json) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& r : refs) {
      list.push_back({{"thread", report::thread_json(*r.thread)},
                      {"location", r.location ? nlohmann::ordered_json(hex(*r.location)) : nullptr},
                      {"register", r.reg.empty() ? nullptr : nlohmann::ordered_json(r.reg)},
                      {"word", hex(r.value)}, {"stack", r.stack}, {"place", r.place.text}});
    }
    std::cout << report::to_json_text({{"schema", "coroner.search"}, {"scope", "stacks"}, {"value", hex(value)},
                                       {"mask", hex(mask)}, {"hits", list}}) << '\n';
    return;
  }
  for (const auto& r : refs) {
    std::cout << (r.location ? hex_padded(*r.location) : r.reg) << ": " << hex_padded(r.value) << "  tid " << r.thread->thread_id
              << " (" << thread_name(*r.thread) << ") " << r.stack << " stack, " << r.place.text << '\n';
  }
}

// Hits over all memory, named by virtual address (or only by physical address with --physical).
void print_memory_hits(const linux_kernel::SearchResult& result, bool physical, bool json, uint64_t want, uint64_t mask) {
  if (json) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& h : result.hits) {
      list.push_back({{"physical", hex(h.physical)},
                      {"virtual", h.virtual_address ? nlohmann::ordered_json(hex(*h.virtual_address)) : nullptr},
                      {"word", hex(h.word)}, {"where", h.where}});
    }
    std::cout << report::to_json_text({{"schema", "coroner.search"}, {"scope", physical ? "physical" : "kernel"},
                                       {"value", hex(want)}, {"mask", hex(mask)}, {"total_hits", result.total_hits},
                                       {"bytes_scanned", result.bytes_scanned},
                                       {"bytes_unreadable", result.bytes_unreadable}, {"threads", result.threads},
                                       {"hits", list}})
              << '\n';
  } else {
    for (const auto& h : result.hits) {
      if (physical) std::cout << "phys " << hex_padded(h.physical) << ": " << hex_padded(h.word) << '\n';
      else std::cout << hex_padded(h.virtual_address.value_or(0)) << ": " << hex_padded(h.word) << "  " << h.where
                     << "  (phys " << hex(h.physical) << ")\n";
    }
    std::cerr << "coroner: " << result.total_hits << " hits in " << result.bytes_scanned / (1u << 20) << " MiB"
              << (result.bytes_unreadable ? ", " + std::to_string(result.bytes_unreadable / (1u << 20)) +
                                                " MiB not in the dump"
                                          : "")
              << (result.total_hits > result.hits.size() ? " (listing the first " + std::to_string(result.hits.size()) + ")" : "")
              << '\n';
  }
}

}  // namespace

void register_search(CLI::App& app) {
  struct Args {
    DumpArgs dump;
    std::string value;
    std::string mask = "0xffffffffffffffff";
    bool stacks = false, kernel = false, physical = false, json = false;
    size_t limit = 10000;
    unsigned threads = 0;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("search", "every 8-byte word holding VALUE (under --mask): in all memory (default), "
                                           "on every thread's stacks, or by physical address");
  add_dump_args(*cmd, args->dump, true);
  cmd->add_option("value", args->value, "a number or expression (0xdead000000000100, &init_task)")->required();
  cmd->add_option("--mask", args->mask, "only these bits must match (0xffffffffffff0000 finds a whole 64 KiB range)");
  auto* stacks = cmd->add_flag("--stacks", args->stacks, "thread stacks and CPU registers only, with thread and frame (every kernel)");
  auto* kernel = cmd->add_flag("--kernel", args->kernel, "all memory, named by kernel virtual address (the default)");
  auto* physical = cmd->add_flag("--physical", args->physical, "all memory, by physical address only (no naming)");
  stacks->excludes(kernel)->excludes(physical);
  kernel->excludes(physical);
  cmd->add_option("--limit", args->limit, "hits to list (default 10000; all are counted)");
  cmd->add_option("--threads", args->threads, "threads for the pass over all memory (default: one per core, as the "
                                               "dump's size pays for)");
  cmd->add_flag("--json", args->json, "print JSON (schema coroner.search)");
  cmd->callback([args] {
    auto typed = open_target(args->dump);
    uint64_t mask = parse_number(args->mask, "mask");
    auto value = evaluate_address(*typed.objects, args->value);
    if (!value) fail(value.error().message);
    uint64_t want = *value & mask;
    if (args->stacks) {
      auto refs = typed.stack_references([want, mask](uint64_t w) { return (w & mask) == want; });
      if (!refs) fail(refs.error().message);
      print_stack_hits(*refs, args->json, want, mask);
    } else {
      linux_kernel::LinuxView& view = linux_or_fail(typed, "search", "the memory map and its naming");
      linux_kernel::SearchRequest request{want, mask, args->limit, !args->physical, args->threads};
      print_memory_hits(linux_kernel::search_physical(view, request), args->physical, args->json, want, mask);
    }
    print_warnings(typed);
  });
}

}  // namespace coroner::cli
