#include "coroner/rules/rule.hpp"

#include <yaml-cpp/yaml.h>

#include "../embedded_files.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace coroner::rules {

extern const EmbeddedFile kShippedRuleFiles[];
extern const size_t kShippedRuleFiles_COUNT;

namespace {

class Reader {
 public:
  explicit Reader(std::string name) : name_(std::move(name)) {}

  std::string where(const YAML::Node& n) const {
    const YAML::Mark m = n.Mark();
    return name_ + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
  }

  Result<Rule> rule(const YAML::Node& n) {
    if (!n.IsMap()) return make_error(where(n) + ": a rule is a map with id, title, when, ...");
    static const std::set<std::string> kKeys = {"id", "title", "os", "severity", "confidence", "when",
                                                "explanation", "fix", "references"};
    for (const auto& kv : n) {
      if (!kKeys.contains(kv.first.Scalar())) {
        return make_error(where(kv.first) + ": unknown rule key `" + kv.first.Scalar() +
                          "` (expected id, title, os, severity, confidence, when, explanation, fix, references)");
      }
    }
    Rule r;
    r.file = name_;
    for (auto [key, out] : {std::pair{"id", &r.id}, std::pair{"title", &r.title}, std::pair{"os", &r.os},
                            std::pair{"severity", &r.severity}, std::pair{"explanation", &r.explanation},
                            std::pair{"fix", &r.fix}}) {
      if (n[key] && !n[key].IsScalar()) return make_error(where(n[key]) + ": `" + key + "` must be text");
      if (n[key]) *out = n[key].Scalar();
    }
    if (r.id.empty() || r.title.empty()) return make_error(where(n) + ": a rule needs an `id` and a `title`");
    if (n["confidence"]) {
      try {
        r.confidence = n["confidence"].as<double>();
      } catch (const YAML::Exception&) {
        return make_error(where(n["confidence"]) + ": confidence must be a number from 0 to 1");
      }
      if (r.confidence < 0 || r.confidence > 1) return make_error(where(n["confidence"]) + ": confidence must be from 0 to 1");
    }
    if (n["references"]) {
      if (!n["references"].IsSequence()) return make_error(where(n["references"]) + ": references is a list");
      for (const auto& ref : n["references"]) r.references.push_back(ref.Scalar());
    }
    if (!n["when"]) return make_error(where(n) + ": rule " + r.id + " has no `when` condition");
    auto c = condition(n["when"]);
    if (!c) return c.error();
    r.when = std::move(*c);
    return r;
  }

