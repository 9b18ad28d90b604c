#include "coroner/console/crash_reports.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <map>
#include <regex>

#include "coroner/poison/poison_catalog.hpp"
#include "coroner/rules/function_name.hpp"
#include "report_formats.hpp"

namespace coroner::console {
namespace {

using rules::function_base_name;

constexpr size_t kPrefaceReach = 4;       // lines from a preface to the WARNING or BUG it names
constexpr size_t kContinuationReach = 12;  // lines from a report's first line to its "Oops: 0000 [#1]"
constexpr size_t kReverseReach = 3;       // lines from a WARNING to the message printed after it (old kernels)
constexpr uint64_t kNullPage = 0x10000;   // an address below it is a NULL pointer plus a member's offset

struct Match {
  const Format* format = nullptr;
  std::vector<std::string> groups;  // [0]: the whole match
  std::string group(size_t i) const { return i < groups.size() ? groups[i] : ""; }
  void set_group(size_t i, std::string value) {
    if (groups.size() <= i) groups.resize(i + 1);
    groups[i] = std::move(value);
  }
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "Oops: general protection fault, ...", 6.12's "Oops: Oops: 0000 [#1]": die()'s banner prefix.
std::string_view without_oops_prefix(std::string_view t) {
  while (t.starts_with("Oops: ") && t.size() > 6 &&
         (std::islower(static_cast<unsigned char>(t[6])) || t.substr(6).starts_with("Oops: "))) {
    t.remove_prefix(6);
  }
  return t;
}

std::optional<Match> classify(std::string_view text) {
  constexpr size_t kLongestHeader = 512;  // a report's first line is short; the regexes need not see more
  if (text.empty() || text.front() == ' ' || text.front() == '\t') return std::nullopt;
  text = without_oops_prefix(text.substr(0, kLongestHeader));
  for (const CompiledFormat& cf : report_formats()) {
    const Format& f = *cf.format;
    if (f.anchored ? !text.starts_with(f.needle) : text.find(f.needle) == std::string_view::npos) continue;
    std::match_results<std::string_view::const_iterator> m;
    if (!std::regex_search(text.begin(), text.end(), m, cf.regex)) continue;
    Match out{&f, {}};
    for (const auto& g : m) out.groups.push_back(g.matched ? g.str() : "");
    return out;
  }
  return std::nullopt;
}

// A line's text with kmemleak's own prefix off: its reports print "kmemleak: " before every line.
std::string_view content(std::string_view raw) {
  if (raw.starts_with("kmemleak: ")) raw.remove_prefix(10);
  return raw;
}

bool rule_line(std::string_view t) { return t.size() >= 20 && t.find_first_not_of('=') == std::string_view::npos; }

bool register_line(std::string_view t) {
  static constexpr std::array<std::string_view, 24> kRegisters = {
      "RIP: ", "RSP: ", "RAX: ", "RDX: ", "RBP: ", "R10: ", "R13: ", "FS: ", "CS: ", "CR2: ", "DR0: ", "DR3: ",
      "DR6: ", "PKRU: ", "IP: ", "EIP: ", "EAX: ", "ESI: ", "DS: ", "CR0: ", "pc : ", "lr : ", "sp : ", "pstate: "};
  if (std::any_of(kRegisters.begin(), kRegisters.end(), [&](std::string_view r) { return t.starts_with(r); })) return true;
  // arm64's "x29: ffff800008003d30 x28: ...".
  return t.size() > 4 && t[0] == 'x' && std::isdigit(static_cast<unsigned char>(t[1])) && t.find(": ") < 4;
}

// The kernel location of "RIP: 0010:func+0x59/0x38b [mod]", "RIP: 0010:[<ffffffff81234>]  [<...>] func+...",
// "IP: [<c1234>] func+...", arm64's "pc : func+0x14/0x20"; nullopt for user mode ("RIP: 0033:0x47b7a0").
std::optional<StackFrame> location_of(std::string_view t) {
  for (std::string_view p : {"RIP: ", "IP: ", "EIP: ", "pc : "}) {
    if (!t.starts_with(p)) continue;
    std::string_view rest = t.substr(p.size());
    if (rest.size() > 5 && rest[4] == ':' && std::all_of(rest.begin(), rest.begin() + 4, [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); })) {
      if (rest.substr(0, 4) != "0010" && rest.substr(0, 4) != "0060") return std::nullopt;  // a user-mode segment
      rest.remove_prefix(5);
    }
    for (rest = trim(rest); rest.starts_with("[<");) {
      size_t close = rest.find(">]");
      if (close == std::string_view::npos) return std::nullopt;
      rest = trim(rest.substr(close + 2));
    }
    return parse_location(rest);
  }
  return std::nullopt;
}

std::optional<uint64_t> hex_value(std::string_view s) {
  s = trim(s);
  if (s.starts_with("0x")) s.remove_prefix(2);
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  if (ec != std::errc() || end == s.data()) return std::nullopt;
  return v;
}

struct TraceFrame {
  StackFrame frame;
  bool in_interrupt = false;
};

// What the lines of one report say besides their first.
struct Body {
  std::optional<StackFrame> location, location_past_interrupt, lock_at;
  std::vector<TraceFrame> trace;
  std::vector<std::string> registers, modules;
  std::string tainted, comm, access, kasan_range;
  std::optional<unsigned> cpu, pid;
  std::optional<uint64_t> cr2;
  bool interleaved = false, cut = false;
};

void read_cpu_line(std::string_view t, Body& b) {
  // dump_stack_print_info(): "CPU: 0 PID: 104 Comm: insmod Tainted: G           OE      6.1.0-57-amd64 #1"
  // (6.x has "UID: 0" between), or "... Comm: swapper/0 Not tainted 6.12.0 #1".
  unsigned n = 0;
  auto number_after = [&](std::string_view key) -> std::optional<unsigned> {
    size_t at = t.find(key);
    if (at == std::string_view::npos) return std::nullopt;
    auto [end, ec] = std::from_chars(t.data() + at + key.size(), t.data() + t.size(), n);
    return ec == std::errc() ? std::optional<unsigned>(n) : std::nullopt;
  };
  b.cpu = number_after("CPU: ");
  b.pid = number_after(" PID: ");
  if (size_t c = t.find(" Comm: "); c != std::string_view::npos) {
    std::string_view rest = t.substr(c + 7);
    b.comm = std::string(rest.substr(0, rest.find(' ')));
  }
  if (size_t at = t.find(" Tainted: "); at != std::string_view::npos) {
    // print_tainted()'s letters stand in fixed places, blanks between; the release follows.
    std::string_view rest = t.substr(at + 10);
    for (size_t i = 0; i < rest.size() && !std::isdigit(static_cast<unsigned char>(rest[i])); ++i) {
      if (std::isupper(static_cast<unsigned char>(rest[i])) && rest[i] != 'G') b.tainted += rest[i];
    }
  }
}

// A trace's section marker ("<IRQ>", "</NMI>", "<TASK>"); `in_interrupt` follows the sections.
bool interrupt_marker(std::string_view t, bool& in_interrupt) {
  static constexpr std::array<std::string_view, 4> kOpen = {"<IRQ>", "<NMI>", "<SOFTIRQ>", "<#DF>"};
  static constexpr std::array<std::string_view, 5> kClose = {"</IRQ>", "</NMI>", "</SOFTIRQ>", "<EOI>", "</#DF>"};
  const bool opens = std::find(kOpen.begin(), kOpen.end(), t) != kOpen.end();
  const bool closes = std::find(kClose.begin(), kClose.end(), t) != kClose.end();
  if (opens || closes) in_interrupt = opens;
  return opens || closes || t == "<TASK>" || t == "<EOE>";
}

bool unknown_address(std::string_view t) {
  if (t.starts_with("? ")) t.remove_prefix(2);
  return t.starts_with("0x") && hex_value(t).has_value();
}

bool trace_start(std::string_view t) {
  return t == "Call Trace:" || t == "Call trace:" || t == "Backtrace:" || t.starts_with("backtrace:") ||
         t.starts_with("backtrace (crc");
}

// Reads the call trace that starts after lines[from], up to the report's end; returns where it ended.
size_t read_trace(const std::vector<ConsoleLine>& lines, const std::vector<size_t>& mine, size_t from, Body& b) {
  bool in_interrupt = false;
  size_t k = from;
  for (; k < mine.size(); ++k) {
    std::string_view raw = content(lines[mine[k]].text), t = trim(raw);
    if (t == "</TASK>") return k;
    if (interrupt_marker(t, in_interrupt) || t.starts_with("Code: ") || unknown_address(t)) continue;
    if (register_line(t)) {
      if (auto loc = location_of(t); loc && !b.trace.empty() && b.trace.back().in_interrupt) b.location_past_interrupt = loc;
      else if (loc && b.trace.empty() && !b.location) b.location = loc;
      continue;
    }
    if (auto f = parse_frame(raw)) {
      b.trace.push_back({std::move(*f), in_interrupt});
      continue;
    }
    // A blank line ends the trace: the kernel puts one before the next section ("Allocated by task").
    if (t.empty()) return k;
    // Another line, with frames right after it: another CPU's line came in between (a console
    // has no caller to tell them apart). The trace goes on past it.
    bool resumes = false;
    for (size_t j = k + 1; j < mine.size() && j <= k + 2 && !resumes; ++j) {
      std::string_view next = content(lines[mine[j]].text);
      resumes = next.starts_with(' ') && parse_frame(next).has_value();
    }
    if (!resumes) {
      // The log's last line, indented as a frame but none: the capture stopped in the middle of it.
      b.cut = mine[k] + 1 == lines.size() && raw.starts_with(' ') && !t.empty();
      return k;
    }
    b.interleaved = true;
  }
  return k;
}

// lockdep's "..., at: FUNC+0x12/0x40": an inline wrapper's line ("at: inode_lock
// include/linux/fs.h:758 [inline]") is followed by its caller's, which names the function.
void read_lock_site(std::string_view t, std::string_view next, Body& b, bool& inline_only) {
  std::string_view site;
  if (size_t at = t.find(", at: "); at != std::string_view::npos) site = t.substr(at + 6);
  else if (t.ends_with(" at:")) site = trim(next);
  else return;
  if (site.starts_with("[<")) site = trim(site.substr(std::min(site.size(), site.find(">]") + 2)));
  auto loc = parse_location(site);
  if (!loc || (b.lock_at && !inline_only)) return;
  b.lock_at = loc;
  inline_only = site.ends_with("[inline]");
}

// `frames_follow_header`: the sanitizers print their stack right under the first line, with no
// "Call Trace:" (KMSAN, KFENCE).
Body read_body(const std::vector<ConsoleLine>& lines, const std::vector<size_t>& mine, bool frames_follow_header) {
  Body b;
  bool traced = false, inline_lock_site = false;
  for (size_t k = 1; k < mine.size(); ++k) {
    std::string_view raw = content(lines[mine[k]].text), t = trim(raw);
    if (t.starts_with("CPU: ") && t.find(" PID: ") != std::string_view::npos && !b.cpu) read_cpu_line(t, b);
    else if (t.starts_with("Modules linked in:") && b.modules.empty()) {
      std::string_view rest = trim(t.substr(18));
      for (size_t s = 0; s < rest.size();) {
        size_t e = rest.find(' ', s);
        if (e == std::string_view::npos) e = rest.size();
        if (e > s) b.modules.emplace_back(rest.substr(s, e - s));
        s = e + 1;
      }
    } else if (b.access.empty() && (t.starts_with("Read of size ") || t.starts_with("Write of size "))) {
      b.access = std::string(t.substr(0, t.find(' ')));
    } else if (t.starts_with("KASAN: ") && t.find(" in range") != std::string_view::npos && b.kasan_range.empty()) {
      b.kasan_range = std::string(t);
    } else if (t.starts_with("CR2: ") && !b.cr2) {
      b.cr2 = hex_value(t.substr(5, t.find(' ', 5) == std::string_view::npos ? std::string_view::npos : t.find(' ', 5) - 5));
    }
    if (!traced && register_line(t)) {
      b.registers.emplace_back(t);
      if (!b.location) b.location = location_of(t);
    }
    read_lock_site(t, k + 1 < mine.size() ? content(lines[mine[k + 1]].text) : std::string_view(), b, inline_lock_site);
    if (traced) continue;
    if (trace_start(t)) {
      traced = true;
      k = read_trace(lines, mine, k + 1, b) - 1;  // the line that ended the trace is read as any other
    } else if (frames_follow_header && raw.starts_with(' ') && parse_frame(raw)) {
      traced = true;
      k = read_trace(lines, mine, k, b) - 1;
    }
  }
  return b;
}

// ------------------------------------------------------------------------------------------------
// Naming.

std::string replace_all(std::string s, std::string_view what, std::string_view with) {
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + with.size())) s.replace(at, what.size(), with);
  return s;
}

