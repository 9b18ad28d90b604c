#include "coroner/os/linux/kernel_summary.hpp"


namespace coroner::linux_kernel {
namespace {

void find_panic_in_log(const KernelLog& log, KernelSummary& s) { summarize_reports(console::read_console(log.console_lines()), s); }

void find_release_and_version(const Kernel& k, const KernelLog* log, KernelSummary& s) {
  if (auto rel = k.vmcoreinfo().osrelease()) s.release = {std::string(*rel), "VMCOREINFO OSRELEASE"};
  else if (k.dump().header().release) s.release = {*k.dump().header().release, "dump header"};
  if (const SymbolTable* syms = k.symbols()) {
    if (auto addr = syms->address_of("linux_banner")) {
      if (auto banner = k.read_c_string(*addr, 512)) {
        if (auto v = version_from_banner(*banner)) s.version = {*v, "linux_banner"};
        if (auto r = release_from_banner(*banner); r && !s.release.value) s.release = {*r, "linux_banner"};
      }
    }
  }
  if (!s.version.value && log) {
    for (const auto& rec : log->records) {
      if (auto v = version_from_banner(rec.text)) {
        s.version = {*v, "kernel log banner"};
        break;
      }
    }
  }
}

void find_cpus(const Kernel& k, KernelSummary& s) {
  const SymbolTable* syms = k.symbols();
  auto read_int = [&](const char* name) -> std::optional<int> {
    if (!syms) return std::nullopt;
    auto addr = syms->address_of(name);
    if (!addr) return std::nullopt;
    auto v = k.read_value<int32_t>(*addr);
    return v ? std::optional<int>(*v) : std::nullopt;
  };
  if (auto n = read_int("nr_cpu_ids")) s.cpus = {*n, "nr_cpu_ids"};
  else if (k.dump().header().cpu_count) s.cpus = {*k.dump().header().cpu_count, "dump notes/header"};
  if (auto n = read_int("__num_online_cpus")) s.online_cpus = {*n, "__num_online_cpus"};
  if (auto cpu = read_int("panic_cpu"); cpu && *cpu >= 0) s.crashing_cpu = {*cpu, "panic_cpu"};
}

// Sum of node_present_pages over online nodes, located from VMCOREINFO alone: node_present_pages
// has sat between node_start_pfn and node_spanned_pages in pglist_data since Linux 2.6.
void find_kernel_memory(const Kernel& k, KernelSummary& s) {
  const VmcoreInfo& vi = k.vmcoreinfo();
  auto node_data = vi.symbol("node_data");
  auto online_map = vi.symbol("node_online_map");
  auto start = vi.offset("pglist_data.node_start_pfn");
  auto spanned = vi.offset("pglist_data.node_spanned_pages");
  uint64_t nodes = vi.length("node_data").value_or(1);
  if (!node_data || !online_map || !start || !spanned || *spanned != *start + 16 || nodes > 4096) return;
  uint64_t pages = 0;
  for (uint64_t node = 0; node < nodes; ++node) {
    auto word = k.read_u64(*online_map + node / 64 * 8);
    if (!word) return;
    if (!((*word >> (node % 64)) & 1)) continue;
    auto pgdat = k.read_u64(*node_data + node * 8);
    if (!pgdat || *pgdat == 0) return;
    auto present = k.read_u64(*pgdat + *start + 8);
    if (!present) return;
    pages += *present;
  }
  s.kernel_memory_bytes = {pages * k.layout().page_size, "pglist_data.node_present_pages"};
}

}  // namespace

std::optional<std::string> release_from_banner(std::string_view banner) {
  constexpr std::string_view prefix = "Linux version ";
  if (!banner.starts_with(prefix)) return std::nullopt;
  std::string_view rest = banner.substr(prefix.size());
  return std::string(rest.substr(0, rest.find(' ')));
}

std::optional<std::string> version_from_banner(std::string_view banner) {
  constexpr std::string_view prefix = "Linux version ";
  if (!banner.starts_with(prefix)) return std::nullopt;
  size_t i = banner.find(' ', prefix.size());
  // Skip "(who@host)" and "(compiler (with nested parentheses))".
  for (int group = 0; group < 2; ++group) {
    while (i < banner.size() && banner[i] == ' ') ++i;
    if (i >= banner.size() || banner[i] != '(') return std::nullopt;
    int depth = 0;
    for (; i < banner.size(); ++i) {
      if (banner[i] == '(') ++depth;
      if (banner[i] == ')' && --depth == 0) break;
    }
    if (depth != 0) return std::nullopt;
    ++i;
  }
  while (i < banner.size() && banner[i] == ' ') ++i;
  std::string_view rest = banner.substr(std::min(i, banner.size()));
  while (!rest.empty() && (rest.back() == '\n' || rest.back() == ' ')) rest.remove_suffix(1);
  if (rest.empty()) return std::nullopt;
  return std::string(rest);
}

void summarize_reports(console::ConsoleReading reading, KernelSummary& s) {
  s.reports = std::move(reading);
  if (!s.reports.panic.empty()) s.panic_message = {s.reports.panic, "kernel log"};
  if (!s.reports.crash) return;
  const console::CrashReport& crash = s.reports.reports[*s.reports.crash];
  s.panic_cause = {crash.header, "kernel log"};
  if (crash.cpu && !s.crashing_cpu.value) s.crashing_cpu = {static_cast<int>(*crash.cpu), "kernel log (the crash's report)"};
}

KernelSummary summarize(const Kernel& k, const KernelLog* log) {
  KernelSummary s;
  s.dump_memory_bytes = k.dump().physical_memory_size();
  find_release_and_version(k, log, s);
  find_cpus(k, s);
  find_kernel_memory(k, s);
  if (log) find_panic_in_log(*log, s);
  if (!s.crashing_cpu.value && k.dump().header().crashing_cpu && k.dump().header().producer == DumpProducer::makedumpfile) {
    s.crashing_cpu = {*k.dump().header().crashing_cpu, "kdump header"};
  }
  if (auto t = k.vmcoreinfo().crash_time()) s.crash_time = {static_cast<int64_t>(*t), "VMCOREINFO CRASHTIME"};
  else if (k.dump().header().timestamp) s.crash_time = {*k.dump().header().timestamp, "dump header"};
  s.warnings = k.warnings();
  return s;
}

const std::vector<std::string>& crash_machinery() {
  static const std::vector<std::string> machinery = {"panic", "asm_*"};
  return machinery;
}

}  // namespace coroner::linux_kernel