  Result<Condition> condition(const YAML::Node& n) {
    Condition c;
    c.line = n.Mark().line + 1;
    c.column = n.Mark().column + 1;
    if (n.IsSequence()) {  // a list is `all`
      c.kind = Condition::Kind::all;
      return children(n, c);
    }
    if (!n.IsMap() || n.size() != 1) {
      return make_error(where(n) + ": a condition is one key: all, any, none, panic, log, stack, thread, fault, object");
    }
    const std::string key = n.begin()->first.Scalar();
    const YAML::Node v = n.begin()->second;
    if (key == "all" || key == "any" || key == "none") {
      c.kind = key == "all" ? Condition::Kind::all : key == "any" ? Condition::Kind::any : Condition::Kind::none;
      if (!v.IsSequence()) return make_error(where(v) + ": `" + key + "` takes a list of conditions");
      return children(v, c);
    }
    if (key == "panic" || key == "log") {
      c.kind = key == "panic" ? Condition::Kind::panic : Condition::Kind::log;
      auto re = regex(v, c.text);
      if (!re) return re.error();
      c.regex = std::move(*re);
      return c;
    }
    if (key == "stack") {
      c.kind = Condition::Kind::stack;
      auto st = functions(v, c);
      if (!st) return st.error();
      return c;
    }
    if (key == "thread") {
      c.kind = Condition::Kind::thread;
      if (!v.IsMap()) return make_error(where(v) + ": `thread` takes {stack: [...], state: D, other_process: true|false, same_object: true|false}");
      for (const auto& kv : v) {
        const std::string k = kv.first.Scalar();
        if (k == "stack") {
          auto st = functions(kv.second, c);
          if (!st) return st.error();
        } else if (k == "state") {
          static const std::regex kStates("[RSDTtXZPI]+");
          if (!kv.second.IsScalar() || !std::regex_match(kv.second.Scalar(), kStates)) {
            return make_error(where(kv.second) + ": `state` is one or more of ps's letters R S D T t X Z P I");
          }
          c.states = kv.second.Scalar();
        } else if (k == "other_process" || k == "same_object") {
          auto b = boolean(kv.second);
          if (!b) return b.error();
          (k == "other_process" ? c.other_process : c.same_object) = *b;
        } else {
          return make_error(where(kv.first) + ": unknown `thread` key `" + k + "` (expected stack, state, other_process, same_object)");
        }
      }
      if (c.functions.empty()) return make_error(where(v) + ": `thread` needs a `stack`");
      return c;
    }
    if (key == "fault") {
      c.kind = Condition::Kind::fault;
      if (!v.IsMap()) return make_error(where(v) + ": `fault` takes {address: null|poison|user|non-canonical|slab object, pattern: NAME}");
      for (const auto& kv : v) {
        const std::string k = kv.first.Scalar();
        if (k == "address") {
          const std::string kind = kv.second.Scalar();
          if (kind == "any") continue;
          c.address_kind = parse_address_kind(kind);
          if (!c.address_kind) {
            return make_error(where(kv.second) + ": unknown address kind `" + kind + "` (any, " + address_kind_names() + ")");
          }
        } else if (k == "pattern") {
          c.poison_pattern = kv.second.Scalar();
        } else {
          return make_error(where(kv.first) + ": unknown `fault` key `" + k + "` (expected address, pattern)");
        }
      }
      return c;
    }
    if (key == "object") {
      c.kind = Condition::Kind::object;
      auto o = object(v, c);
      if (!o) return o.error();
      if (c.place == ObjectPlace::frame && (!c.frame || (c.as_type.empty() && c.variable.empty()))) {
        return make_error(where(v) + ": `place: frame` needs `frame: FUNCTION` and `variable: NAME` (its parameter or "
                                     "local, typed by the debug info) or `as: TYPE` (any word of the frame, read as TYPE)");
      }
      if (!c.variable.empty() && c.place != ObjectPlace::frame) {
        return make_error(where(v) + ": `variable` names a function's parameter or local: it needs `place: frame`");
      }
      return c;
    }
    return make_error(where(n.begin()->first) + ": unknown condition `" + key +
                      "` (expected all, any, none, panic, log, stack, thread, fault, object)");
  }

 private:
  static constexpr const char* kObjectKeys =
      "freed, type, cache, place, frame, variable, as, fields, pointers, operand, reallocated, reallocated_within";

