#include "coroner/rules/rule_engine.hpp"

#include <algorithm>
#include <cstdio>

#include "coroner/rules/function_name.hpp"

namespace coroner::rules {
namespace {

// A function as written in a rule: GCC's clones (`__handle_sysrq.cold`, `foo.isra.0`,
// `bar.constprop.0`, `baz.part.0`) are the function they were cut from.
bool function_matches(const std::string& name, const std::regex& wanted) {
  if (std::regex_match(name, wanted)) return true;
  std::string_view base = function_base_name(name);
  return base.size() != name.size() && std::regex_match(base.begin(), base.end(), wanted);
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

std::string hex(uint64_t v) {
  char text[24];
  std::snprintf(text, sizeof text, "%#llx", static_cast<unsigned long long>(v));
  return text;
}

bool compare(const FieldTest& t, const FieldValue& v) {
  if (t.op == FieldTest::Op::holds) return !v.poison.empty() && (t.pattern == "poison" || v.poison == t.pattern);
  if (!v.bits) return false;
  uint64_t x = t.mask ? (*v.bits & *t.mask) : *v.bits;
  const bool as_signed = !t.mask && (v.is_signed || t.negative);
  auto order = [&]() -> int {
    if (as_signed) {
      auto a = static_cast<int64_t>(x), b = static_cast<int64_t>(t.value);
      return a < b ? -1 : a > b ? 1 : 0;
    }
    return x < t.value ? -1 : x > t.value ? 1 : 0;
  };
  switch (t.op) {
    case FieldTest::Op::eq: return order() == 0;
    case FieldTest::Op::ne: return order() != 0;
    case FieldTest::Op::lt: return order() < 0;
    case FieldTest::Op::le: return order() <= 0;
    case FieldTest::Op::gt: return order() > 0;
    case FieldTest::Op::ge: return order() >= 0;
    case FieldTest::Op::holds: break;
  }
  return false;
}

bool place_matches(ObjectPlace wanted, const ObjectFacts& o) {
  switch (wanted) {
    case ObjectPlace::any: return true;
    case ObjectPlace::slab: return o.place == ObjectPlace::slab;
    case ObjectPlace::stack: return o.place == ObjectPlace::stack;
    case ObjectPlace::dead_stack_frame: return o.place == ObjectPlace::stack && o.dead_frame;
    case ObjectPlace::panic_message: return o.place == ObjectPlace::panic_message;
    case ObjectPlace::frame: return false;  // frame words are not objects until a rule reads them
  }
  return false;
}

// A rule's `type: dentry` matches "struct dentry" as well as a typedef's "htable_t".
bool type_matches(const std::string& type, const std::regex& wanted) {
  if (std::regex_match(type, wanted)) return true;
  return type.starts_with("struct ") && std::regex_match(type.substr(7), wanted);
}

std::string age_text(const std::optional<double>& age) {
  if (!age) return "";
  char buf[48];
  std::snprintf(buf, sizeof buf, " %.2f s before the crash", *age);
  return buf;
}

}  // namespace

std::string reallocation_text(const Reallocation& r) {
  return "freed by pid " + std::to_string(r.free_pid) + (r.free_function.empty() ? "" : " in " + r.free_function) +
         age_text(r.free_age) + ", allocated again by pid " + std::to_string(r.alloc_pid) +
         (r.alloc_function.empty() ? "" : " in " + r.alloc_function) + age_text(r.alloc_age);
}

namespace {

std::string object_text(const ObjectFacts& o, const std::string& as_type) {
  if (o.place == ObjectPlace::panic_message) {
    return "the panic message's " + hex(o.address) + (as_type.empty() ? "" : ", read as " + as_type) + " (" + o.found_as + ")";
  }
  if (o.place == ObjectPlace::frame) return o.type + " " + hex(o.address) + " (" + o.found_as + ")";
  if (o.place == ObjectPlace::stack) {
    return std::string(o.dead_frame ? "dead stack frame" : "stack") + " address " + hex(o.address) + " (" + o.found_as + ")";
  }
  std::string type = o.type.empty() ? o.cache + " object" : o.type + " (cache " + o.cache + ")";
  return std::string(o.free ? "freed " : "allocated ") + type + " " + hex(o.address) + " (" + o.found_as + ")" +
         (o.reallocation ? "; " + reallocation_text(*o.reallocation) : "");
}

// A reallocation the rule's `reallocated` asks about: by threads other than the crashing one (the
// holder), and within `within` seconds of the crash when the rule says so.
bool reallocation_matches(const Condition& c, const ObjectFacts& o, const Facts& facts) {
  if (!c.reallocated && !c.reallocated_within) return true;
  bool by_others = false;
  if (o.reallocation) {
    int holder = facts.crashing >= 0 ? facts.threads[static_cast<size_t>(facts.crashing)].pid : -1;
    by_others = o.reallocation->free_pid != holder && o.reallocation->alloc_pid != holder;
  }
  if (c.reallocated && *c.reallocated != by_others) return false;
  if (c.reallocated_within) {
    const auto& r = o.reallocation;
    if (!r || !r->free_age || !r->alloc_age || *r->free_age > *c.reallocated_within || *r->alloc_age > *c.reallocated_within) {
      return false;
    }
  }
  return true;
}

// Conditions evaluated on one set of facts. An `object` condition remembers the objects it matched,
// so that a `thread` condition with same_object asks for a thread holding one of those.
class Evaluator {
 public:
  explicit Evaluator(const Facts& facts) : facts_(facts) {}

