#include <cstdio>
#include <iostream>

#include "commands.hpp"
#include "coroner/format.hpp"
#include "coroner/os/linux/poison_scan.hpp"
#include "coroner/report/info_report.hpp"
#include "coroner/target/expression.hpp"

namespace coroner::cli {
namespace {

using namespace coroner::linux_kernel;

std::string track_line(LinuxView& view, const Track& t) {
  return "freed by pid " + std::to_string(t.pid) + " on CPU " + std::to_string(t.cpu) + " from " +
         locate_code(view.objects().kernel(), &view.modules(), t.addr, true).text(t.addr);
}

std::string damage_text(const ObjectDamage& d) {
  char buf[96];
  std::snprintf(buf, sizeof buf, ": %llu bytes, expected 0x%02x, found 0x%02x", static_cast<unsigned long long>(d.length),
                d.expected, d.found);
  return d.area + " at " + signed_hex(d.offset) + buf;
}

void print_text(LinuxView& view, const ScanResult& r) {
  double mib = static_cast<double>(r.bytes_scanned) / (1 << 20);
  std::printf("scanned %.1f MiB in %.2f s (%.0f MiB/s on %zu thread%s), %llu runs of poison\n", mib, r.scan_seconds,
              r.scan_seconds > 0 ? mib / r.scan_seconds : 0.0, r.scan_threads, r.scan_threads == 1 ? "" : "s",
              static_cast<unsigned long long>(r.runs));
  std::printf("%-20s %-44s %8s %10s\n", "PATTERN", "WHERE", "RUNS", "BYTES");
  for (const auto& g : r.groups) {
    std::printf("%-20s %-44s %8llu %10llu\n", g.pattern.c_str(), g.holder.c_str(),
                static_cast<unsigned long long>(g.runs), static_cast<unsigned long long>(g.bytes));
    for (const auto& e : g.examples) {
      std::printf("    %s  %llu bytes  %s\n", hex(e.virtual_address).c_str(), static_cast<unsigned long long>(e.length),
                  e.what.c_str());
    }
  }
  if (r.damaged.empty()) return;
  std::printf("\nslab objects whose poison or red zone is broken (SLUB's check_object):\n");
  for (const auto& d : r.damaged) {
    std::printf("  %s  %s object of %s\n", hex(d.object).c_str(), d.free ? "free" : "allocated", d.cache->name.c_str());
    for (const auto& x : d.damage) {
      bool write_after_free = d.free && x.area.starts_with("poison");
      std::printf("    %s%s\n", damage_text(x).c_str(), write_after_free ? "  <- written after it was freed" : "");
    }
    if (d.freed) std::printf("    %s\n", track_line(view, *d.freed).c_str());
  }
}

nlohmann::ordered_json to_json(LinuxView& view, const ScanResult& r) {
  nlohmann::ordered_json groups = nlohmann::ordered_json::array(), damaged = nlohmann::ordered_json::array();
  for (const auto& g : r.groups) {
    nlohmann::ordered_json examples = nlohmann::ordered_json::array();
    for (const auto& e : g.examples) {
      examples.push_back({{"address", hex(e.virtual_address)}, {"physical", hex(e.physical)}, {"length", e.length},
                          {"what", e.what}});
    }
    groups.push_back({{"pattern", g.pattern}, {"where", g.holder}, {"runs", g.runs}, {"bytes", g.bytes},
                      {"examples", examples}});
  }
  for (const auto& d : r.damaged) {
    nlohmann::ordered_json damage = nlohmann::ordered_json::array();
    for (const auto& x : d.damage) {
      damage.push_back({{"offset", x.offset}, {"length", x.length}, {"area", x.area}, {"expected", x.expected},
                        {"found", x.found}, {"write_after_free", d.free && x.area.starts_with("poison")}});
    }
    damaged.push_back({{"object", hex(d.object)}, {"cache", d.cache->name}, {"state", d.free ? "free" : "allocated"},
                       {"damage", damage},
                       {"freed_by", d.freed ? nlohmann::ordered_json(track_line(view, *d.freed)) : nlohmann::ordered_json(nullptr)}});
  }
  return {{"schema", "coroner.scan"}, {"bytes_scanned", r.bytes_scanned}, {"bytes_unreadable", r.bytes_unreadable},
          {"scan_seconds", r.scan_seconds}, {"scan_threads", r.scan_threads}, {"runs", r.runs},
          {"groups", groups}, {"damaged_objects", damaged}};
}

}  // namespace

void register_scan(CLI::App& app) {
  struct Args {
    DumpArgs dump;
    std::vector<std::string> patterns;
    size_t min_run = 32;
    size_t examples = 3;
    unsigned threads = 0;
    std::vector<std::string> range;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("scan", "runs of poison (freed, uninitialised, red-zone patterns) over all memory, "
                                         "grouped by what holds them, and slab objects written after free");
  add_dump_args(*cmd, args->dump, true);
  cmd->add_option("--pattern", args->patterns, "only these catalog patterns (POISON_FREE, ...); repeatable")
      ->allow_extra_args(false);
  cmd->add_option("--min-run", args->min_run, "the shortest run reported, in bytes (default 32, at least 16)");
  cmd->add_option("--examples", args->examples, "regions shown per group (default 3)");
  cmd->add_option("--threads", args->threads, "threads for the pass over memory (default: one per core, for a large dump)");
  cmd->add_option("--range", args->range, "only START SIZE: a direct-map address (or expression) and a byte count")
      ->expected(2);
  cmd->add_flag("--json", args->json, "print JSON (schema coroner.scan)");
  cmd->callback([args] {
    PoisonCatalog catalog = poison_catalog_or_fail(args->dump.poison_files);
    ScanRequest request;
    request.min_run = args->min_run;
    request.examples = args->examples;
    request.threads = args->threads;
    for (const auto& name : args->patterns) {
      const PoisonPattern* p = catalog.find(name);
      if (!p) fail("--pattern " + name + ": no such pattern in the poison catalog (see data/poison.yaml)");
      request.patterns.push_back(p);
    }
    if (request.patterns.empty()) request.patterns = catalog.for_os("linux");
    auto typed = open_target(args->dump);
    LinuxView& view = linux_or_fail(typed, "scan", "the memory map and the slab caches");
    if (!args->range.empty()) {
      auto start = evaluate_address(*typed.objects, args->range[0]);
      auto size = evaluate_address(*typed.objects, args->range[1]);
      if (!start || !size) fail("--range " + args->range[0] + " " + args->range[1] + ": " + (start ? size : start).error().message);
      auto physical = typed.objects->kernel().translate(*start);
      if (!physical) fail("--range: " + hex(*start) + " is not mapped: " + physical.error().message);
      request.low = *physical;
      request.high = *physical + *size;
      request.check_slabs = false;
    }
    auto result = scan_poison(view, slub_or_warn(typed), request);
    if (args->json) std::cout << report::to_json_text(to_json(view, result)) << '\n';
    else print_text(view, result);
    print_warnings(typed);
  });
}

}  // namespace coroner::cli