std::string collapse_spaces(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// A free-form message made a title: addresses and numbers out, the details after a colon or a
// parenthesis dropped.
std::string message_title(std::string_view msg) {
  static const std::regex kAddress(R"(\b(0x)?[0-9a-f]{8,}\b)"), kNumber(R"(\b\d+\b)");
  std::string s(msg);
  for (std::string_view cut : {" (", " [", ", "}) {
    if (size_t at = s.find(cut); at != std::string::npos && at > 0) s.resize(at);
  }
  s = std::regex_replace(s, kAddress, "ADDR");
  return collapse_spaces(std::regex_replace(s, kNumber, "N"));
}

std::string panic_message(std::string_view msg) {
  std::string s(trim(msg));
  for (std::string_view cut : {" exitcode=", " ..."}) {
    if (size_t at = s.find(cut); at != std::string::npos) s.resize(at);
  }
  return s;
}

std::string type_of_address(std::optional<uint64_t> address, std::string_view otherwise) {
  if (!address) return std::string(otherwise);
  if (*address < kNullPage) return "null-deref";
  auto poison = PoisonCatalog::shipped().match_scalar(*address, 8, "linux");
  if (!poison) return std::string(otherwise);
  const std::string& state = poison->pattern->state;
  if (state == "freed" || state == "list-poison") return "use-after-free";
  if (state == "redzone") return "out-of-bounds";
  if (state == "uninitialised") return "uninit-value";
  return std::string(otherwise);
}

std::string sanitizer_type(std::string_view bug) {
  if (bug.find("null-ptr-deref") != std::string_view::npos) return "null-deref";
  if (bug.find("use-after-free") != std::string_view::npos || bug.find("double-free") != std::string_view::npos) return "use-after-free";
  if (bug.find("invalid-free") != std::string_view::npos || bug.find("invalid free") != std::string_view::npos) return "invalid-free";
  if (bug.find("shift-out-of-bounds") != std::string_view::npos) return "undefined-behavior";
  if (bug.find("out-of-bounds") != std::string_view::npos) return "out-of-bounds";
  if (bug.find("uninit") != std::string_view::npos) return "uninit-value";
  if (bug.find("infoleak") != std::string_view::npos) return "info-leak";
  if (bug.find("memory corruption") != std::string_view::npos) return "data-corruption";
  return "";
}

std::string slab_type(std::string_view message) {
  if (message.find("Poison overwritten") != std::string_view::npos || message.find("already free") != std::string_view::npos) {
    return "use-after-free";
  }
  if (message.find("Redzone") != std::string_view::npos) return "out-of-bounds";
  return "data-corruption";
}

std::string report_type(const Format& f, const Match& m, const Body& b, std::string_view slab_message) {
  std::string t(f.type);
  switch (f.type_rule) {
    case TypeRule::kasan:
    case TypeRule::kfence:
    case TypeRule::kmsan:
    case TypeRule::ubsan:
      if (auto s = sanitizer_type(m.group(1)); !s.empty()) t = s;
      break;
    case TypeRule::address: {
      auto a = hex_value(m.group(1));
      t = type_of_address(a ? a : b.cr2, f.type);
      break;
    }
    case TypeRule::slab: t = slab_type(slab_message); break;
    case TypeRule::refcount:
      if (m.group(1).find("use-after-free") != std::string::npos) t = "use-after-free";
      break;
    case TypeRule::panic: {
      std::string msg = m.group(1);
      if (msg.find("Out of memory") != std::string::npos || msg.find("deadlocked on memory") != std::string::npos) t = "out-of-memory";
      else if (msg.find("stack") != std::string::npos && (msg.find("corrupt") != std::string::npos || msg.find("overflow") != std::string::npos)) t = "stack-overflow";
      else if (msg.find("sysrq") != std::string::npos) t = "sysrq";
      break;
    }
    case TypeRule::spinlock:
      if (m.group(2).find("bad magic") != std::string::npos) t = "data-corruption";
      break;
    case TypeRule::die: {
      std::string what = m.group(1);
      if (what == "divide error") t = "arithmetic";
      else if (what == "invalid opcode") t = "invalid-instruction";
      else if (what.find("stack") != std::string::npos || what == "double fault") t = "stack-overflow";
      break;
    }
    case TypeRule::fixed: break;
  }
  // A KASAN kernel turns a wild access into a GPF on its shadow; its line says which it was.
  if (!b.kasan_range.empty()) {
    if (auto s = sanitizer_type(b.kasan_range); !s.empty()) t = s;
  }
  return t;
}

// Which preface a WARNING's or BUG's own file stands for, when the message before it is missing.
const Format* preface_of_file(std::string_view file) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 3> kFiles = {
      std::pair{"lib/list_debug.c", "list-corruption"}, std::pair{"lib/refcount.c", "refcount"},
      std::pair{"lib/debugobjects.c", "odebug"}};
  for (const auto& [suffix, id] : kFiles) {
    if (!file.ends_with(suffix)) continue;
    for (const CompiledFormat& cf : report_formats()) {
      if (cf.format->id == id) return cf.format;
    }
  }
  return nullptr;
}