  bool holds(const Condition& c, std::vector<std::string>& evidence) {
    using K = Condition::Kind;
    switch (c.kind) {
      case K::all: return all(c, evidence);
      case K::any:
        for (const auto& child : c.children) {
          if (holds(child, evidence)) return true;
        }
        return false;
      case K::none: {
        std::vector<std::string> ignored;
        for (const auto& child : c.children) {
          if (holds(child, ignored)) return false;
        }
        return true;
      }
      case K::panic: return text_matches(c.regex, facts_.panic, "panic", evidence);
      case K::log: return text_matches(c.regex, facts_.log, "log", evidence);
      case K::stack: return crashing_stack(c, evidence);
      case K::thread: return other_thread(c, evidence);
      case K::fault: return fault(c, evidence);
      case K::object: return object(c, evidence);
    }
    return false;
  }

 private:
  // Objects first, so that a thread's same_object sees what they matched wherever it is written.
  // The evidence stays in the order the rule was written.
  bool all(const Condition& c, std::vector<std::string>& evidence) {
    std::vector<std::vector<std::string>> each(c.children.size());
    for (bool objects_pass : {true, false}) {
      for (size_t i = 0; i < c.children.size(); ++i) {
        if ((c.children[i].kind == Condition::Kind::object) != objects_pass) continue;
        if (!holds(c.children[i], each[i])) return false;
      }
    }
    for (auto& e : each) evidence.insert(evidence.end(), e.begin(), e.end());
    return true;
  }

  bool crashing_stack(const Condition& c, std::vector<std::string>& evidence) const {
    if (facts_.crashing < 0) return false;
    const ThreadFacts& t = facts_.threads[static_cast<size_t>(facts_.crashing)];
    auto at = subsequence(t.functions, c.functions);
    if (at.empty()) return false;
    evidence.push_back("crashing thread " + thread_text(t) + ": " + frames_text(t.functions, at));
    return true;
  }