  Status object(const YAML::Node& v, Condition& c) {
    if (!v.IsMap() || v.size() == 0) return make_error(where(v) + ": `object` takes {" + kObjectKeys + "}");
    for (const auto& kv : v) {
      const std::string k = kv.first.Scalar();
      const YAML::Node& value = kv.second;
      if (k == "freed") {
        auto b = boolean(value);
        if (!b) return b.error();
        c.freed = *b;
      } else if (k == "reallocated" || k == "operand") {
        auto b = boolean(value);
        if (!b) return b.error();
        (k == "operand" ? c.operand : c.reallocated) = *b;
      } else if (k == "pointers" || k == "reallocated_within") {
        auto n = number(value, k == "pointers" ? 8 : 86400);
        if (!n) return n.error();
        if (k == "pointers") c.pointers = static_cast<int>(*n); else c.reallocated_within = *n;
      } else if (k == "type" || k == "cache") {
        auto re = regex(value, k == "type" ? c.type_text : c.cache_text);
        if (!re) return re.error();
        (k == "type" ? c.type : c.cache) = std::move(*re);
      } else if (k == "place") {
        static const std::map<std::string, ObjectPlace> kPlaces = {
            {"slab", ObjectPlace::slab}, {"stack", ObjectPlace::stack}, {"dead-stack-frame", ObjectPlace::dead_stack_frame},
            {"panic-message", ObjectPlace::panic_message}, {"frame", ObjectPlace::frame}};
        auto it = kPlaces.find(value.Scalar());
        if (!value.IsScalar() || it == kPlaces.end()) {
          return make_error(where(value) + ": `place` is slab, stack, dead-stack-frame, panic-message or frame");
        }
        c.place = it->second;
      } else if (k == "frame") {
        auto re = regex(value, c.frame_text);
        if (!re) return re.error();
        c.frame = std::move(*re);
      } else if (k == "variable") {
        if (!value.IsScalar() || value.Scalar().empty()) return make_error(where(value) + ": `variable` is a name: lwb");
        c.variable = value.Scalar();
      } else if (k == "as") {
        if (!value.IsScalar() || value.Scalar().empty()) return make_error(where(value) + ": `as` is a C type: \"struct vm_object\"");
        c.as_type = value.Scalar();
      } else if (k == "fields") {
        if (!value.IsSequence() || value.size() == 0) {
          return make_error(where(value) + ": `fields` is a list of tests such as \"d_hash.pprev != 0\"");
        }
        for (const auto& item : value) {
          auto t = item.IsScalar() ? parse_field_test(item.Scalar()) : Result<FieldTest>(make_error("expected text"));
          if (!t) return make_error(where(item) + ": " + t.error().message);
          c.fields.push_back(std::move(*t));
        }
      } else {
        return make_error(where(kv.first) + ": unknown `object` key `" + k + "` (expected " + kObjectKeys + ")");
      }
    }
    return ok_status();
  }

  Result<Condition> children(const YAML::Node& list, Condition& c) {
    for (const auto& item : list) {
      auto child = condition(item);
      if (!child) return child.error();
      c.children.push_back(std::move(*child));
    }
    if (c.children.empty()) return make_error(where(list) + ": an empty list of conditions");
    return c;
  }

  // A number from 0 to `max` (pointers: 2, reallocated_within: 30).
  Result<double> number(const YAML::Node& v, double max) {
    double n = -1;
    if (v.IsScalar()) {
      try {
        size_t used = 0;
        n = std::stod(v.Scalar(), &used);
        if (used != v.Scalar().size()) n = -1;
      } catch (const std::exception&) {
        n = -1;
      }
    }
    if (!(n >= 0 && n <= max)) return make_error(where(v) + ": expected a number from 0 to " + std::to_string(static_cast<int>(max)));
    return n;
  }

  Result<std::regex> regex(const YAML::Node& v, std::string& text) {
    if (!v.IsScalar()) return make_error(where(v) + ": expected a regular expression");
    text = v.Scalar();
    try {
      return std::regex(text, std::regex::ECMAScript | std::regex::optimize);
    } catch (const std::regex_error& e) {
      return make_error(where(v) + ": bad regular expression `" + text + "`: " + e.what());
    }
  }

  Status functions(const YAML::Node& v, Condition& c) {
    if (!v.IsSequence() || v.size() == 0) {
      return make_error(where(v) + ": a stack is a list of function names (regular expressions), innermost first");
    }
    for (const auto& f : v) {
      std::string text;
      auto re = regex(f, text);
      if (!re) return re.error();
      c.function_texts.push_back(text);
      c.functions.push_back(std::move(*re));
    }
    return ok_status();
  }

  Result<bool> boolean(const YAML::Node& v) {
    if (v.IsScalar() && (v.Scalar() == "true" || v.Scalar() == "false")) return v.Scalar() == "true";
    return make_error(where(v) + ": expected true or false");
  }