// ------------------------------------------------------------------------------------------------
// Grouping lines into reports.

struct Open {
  Match header;                    // the format that started it (a preface, until its WARNING or BUG comes)
  std::optional<Match> preface;    // the message that names it
  bool preface_only = false;
  size_t first = 0, header_at = 0;  // indices into the lines
  std::vector<size_t> mine;        // its lines, the first one first
  std::string corrupted;
};

// Who printed a line: "C1", "T3000", or "" when the console does not say. Reports printed at once
// by two CPUs are told apart by it.
std::string context_of(const ConsoleLine& line) {
  if (line.cpu) return "C" + std::to_string(*line.cpu);
  if (line.task) return "T" + std::to_string(*line.task);
  return "";
}

std::string panic_names(std::string_view msg) {
  if (msg.starts_with("Fatal exception") || msg.find("Machine halted") != std::string_view::npos || msg.starts_with("Oops")) return "oops";
  if (msg.find("panic_on_warn") != std::string_view::npos || msg.find("panic_on_taint") != std::string_view::npos) return "any";
  if (msg.starts_with("softlockup")) return "softlockup";
  if (msg.starts_with("hung_task")) return "hang";
  if (msg.find("Hard LOCKUP") != std::string_view::npos || msg.starts_with("hardlockup")) return "hardlockup";
  if (msg.starts_with("RCU Stall")) return "rcu";
  if (msg.find("Out of memory") != std::string_view::npos || msg.find("deadlocked on memory") != std::string_view::npos) return "oom";
  return "";
}

