#include "coroner/rules/rule_engine.hpp"

#include <algorithm>

namespace coroner::rules {
namespace {

// A function as written in a rule: GCC's clones (`__handle_sysrq.cold`, `foo.isra.0`,
// `bar.constprop.0`, `baz.part.0`) are the function they were cut from.
bool function_matches(const std::string& name, const std::regex& wanted) {
  if (std::regex_match(name, wanted)) return true;
  size_t dot = name.find('.');
  return dot != std::string::npos && dot > 0 && std::regex_match(name.substr(0, dot), wanted);
}

// The frames where `wanted` appears in order in `functions`, or empty when it does not.
std::vector<size_t> subsequence(const std::vector<std::string>& functions, const std::vector<std::regex>& wanted) {
  std::vector<size_t> at;
  size_t next = 0;
  for (size_t i = 0; i < functions.size() && next < wanted.size(); ++i) {
    if (function_matches(functions[i], wanted[next])) {
      at.push_back(i);
      ++next;
    }
  }
  return next == wanted.size() ? at : std::vector<size_t>{};
}

std::string frames_text(const std::vector<std::string>& functions, const std::vector<size_t>& at) {
  std::string s;
  for (size_t i : at) s += (s.empty() ? "#" : ", #") + std::to_string(i) + " " + functions[i];
  return s;
}

std::string thread_text(const ThreadFacts& t) { return "pid " + std::to_string(t.pid) + " (" + t.comm + ")"; }

bool text_matches(const std::regex& re, const std::vector<std::string>& lines, const char* what, std::vector<std::string>& evidence) {
  for (const auto& line : lines) {
    if (std::regex_search(line, re)) {
      evidence.push_back(std::string(what) + ": \"" + line + "\"");
      return true;
    }
  }
  return false;
}

}  // namespace

bool holds(const Condition& c, const Facts& facts, std::vector<std::string>& evidence) {
  using K = Condition::Kind;
  switch (c.kind) {
    case K::all: {
      std::vector<std::string> mine;
      for (const auto& child : c.children) {
        if (!holds(child, facts, mine)) return false;
      }
      evidence.insert(evidence.end(), mine.begin(), mine.end());
      return true;
    }
    case K::any:
      for (const auto& child : c.children) {
        if (holds(child, facts, evidence)) return true;
      }
      return false;
    case K::none: {
      std::vector<std::string> ignored;
      for (const auto& child : c.children) {
        if (holds(child, facts, ignored)) return false;
      }
      return true;
    }
    case K::panic: return text_matches(c.regex, facts.panic, "panic", evidence);
    case K::log: return text_matches(c.regex, facts.log, "log", evidence);
    case K::stack: {
      if (facts.crashing < 0) return false;
      const ThreadFacts& t = facts.threads[static_cast<size_t>(facts.crashing)];
      auto at = subsequence(t.functions, c.functions);
      if (at.empty()) return false;
      evidence.push_back("crashing thread " + thread_text(t) + ": " + frames_text(t.functions, at));
      return true;
    }
    case K::thread: {
      const ThreadFacts* crashing = facts.crashing >= 0 ? &facts.threads[static_cast<size_t>(facts.crashing)] : nullptr;
      for (size_t i = 0; i < facts.threads.size(); ++i) {
        const ThreadFacts& t = facts.threads[i];
        if (static_cast<int>(i) == facts.crashing) continue;
        if (c.other_process && crashing && t.tgid == crashing->tgid) continue;
        auto at = subsequence(t.functions, c.functions);
        if (at.empty()) continue;
        evidence.push_back("thread " + thread_text(t) + (c.other_process ? ", another process" : "") + ": " +
                           frames_text(t.functions, at));
        return true;
      }
      return false;
    }
    case K::fault: {
      if (!facts.fault) return false;
      const FaultFacts& f = *facts.fault;
      if (!c.address_kind.empty() && c.address_kind != "any" && f.address_kind != c.address_kind) return false;
      if (!c.poison_pattern.empty() && f.pattern != c.poison_pattern) return false;
      evidence.push_back("fault: `" + f.instruction + "` at " + (f.address ? "an address that is " : "") + f.address_kind +
                         (f.pattern.empty() ? "" : " (" + f.pattern + ")") + (f.member.empty() ? "" : ", via " + f.member));
      return true;
    }
    case K::object:
      for (const auto& o : facts.objects) {
        if (c.freed && o.free != *c.freed) continue;
        char address[24];
        std::snprintf(address, sizeof address, "%#llx", static_cast<unsigned long long>(o.address));
        evidence.push_back(std::string(o.free ? "freed" : "allocated") + " " + o.cache + " object " + address + " (" +
                           o.found_as + ")");
        return true;
      }
      return false;
  }
  return false;
}

std::vector<Verdict> evaluate(const std::vector<Rule>& rules, const Facts& facts) {
  std::vector<Verdict> out;
  for (const Rule& r : rules) {
    if (r.os != facts.os && r.os != "any") continue;
    Verdict v{&r, {}};
    if (holds(r.when, facts, v.evidence)) out.push_back(std::move(v));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Verdict& a, const Verdict& b) { return a.rule->confidence > b.rule->confidence; });
  return out;
}

}  // namespace coroner::rules