  std::string name_;
};

std::optional<uint64_t> number(const std::string& text) {
  if (text.empty()) return std::nullopt;
  size_t used = 0;
  try {
    uint64_t v = std::stoull(text, &used, 0);
    if (used == text.size()) return v;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

}  // namespace

Result<FieldTest> parse_field_test(const std::string& text) {
  static const std::string kPath = R"(([A-Za-z_]\w*(?:(?:\.|->)[A-Za-z_]\w*|\[\d+\])*))";
  static const std::regex kCompare("^\\s*" + kPath + R"(\s*(?:&\s*(\w+)\s*)?(==|!=|<=|>=|<|>)\s*(-?)(\w+)\s*$)");
  static const std::regex kHolds("^\\s*" + kPath + R"(\s+holds\s+([A-Za-z_]\w*)\s*$)");
  const std::string expected =
      "a field test is `PATH OP NUMBER`, `PATH & MASK OP NUMBER` (OP: == != < <= > >=) or `PATH holds PATTERN`, not `" +
      text + "`";
  FieldTest t;
  t.text = text;
  std::smatch m;
  if (std::regex_match(text, m, kHolds)) {
    t.path = m[1];
    t.op = FieldTest::Op::holds;
    t.pattern = m[2];
    return t;
  }
  if (!std::regex_match(text, m, kCompare)) return make_error(expected);
  t.path = m[1];
  if (m[2].matched) {
    t.mask = number(m[2]);
    if (!t.mask) return make_error("the mask `" + m[2].str() + "` is not a number: " + expected);
  }
  static const std::map<std::string, FieldTest::Op> kOps = {{"==", FieldTest::Op::eq}, {"!=", FieldTest::Op::ne},
                                                             {"<", FieldTest::Op::lt},  {"<=", FieldTest::Op::le},
                                                             {">", FieldTest::Op::gt},  {">=", FieldTest::Op::ge}};
  t.op = kOps.at(m[3]);
  auto value = number(m[5]);
  if (!value) return make_error("`" + m[5].str() + "` is not a number: " + expected);
  t.negative = m[4].length() > 0;
  t.value = t.negative ? (~*value + 1) : *value;
  return t;
}

Result<std::vector<Rule>> parse_rules(std::string_view text, const std::string& name) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return make_error(name + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  Reader reader(name);
  const YAML::Node list = root.IsMap() ? root["rules"] : YAML::Node();
  if (!list || !list.IsSequence()) return make_error(name + ": expected a top-level `rules:` list");
  std::vector<Rule> out;
  try {
    for (const auto& n : list) {
      auto r = reader.rule(n);
      if (!r) return r.error();
      out.push_back(std::move(*r));
    }
  } catch (const YAML::Exception& e) {
    return make_error(name + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  return out;
}

Result<std::vector<Rule>> load_rule_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error(path + ": cannot open the rule file");
  std::stringstream s;
  s << in.rdbuf();
  return parse_rules(s.str(), path);
}

Result<std::vector<Rule>> load_rule_directory(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (std::filesystem::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    auto ext = it->path().extension();
    if (it->is_regular_file() && (ext == ".yaml" || ext == ".yml" || ext == ".json")) files.push_back(it->path().string());
  }
  if (ec) return make_error(dir + ": " + ec.message());
  std::sort(files.begin(), files.end());
  std::vector<Rule> out;
  for (const auto& f : files) {
    auto rules = load_rule_file(f);
    if (!rules) return rules.error();
    out.insert(out.end(), rules->begin(), rules->end());
  }
  return out;
}

const std::vector<Rule>& shipped_rules() {
  static const std::vector<Rule> rules = [] {
    std::vector<Rule> out;
    for (size_t i = 0; i < kShippedRuleFiles_COUNT; ++i) {
      auto r = parse_rules(kShippedRuleFiles[i].text, std::string("rules/") + kShippedRuleFiles[i].name);
      if (r) out.insert(out.end(), r->begin(), r->end());
    }
    return out;
  }();
  return rules;
}

}  // namespace coroner::rules
