#include "coroner/report/info_report.hpp"

#include <ctime>
#include <sstream>

#include "coroner/format.hpp"

namespace coroner::report {
namespace {

using nlohmann::json;
constexpr int kInfoSchemaVersion = 1;

template <class T>
json sourced(const linux_kernel::Sourced<T>& s) {
  if (!s.value) return nullptr;
  if constexpr (std::is_same_v<T, std::string>) {
    return json{{"value", sanitize_utf8(*s.value)}, {"source", s.source}};
  } else {
    return json{{"value", *s.value}, {"source", s.source}};
  }
}

std::string utc_time(int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

template <class T>
std::string text_of(const linux_kernel::Sourced<T>& s) {
  if (!s.value) return "(unknown)";
  if constexpr (std::is_same_v<T, std::string>) return escape_bytes(*s.value);
  else return std::to_string(*s.value);
}

// Where the symbols come from, and where the types will: the vmlinux's DWARF, or without one the
// BTF the kernel carries (between __start_BTF and __stop_BTF), which `info` names but does not parse.
struct Sources {
  std::string symbols, types;
};

Sources sources_of(const Kernel& k) {
  Sources out;
  const SymbolTable* syms = k.symbols();
  if (syms) out.symbols = syms->source();
  else out.symbols = "none" + (k.kallsyms_problem().empty() ? std::string() : " (kallsyms: " + k.kallsyms_problem() + ")");
  if (k.vmlinux_check().verdict == VmlinuxMatch::match || k.vmlinux_check().verdict == VmlinuxMatch::unverified) {
    out.types = "DWARF of " + k.vmlinux_check().path;
  } else if (!syms) {
    out.types = "none";
  } else {
    auto start = k.symbol_address("__start_BTF"), stop = k.symbol_address("__stop_BTF");
    out.types = start && stop && *stop > *start
                    ? "the kernel's BTF in the dump (" + std::to_string(*stop - *start) + " bytes at " + hex(*start) + ")"
                    : "none (no __start_BTF/__stop_BTF in the kernel's symbols: built without CONFIG_DEBUG_INFO_BTF, "
                      "or its kallsyms without CONFIG_KALLSYMS_ALL)";
  }
  return out;
}

}  // namespace

std::string to_json_text(const json& j) { return j.dump(2, ' ', false, json::error_handler_t::replace); }

json info_json(const Kernel& k, const linux_kernel::KernelSummary& s) {
  const DumpHeader& h = k.dump().header();
  const KernelLayout& L = k.layout();
  const VmlinuxCheck& v = k.vmlinux_check();
  json dump = {{"path", k.dump().path()},       {"format", h.format},
               {"container", h.container},      {"compression", h.compression},
               {"producer", producer_name(h.producer)},        {"physical_memory_bytes", s.dump_memory_bytes},
               {"incomplete", h.incomplete},    {"has_vmcoreinfo", !k.vmcoreinfo().empty()}};
  if (h.dump_level) dump["dump_level"] = *h.dump_level;
  json layout = {{"page_size", L.page_size},
                 {"kaslr_offset", hex(L.kaslr_offset)},
                 {"kaslr_source", L.kaslr_source},
                 {"phys_base", L.phys_base ? json(hex(*L.phys_base)) : json(nullptr)},
                 {"phys_base_source", L.phys_base_source},
                 {"page_table_root", hex(L.page_table_root)},
                 {"page_table_source", L.page_table_source},
                 {"paging_levels", L.paging_levels}};
  json vmlinux = {{"verdict", vmlinux_match_name(v.verdict)},
                  {"method", v.method},
                  {"dump_build_id", v.dump_build_id},
                  {"vmlinux_build_id", v.vmlinux_build_id},
                  {"detail", v.detail},
                  {"path", v.path.empty() ? json(nullptr) : json(v.path)},
                  {"found_by", v.path.empty() || v.found_by.empty() ? json(nullptr) : json(v.found_by)},
                  {"looked_in", v.tried}};
  Sources sources = sources_of(k);
  json crash_time = sourced(s.crash_time);
  if (s.crash_time.value) crash_time["utc"] = utc_time(*s.crash_time.value);
  return json{{"schema", "coroner.info"},
              {"schema_version", kInfoSchemaVersion},
              {"dump", dump},
              {"os", s.os},
              {"arch", s.arch},
              {"release", sourced(s.release)},
              {"version", sourced(s.version)},
              {"layout", layout},
              {"kernel_memory_bytes", sourced(s.kernel_memory_bytes)},
              {"cpus", sourced(s.cpus)},
              {"online_cpus", sourced(s.online_cpus)},
              {"crashing_cpu", sourced(s.crashing_cpu)},
              {"panic_message", sourced(s.panic_message)},
              {"panic_cause", sourced(s.panic_cause)},
              {"crash_time", crash_time},
              {"vmlinux", vmlinux},
              {"symbols", sources.symbols},
              {"types", sources.types},
              {"warnings", s.warnings}};
}

std::string info_text(const Kernel& k, const linux_kernel::KernelSummary& s) {
  const DumpHeader& h = k.dump().header();
  const KernelLayout& L = k.layout();
  const VmlinuxCheck& v = k.vmlinux_check();
  std::ostringstream o;
  auto row = [&](const char* key, const std::string& value) {
    o << std::string(14 - std::min<size_t>(14, std::strlen(key)), ' ') << key << ": " << value << '\n';
  };
  std::string format = h.format + (h.compression != "none" ? ", " + h.compression : "");
  if (h.container != "file") format += " (" + h.container + ")";
  if (h.dump_level) format += ", dump level " + std::to_string(*h.dump_level);
  if (h.incomplete) format += ", INCOMPLETE";
  row("DUMPFILE", k.dump().path());
  row("FORMAT", format + " by " + producer_name(h.producer));
  row("OS", s.os);
  row("ARCH", s.arch);
  row("RELEASE", text_of(s.release));
  row("VERSION", text_of(s.version));
  std::string cpus = text_of(s.cpus);
  if (s.cpus.value && s.online_cpus.value && *s.online_cpus.value < *s.cpus.value) {
    cpus += " [OFFLINE: " + std::to_string(*s.cpus.value - *s.online_cpus.value) + "]";
  }
  row("CPUS", cpus);
  std::string memory = s.kernel_memory_bytes.value ? human_bytes(*s.kernel_memory_bytes.value) + ", " : "";
  row("MEMORY", memory + human_bytes(s.dump_memory_bytes) + " of physical address space in the dump");
  row("PAGE SIZE", std::to_string(L.page_size));
  row("KASLR OFFSET", hex(L.kaslr_offset) + " (" + L.kaslr_source + ")");
  row("PHYS_BASE", L.phys_base ? hex(*L.phys_base) + " (" + L.phys_base_source + ")" : "(unknown)");
  row("PAGE TABLES", std::to_string(L.paging_levels) + "-level, root " + hex(L.page_table_root) + " (" +
                         L.page_table_source + ")");
  if (s.crash_time.value) row("DATE", utc_time(*s.crash_time.value));
  row("PANIC CPU", text_of(s.crashing_cpu));
  row("PANIC", s.panic_message.value ? "\"" + escape_bytes(*s.panic_message.value) + "\"" : "(none found)");
  if (s.panic_cause.value) row("CAUSE", "\"" + escape_bytes(*s.panic_cause.value) + "\"");
  std::string vm = vmlinux_match_name(v.verdict);
  if (!v.method.empty()) vm += " (by " + v.method + ")";
  if (v.verdict == VmlinuxMatch::mismatch) vm += ": " + v.detail;
  if (!v.path.empty()) vm += ", " + v.path + (v.found_by.empty() ? " (given)" : " (found by " + v.found_by + ")");
  row("VMLINUX", vm);
  if (v.path.empty()) {
    for (const auto& t : v.tried) o << "   looked in: " << t << '\n';
  }
  Sources sources = sources_of(k);
  row("SYMBOLS", sources.symbols);
  row("TYPES", sources.types);
  for (const auto& w : s.warnings) o << "warning: " << w << '\n';
  return o.str();
}

json user_core_json(const Dump& d) {
  const DumpNotes& n = d.notes();
  json threads = json::array();
  for (const auto& t : n.prstatus) {
    threads.push_back({{"tid", t.pid}, {"signal", t.signal}, {"rip", hex(t.reg(Reg::rip))}, {"rsp", hex(t.reg(Reg::rsp))}});
  }
  json files = json::array();
  for (const auto& f : n.files) {
    files.push_back({{"start", hex(f.start)}, {"end", hex(f.end)}, {"offset", f.file_offset}, {"path", sanitize_utf8(f.path)}});
  }
  json process = nullptr;
  if (n.prpsinfo) {
    process = {{"pid", n.prpsinfo->pid}, {"command", sanitize_utf8(n.prpsinfo->fname)},
               {"arguments", sanitize_utf8(n.prpsinfo->args)}};
  }
  return json{{"schema", "coroner.info"},
              {"schema_version", kInfoSchemaVersion},
              {"dump", {{"path", d.path()}, {"format", d.header().format}, {"producer", producer_name(d.header().producer)},
                        {"segments_bytes", d.physical_memory_size()}}},
              {"process", process},
              {"threads", threads},
              {"mapped_files", files},
              {"warnings", n.problems}};
}

std::string user_core_text(const Dump& d) {
  const DumpNotes& n = d.notes();
  std::ostringstream o;
  o << "      DUMPFILE: " << d.path() << "\n        FORMAT: " << d.header().format << " by " << producer_name(d.header().producer) << '\n';
  if (n.prpsinfo) {
    o << "       PROCESS: " << n.prpsinfo->pid << " " << escape_bytes(n.prpsinfo->fname) << "  (" << escape_bytes(n.prpsinfo->args)
      << ")\n";
  }
  o << "       THREADS: " << n.prstatus.size() << '\n';
  for (const auto& t : n.prstatus) {
    o << "                tid " << t.pid << "  signal " << t.signal << "  rip " << hex(t.reg(Reg::rip)) << "  rsp "
      << hex(t.reg(Reg::rsp)) << '\n';
  }
  o << "  MAPPED FILES: " << n.files.size() << '\n';
  for (const auto& f : n.files) o << "                " << hex(f.start) << "-" << hex(f.end) << "  " << escape_bytes(f.path) << '\n';
  for (const auto& p : n.problems) o << "warning: " << p << '\n';
  return o.str();
}

json log_json(const std::string& os, const KernelLog& log) {
  json records = json::array();
  for (const auto& r : log.records) {
    records.push_back({{"seq", log.stamped ? json(r.seq) : json(nullptr)},
                       {"timestamp_ns", log.stamped ? json(r.timestamp_ns) : json(nullptr)},
                       {"caller", log.stamped ? json(linux_kernel::caller_name(r.caller_id)) : json(nullptr)},
                       {"text", sanitize_utf8(r.text)}});
  }
  json ring = nullptr;
  if (log.ring) ring = {{"buffer", hex(log.ring->buffer)}, {"size", log.ring->size}, {"write_position", log.ring->write_position}};
  return json{{"schema", "coroner.log"}, {"schema_version", 2}, {"os", os}, {"ring", ring},
              {"records", records}, {"problems", log.problems}};
}

std::string log_text(const KernelLog& log, bool with_caller) {
  std::string out;
  for (const auto& r : log.records) {
    if (!log.stamped) {
      out += r.text + '\n';
      continue;
    }
    std::string line = linux_kernel::format_log_line(r);
    if (with_caller) {
      // "[    4.074068] [T1] text", as the kernel prints with CONFIG_PRINTK_CALLER.
      size_t close = line.find("] ");
      line.insert(close + 2, "[" + linux_kernel::caller_name(r.caller_id) + "] ");
    }
    out += line;
    out += '\n';
  }
  return out;
}

}  // namespace coroner::report