  bool other_thread(const Condition& c, std::vector<std::string>& evidence) const {
    const ThreadFacts* crashing = facts_.crashing >= 0 ? &facts_.threads[static_cast<size_t>(facts_.crashing)] : nullptr;
    for (size_t i = 0; i < facts_.threads.size(); ++i) {
      const ThreadFacts& t = facts_.threads[i];
      if (static_cast<int>(i) == facts_.crashing) continue;
      if (c.other_process && crashing && t.tgid == crashing->tgid) continue;
      if (!c.states.empty() && c.states.find(t.state) == std::string::npos) continue;
      auto at = subsequence(t.functions, c.functions);
      if (at.empty()) continue;
      std::string held;
      if (c.same_object && !holds_bound_object(i, held)) continue;
      evidence.push_back("thread " + thread_text(t) + (c.other_process ? ", another process" : "") +
                         (c.states.empty() ? "" : std::string(", state ") + t.state) + ": " +
                         frames_text(t.functions, at) + held);
      return true;
    }
    return false;
  }

  // Whether thread `i` holds an object the rule's object conditions matched (any object found,
  // when the rule has none); `held` says which and where.
  bool holds_bound_object(size_t i, std::string& held) const {
    for (size_t o = 0; o < facts_.objects.size(); ++o) {
      if (bound_ && std::find(bound_->begin(), bound_->end(), o) == bound_->end()) continue;
      for (const ObjectHolder& h : facts_.objects[o].holders) {
        if (h.thread != i) continue;
        held = "; holds the same object " + hex(facts_.objects[o].address) + " (" + h.where + ")";
        return true;
      }
    }
    return false;
  }

  bool fault(const Condition& c, std::vector<std::string>& evidence) const {
    if (!facts_.fault) return false;
    const FaultFacts& f = *facts_.fault;
    if (c.address_kind && f.address_kind != *c.address_kind) return false;
    if (!c.poison_pattern.empty() && f.pattern != c.poison_pattern) return false;
    evidence.push_back("fault: `" + f.instruction + "` at " + (f.address ? "an address that is " : "") + address_kind_name(f.address_kind) +
                       (f.pattern.empty() ? "" : " (" + f.pattern + ")") + (f.member.empty() ? "" : ", via " + f.member));
    return true;
  }

  // In a crashing frame: the variable the rule names, read as what it points to (or as `as`), or
  // else the first word read as the rule's type whose fields all hold.
  bool frame_object(const Condition& c, std::vector<std::string>& evidence) const {
    if (!facts_.read_as) return false;
    for (const FrameWords& f : facts_.crashing_frames) {
      if (!function_matches(f.function, *c.frame)) continue;
      std::vector<std::string> fields;
      if (!c.variable.empty()) {
        for (const auto& v : f.variables) {
          if (v.name != c.variable) continue;
          const std::string& type = c.as_type.empty() ? v.pointee : c.as_type;
          if (type.empty() || !fields_hold(c, facts_.read_as(v.value, type), fields)) break;
          evidence.push_back(v.name + " = " + hex(v.value) + " in frame #" + std::to_string(f.level) + " " + f.function +
                             " (" + (v.parameter ? "parameter" : "local") + ", " + v.type + ", at " + hex(v.location) +
                             "), read as " + type);
          evidence.insert(evidence.end(), fields.begin(), fields.end());
          return true;
        }
        continue;
      }
      for (const auto& [location, value] : f.words) {
        fields.clear();
        if (!fields_hold(c, facts_.read_as(value, c.as_type), fields)) continue;
        evidence.push_back(hex(value) + " in frame #" + std::to_string(f.level) + " " + f.function + " (stack slot " +
                           hex(location) + "), read as " + c.as_type);
        evidence.insert(evidence.end(), fields.begin(), fields.end());
        return true;
      }
    }
    return false;
  }