class Builder {
 public:
  explicit Builder(const std::vector<ConsoleLine>& lines) : lines_(lines) {}

  void read() {
    for (size_t i = 0; i < lines_.size(); ++i) on_line(i);
    close_all();
  }

  // The reports in the log's order, and the crash.
  ConsoleReading result(const ReadOptions& options) &&;

 private:
  struct Finished {
    CrashReport report;
    std::string category;
  };

  const std::vector<ConsoleLine>& lines_;
  std::vector<Finished> finished_;
  std::map<std::string, Open> open_;  // by context
  std::optional<size_t> panic_line_;
  std::string panic_text_, panic_category_;
  std::optional<size_t> panic_report_line_;  // first line of the report the panic names, or its own

  void start(const std::string& context, size_t i, Match m, bool preface_only) {
    close(context);
    Open o;
    o.header = std::move(m);
    o.preface_only = preface_only;
    o.first = o.header_at = i;
    o.mine.push_back(i);
    open_[context] = std::move(o);
  }

  void close(const std::string& context) {
    auto it = open_.find(context);
    if (it == open_.end()) return;
    finish(it->second);
    open_.erase(it);
  }

  void close_all() {
    while (!open_.empty()) close(open_.begin()->first);
  }

  void finish(Open& o);
  void on_panic(const std::string& context, size_t i, Match m);
  void on_line(size_t i);
};

