#pragma once
// Rules: data that recognises a known crash signature from the facts coroner gathered (panic and
// log text, the crashing stack, other threads, the fault, the objects found). Nothing in a rule is
// executed: a rule is a tree of conditions, each a regex or a comparison, read from YAML or JSON.
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "coroner/address_kind.hpp"
#include "coroner/result.hpp"

namespace coroner::rules {

// A test on one field of an object, as written in a rule: "d_hash.pprev != 0", "ht_valid_cnt < 0",
// "flags & 0x8 == 0", "d_iname holds POISON_INUSE", "lock holds poison".
struct FieldTest {
  enum class Op { eq, ne, lt, le, gt, ge, holds };
  std::string text;  // as written, for evidence
  std::string path;  // a member path: "d_hash.pprev", "d_lockref.lock.rlock.magic", "a[2]"
  Op op = Op::eq;
  std::optional<uint64_t> mask;  // "FIELD & MASK op VALUE"
  uint64_t value = 0;            // as bits; `negative` when written with a minus sign
  bool negative = false;
  std::string pattern;           // holds: a poison pattern's name, or "poison" for any
};

// Where an object the evidence led to lives; panic_message: an address the panic string names.
// frame: in one of the crashing thread's frames (with `frame:`): the pointer a variable of that
// function holds (`variable:`, typed by the debug info), or any word of the frame read `as:` a type.
enum class ObjectPlace { any, slab, stack, dead_stack_frame, panic_message, frame };

struct Condition {
  enum class Kind { all, any, none, panic, log, stack, thread, fault, object };
  Kind kind = Kind::all;
  std::vector<Condition> children;            // all / any / none
  std::string text;                           // the regex as written
  std::regex regex;                           // panic / log
  std::vector<std::string> function_texts;    // stack / thread: an ordered subsequence
  std::vector<std::regex> functions;
  bool other_process = false;                 // thread: in another process than the crashing one
  bool same_object = false;                   // thread: holds an object the rule's `object` matched
  std::string states;                         // thread: one of these ps letters ("D", "DS"); empty: any
  std::optional<AddressKind> address_kind;    // fault; empty: any
  std::string poison_pattern;                 // fault
  std::optional<bool> freed;                  // object
  int pointers = 0;                           // object: reached through at most this many pointers
  std::optional<bool> operand;                // object: what the fault or the failed check touched
  std::optional<bool> reallocated;            // object: freed and allocated again by other threads
  std::optional<double> reallocated_within;   // object: both within this many seconds of the crash
  std::string type_text, cache_text;          // object: regexes on its type and its cache
  std::string as_type;                        // object: read an untyped object as this C type
  std::string frame_text;                     // object, place frame: the function whose frame holds it
  std::string variable;                       // object, place frame: its parameter or local, by name
  std::optional<std::regex> frame;
  std::optional<std::regex> type, cache;
  ObjectPlace place = ObjectPlace::any;
  std::vector<FieldTest> fields;
  int line = 0, column = 0;                   // where it was written
};

struct Rule {
  std::string id, title, os = "linux", severity = "medium", explanation, fix, file;
  double confidence = 0.5;
  std::vector<std::string> references;
  Condition when;
};

// Every rule in a YAML or JSON text; errors name `name`:line:column and what is wrong.
// A field test as written ("d_hash.pprev != 0"); the error says what is expected.
Result<FieldTest> parse_field_test(const std::string& text);

Result<std::vector<Rule>> parse_rules(std::string_view text, const std::string& name);
Result<std::vector<Rule>> load_rule_file(const std::string& path);
// Every *.yaml, *.yml and *.json file in a directory, in name order.
Result<std::vector<Rule>> load_rule_directory(const std::string& dir);
// The rules shipped in rules/ (built into the binary).
const std::vector<Rule>& shipped_rules();

}  // namespace coroner::rules