  bool object(const Condition& c, std::vector<std::string>& evidence) {
    if (c.place == ObjectPlace::frame) return frame_object(c, evidence);
    std::vector<size_t> matched;
    std::vector<std::string> first;
    for (size_t i = 0; i < facts_.objects.size(); ++i) {
      const ObjectFacts& o = facts_.objects[i];
      if (c.freed && o.free != *c.freed) continue;
      if (o.pointers > c.pointers) continue;
      if (c.operand && o.operand != *c.operand) continue;
      if (!reallocation_matches(c, o, facts_)) continue;
      if (!place_matches(c.place, o)) continue;
      if (c.type && !type_matches(o.type, *c.type)) continue;
      if (c.cache && !std::regex_match(o.cache, *c.cache)) continue;
      FieldReader reader = o.field;
      if (!c.as_type.empty()) {
        if (!o.type.empty() || !o.as_type) continue;  // `as` is for untyped objects only
        reader = o.as_type(c.as_type);
      }
      std::vector<std::string> fields;
      if (!fields_hold(c, reader, fields)) continue;
      if (matched.empty()) {
        first.push_back(object_text(o, c.as_type));
        first.insert(first.end(), fields.begin(), fields.end());
      }
      matched.push_back(i);
    }
    if (matched.empty()) return false;
    if (!bound_) bound_.emplace();
    bound_->insert(bound_->end(), matched.begin(), matched.end());
    evidence.insert(evidence.end(), first.begin(), first.end());
    return true;
  }

  static bool fields_hold(const Condition& c, const FieldReader& field, std::vector<std::string>& evidence) {
    for (const FieldTest& t : c.fields) {
      if (!field) return false;
      auto v = field(t.path);
      if (!v || !compare(t, *v)) return false;
      evidence.push_back("field " + t.path + " = " + v->text + " (" + t.text + ")");
    }
    return true;
  }

  const Facts& facts_;
  std::optional<std::vector<size_t>> bound_;
};

}  // namespace

bool holds(const Condition& c, const Facts& facts, std::vector<std::string>& evidence) {
  return Evaluator(facts).holds(c, evidence);
}

namespace {

// The first object condition in `c` that reads a frame variable.
const Condition* frame_variable_condition(const Condition& c) {
  if (c.kind == Condition::Kind::object && !c.variable.empty()) return &c;
  for (const Condition& child : c.children) {
    if (const Condition* found = frame_variable_condition(child)) return found;
  }
  return nullptr;
}

// What in `c` a console log cannot answer: the other threads, the fault, the objects.
std::string dump_only_condition(const Condition& c) {
  switch (c.kind) {
    case Condition::Kind::thread: return "other threads";
    case Condition::Kind::fault: return "the fault";
    case Condition::Kind::object: return "objects in memory";
    default: break;
  }
  for (const Condition& child : c.children) {
    if (std::string what = dump_only_condition(child); !what.empty()) return what;
  }
  return "";
}

bool for_facts(const Rule& r, const Facts& facts) {
  return (r.os == facts.os || r.os == "any") && !(facts.text_only && !dump_only_condition(r.when).empty());
}

}  // namespace

std::vector<std::string> not_evaluated(const std::vector<Rule>& rules, const Facts& facts,
                                       const std::vector<Verdict>& matched) {
  std::vector<std::string> out;
  for (const Rule& r : rules) {
    if ((r.os != facts.os && r.os != "any") ||
        std::any_of(matched.begin(), matched.end(), [&](const Verdict& v) { return v.rule == &r; })) {
      continue;
    }
    if (facts.text_only) {
      if (std::string what = dump_only_condition(r.when); !what.empty()) {
        out.push_back("rule " + r.id + " needs a dump: it reads " + what + ", which a log does not hold");
      }
      continue;
    }
    if (facts.no_frame_variables.empty()) continue;
    if (const Condition* c = frame_variable_condition(r.when)) {
      out.push_back("rule " + r.id + " could not be evaluated: it reads " + c->variable + " in the frame of " +
                    c->frame_text + ", and " + facts.no_frame_variables);
    }
  }
  return out;
}

std::vector<Verdict> evaluate(const std::vector<Rule>& rules, const Facts& facts) {
  std::vector<Verdict> out;
  for (const Rule& r : rules) {
    if (!for_facts(r, facts)) continue;
    Verdict v{&r, {}};
    if (Evaluator(facts).holds(r.when, v.evidence)) out.push_back(std::move(v));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Verdict& a, const Verdict& b) { return a.rule->confidence > b.rule->confidence; });
  return out;
}

}  // namespace coroner::rules