void Builder::on_panic(const std::string& context, size_t i, Match m) {
  close_all();
  if (panic_line_) return;  // a panic in the panic: the first one is the crash's
  panic_line_ = i;
  panic_text_ = std::string(without_oops_prefix(lines_[i].text));
  panic_category_ = panic_names(m.group(1));
  if (!panic_category_.empty()) {
    std::optional<size_t> named;
    for (const Finished& f : finished_) {
      bool fits = panic_category_ == "any" || (panic_category_ == "oops" ? f.report.fatal : f.category == panic_category_);
      if (fits && (!named || f.report.first_line > *named)) named = f.report.first_line;  // the last one before the panic
    }
    if (named) {
      panic_report_line_ = named;
      return;
    }
  }
  start(context, i, std::move(m), false);
  Open& own = open_[context];
  if (!panic_category_.empty() && panic_category_ != "oom") own.corrupted = "the report this panic follows is not in the log";
  // sysrq-c's "sysrq: Trigger a crash" says who asked for the panic: the report starts there.
  if (i > 0 && lines_[i - 1].text.starts_with("sysrq: Trigger a crash") && context_of(lines_[i - 1]) == context) {
    own.first = i - 1;
    own.mine.insert(own.mine.begin(), i - 1);
  }
  panic_report_line_ = lines_[own.first].number;
}

void Builder::on_line(size_t i) {
  const ConsoleLine& line = lines_[i];
  const std::string context = context_of(line);
  auto m = classify(line.text);
  auto open = open_.find(context);
  Open* o = open == open_.end() ? nullptr : &open->second;
  if (m) {
    const Format& f = *m->format;
    size_t since = o ? i - o->header_at : SIZE_MAX;
    switch (f.role) {
      case Role::panic: on_panic(context, i, std::move(*m)); return;
      case Role::preface:
        if (o && !o->preface_only && !o->preface && since <= kReverseReach &&
            (o->header.format->id.starts_with("warning") || o->header.format->id == "kernel-bug")) {
          o->preface = std::move(*m);
          o->mine.push_back(i);
          return;
        }
        start(context, i, std::move(*m), true);
        return;
      case Role::continuation:
      case Role::header:
        if (o && (f.role == Role::continuation ? since <= kContinuationReach : o->preface_only && since <= kPrefaceReach)) {
          if (o->preface_only) {
            o->preface = std::move(o->header);
            o->header = std::move(*m);
            o->preface_only = false;
            o->header_at = i;
          }
          o->mine.push_back(i);
          return;
        }
        start(context, i, std::move(*m), false);
        return;
    }
  }
  if (!o) return;
  std::string_view t = trim(line.text);
  if (t.starts_with("---[ end trace") || t.starts_with("---[ end Kernel panic")) {
    o->mine.push_back(i);
    close(context);
  } else if (t.find("[ cut here ]") != std::string_view::npos) {
    if (!o->preface_only) close(context);
  } else if (rule_line(t) && o->mine.size() >= 3 && !o->preface_only) {
    o->mine.push_back(i);
    close(context);
  } else {
    o->mine.push_back(i);
  }
}

std::string fill(std::string_view templ, const Match& m, const std::string& func, const std::string& access) {
  std::string s(templ);
  if (func.empty()) s = replace_all(s, " in {func}", "");
  s = replace_all(s, "{func}", func);
  s = replace_all(s, "{access}", access);
  s = replace_all(s, "{1}", m.group(1));
  s = replace_all(s, "{2}", m.group(2));
  return collapse_spaces(s);
}

void Builder::finish(Open& o) {
  const std::vector<ConsoleLine>& lines = lines_;
  const Match& head = o.header;
  const Format& f = *head.format;
  // The message before a WARNING or BUG names it; without one, the file the WARNING is in may.
  const Format* named_by = o.preface && !o.preface->format->title.empty() && o.preface->format->id != "memory-leak-banner"
                               ? o.preface->format
                               : nullptr;
  if (!named_by && (f.id.starts_with("warning") || f.id == "kernel-bug")) named_by = preface_of_file(head.group(1));
  Body b = read_body(lines, o.mine, f.frames == FrameSource::header);

  CrashReport r;
  r.header = lines[o.first].text;
  r.first_line = lines[o.first].number;
  r.last_line = lines[o.mine.back()].number;
  r.registers = std::move(b.registers);
  r.modules = std::move(b.modules);
  r.tainted = std::move(b.tainted);
  r.cpu = b.cpu;
  r.pid = b.pid;
  r.comm = b.comm;
  r.fatal = f.fatal;

  // The frames, most telling first: the function the first line names, lockdep's lock site, the
  // faulting location, the call trace (past the interrupt that noticed a stall or a lockup).
  auto push = [&](const std::optional<StackFrame>& fr) {
    if (!fr || !fr->reliable) return;
    if (!r.frames.empty() && function_base_name(r.frames.back().function) == function_base_name(fr->function)) return;
    r.frames.push_back(*fr);
  };
  const bool past_interrupt = f.machinery & kInterrupt;
  std::string panic_frame;
  if (f.role == Role::panic) {  // "stack-protector: Kernel stack is corrupted in: func+0x../0x.."
    if (size_t at = head.group(1).find("in: "); at != std::string::npos) push(parse_location(head.group(1).substr(at + 4)));
  }
  if (f.frames == FrameSource::header) push(parse_location(head.group(2)));
  if (f.frames == FrameSource::lock_at) push(b.lock_at);
  if (f.frames == FrameSource::location || f.frames == FrameSource::header) {
    push(past_interrupt && b.location_past_interrupt ? b.location_past_interrupt : b.location);
  }
  const bool task_part = past_interrupt && std::any_of(b.trace.begin(), b.trace.end(), [](const TraceFrame& t) { return !t.in_interrupt; });
  for (const TraceFrame& t : b.trace) {
    if (!task_part || !t.in_interrupt) push(t.frame);
  }
  // A report whose title names no function has no guilty frame: its trace is where the kernel
  // noticed (SLUB's check on the next allocation), which differs from build to build.
  r.guilty = r.frames.size();
  const unsigned machinery = f.machinery | (named_by ? named_by->machinery : 0);
  for (size_t k = 0; k < r.frames.size() && f.frames != FrameSource::none; ++k) {
    if (!is_machinery(r.frames[k].function, machinery)) {
      r.guilty = k;
      break;
    }
  }
  if (r.guilty < r.frames.size()) r.guilty_frame = std::string(function_base_name(r.frames[r.guilty].function));

  // The title.
  const Format& naming = named_by ? *named_by : f;
  Match title_match = named_by && o.preface && o.preface->format == named_by ? *o.preface : head;
  std::string slab_message;
  if (f.type_rule == TypeRule::slab) {
    slab_message = o.preface && o.preface->format->id == "slab-kind" ? o.preface->group(1) : head.group(2);
    if (size_t at = slab_message.find(" 0x"); at != std::string::npos) slab_message.resize(at);
    title_match.set_group(2, slab_message);
  }
  if (f.id == "bug" || f.id == "warning-other") title_match.set_group(1, message_title(head.group(1)));
  if (f.role == Role::panic) {
    std::string msg = panic_message(head.group(1));
    if (msg.starts_with("corrupted stack end")) msg = "corrupted stack end in {func}";
    else if (size_t at = msg.find(" in: "); at != std::string::npos) msg = msg.substr(0, at) + " in {func}";
    title_match.set_group(1, msg);
  }
  if (f.type_rule == TypeRule::ubsan && title_match.group(1) == "Undefined behaviour") title_match.set_group(1, "undefined-behaviour");
  std::string templ = replace_all(std::string(naming.title), "{1}", title_match.group(1));  // a panic message may hold {func}
  r.title = fill(templ, title_match, r.guilty_frame, b.access);
  if (!naming.alt.empty() && (!r.guilty_frame.empty() || naming.alt.find("{func}") == std::string_view::npos)) {
    r.alt_titles.push_back(fill(naming.alt, title_match, r.guilty_frame, b.access));
  }
  if (&naming != &f && !f.alt.empty() && f.alt.find("{func}") == std::string_view::npos) r.alt_titles.push_back(fill(f.alt, head, "", ""));
  r.type = named_by ? report_type(*named_by, title_match, b, "") : report_type(f, head, b, slab_message);

  // What makes it untrustworthy.
  std::string why = o.corrupted;
  const bool wants_frame = naming.title.find("{func}") != std::string_view::npos || templ.find("{func}") != std::string::npos;
  if (why.empty() && wants_frame && r.frames.empty()) why = "the report has no call trace";
  else if (why.empty() && wants_frame && r.guilty_frame.empty()) why = "no frame of the report is past the reporting machinery";
  if (why.empty() && b.interleaved) why = "lines of another report are inside its call trace";
  if (why.empty() && b.cut) why = "the log ends inside the report's call trace";
  if (why.empty() && f.type_rule == TypeRule::kasan && f.role == Role::header && b.access.empty() &&
      (r.type == "out-of-bounds" || (r.type == "use-after-free" && head.group(1).find("free") == std::string::npos) ||
       head.group(1) == "use-after-free" || head.group(1) == "slab-use-after-free")) {
    why = "the report has no \"Read of size\" or \"Write of size\" line";
  }
  r.corrupted = why;
  std::string category(named_by && f.category.empty() ? named_by->category : f.category);
  finished_.push_back({std::move(r), std::move(category)});
}

ConsoleReading Builder::result(const ReadOptions& options) && {
  std::stable_sort(finished_.begin(), finished_.end(),
                   [](const Finished& a, const Finished& b) { return a.report.first_line < b.report.first_line; });
  ConsoleReading out;
  out.panic = panic_text_;
  for (Finished& f : finished_) out.reports.push_back(std::move(f.report));
  auto counts = [&](const CrashReport& r) {
    return std::find(options.not_crashes.begin(), options.not_crashes.end(), r.type) == options.not_crashes.end();
  };
  for (size_t i = 0; i < out.reports.size() && panic_report_line_; ++i) {
    if (out.reports[i].first_line == *panic_report_line_ && counts(out.reports[i])) out.crash = i;
  }
  if (!out.crash) {
    // No panic: the first report that killed a task, else the first report.
    for (bool fatal_only : {true, false}) {
      for (size_t i = 0; i < out.reports.size() && !out.crash; ++i) {
        if ((!fatal_only || out.reports[i].fatal) && counts(out.reports[i])) out.crash = i;
      }
    }
  }
  return out;
}

}  // namespace

ConsoleReading read_console(const std::vector<ConsoleLine>& lines, const ReadOptions& options) {
  Builder b(lines);
  b.read();
  return std::move(b).result(options);
}

std::vector<std::string> guilty_frames(const CrashReport& report, size_t count) {
  std::vector<std::string> out;
  for (size_t k = report.guilty; k < report.frames.size() && out.size() < count; ++k) {
    out.emplace_back(function_base_name(report.frames[k].function));
  }
  return out;
}

}  // namespace coroner::console
