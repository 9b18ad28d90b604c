#pragma once
// Rules evaluated against the facts of one crash: which match, each with the evidence (thread,
// frame, address, value) that made it match, most confident first.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "coroner/rules/rule.hpp"

namespace coroner::rules {

struct ThreadFacts {
  int pid = 0, tgid = 0;
  std::string comm;
  std::vector<std::string> functions;  // its backtrace, innermost first (reliable frames)
  char state = '?';                    // R S D T t X Z P I, as ps prints it
};

// One field of an object, read for a FieldTest.
struct FieldValue {
  std::optional<uint64_t> bits;  // integers, enums, pointers (sign-extended when signed)
  bool is_signed = false;
  std::string poison;  // the poison pattern its bytes hold, when they hold one
  std::string text;    // the value as evidence shows it
};
// Reads a member path of the object; nullopt when the type has no such member or it is unreadable.
using FieldReader = std::function<std::optional<FieldValue>(const std::string& path)>;

// A thread that holds a pointer into an object (or on whose stack the object lives).
struct ObjectHolder {
  size_t thread = 0;  // index into Facts::threads
  std::string where;  // "stack slot 0x... in frame #2 pipe_read", "register rdi", "its own stack"
};

// A slab object that was freed and handed out again (SLUB's free track from its old life, its
// alloc track from the new one).
struct Reallocation {
  int free_pid = 0, alloc_pid = 0;
  std::string free_function, alloc_function;  // the callers of the allocator, as the tracks say
  std::optional<double> free_age, alloc_age;  // seconds before the crash, when jiffies and HZ are known
};

// "freed by pid 107 in coroner_reaper 0.04 s before the crash, allocated again by pid 108 in ..."
std::string reallocation_text(const Reallocation& r);

struct ObjectFacts {
  uint64_t address = 0;
  std::string cache, found_as;  // found_as: "the faulting operand's base", "loaded by `mov 0x38(%rax), %rax`"
  std::string type;             // its C type, "struct dentry" or "htable_t", when known
  bool free = false;
  ObjectPlace place = ObjectPlace::slab;  // slab or stack
  bool dead_frame = false;                // on a stack, below its thread's stack pointer
  int pointers = 0;                       // pointers followed from what the crashing thread used to it
  bool operand = false;                   // what the faulting access or the failed check touched, or
                                          // an object the faulting pointer was loaded from
  std::optional<Reallocation> reallocation;
  std::vector<ObjectHolder> holders;
  FieldReader field;  // empty when the object's type is unknown
  // For an untyped object (an address the panic message names): its fields read as a C type the
  // rule names (`as:`), as an engineer casts it in a debugger. Empty when it cannot be read.
  std::function<FieldReader(const std::string& type)> as_type;
};

struct FaultFacts {
  AddressKind address_kind = AddressKind::unknown;
  std::string pattern;  // the poison pattern's name, for AddressKind::poison
  std::string instruction, member;
  std::optional<uint64_t> address;
};

// One frame of the crashing thread, with the words its stack range holds: what a rule reads with
// `object: {place: frame, frame: FUNCTION, as: TYPE}`, as an engineer does `p *lwb` in that frame.
struct FrameWords {
  int level = 0;
  std::string function;
  std::vector<std::pair<uint64_t, uint64_t>> words;  // stack address, value (kernel addresses only)
  // Its pointer parameters and locals, where the debug info puts them: `object: {place: frame,
  // variable: lwb}` reads the one named, as the type it points to.
  struct Variable {
    std::string name, type, pointee;  // "lwb", "lwb_t *", "lwb_t"
    bool parameter = false;
    uint64_t location = 0, value = 0;
  };
  std::vector<Variable> variables;
};

struct Facts {
  std::string os = "linux";
  std::vector<FrameWords> crashing_frames;
  // Reads the object at an address as a C type; empty when the kernel's memory is not at hand.
  std::function<FieldReader(uint64_t address, const std::string& type)> read_as;
  std::vector<std::string> panic;  // the panic message and the report that caused it
  std::vector<std::string> log;
  std::vector<ThreadFacts> threads;
  int crashing = -1;  // index into threads
  std::optional<FaultFacts> fault;
  std::vector<ObjectFacts> objects;
  // The facts of a console log, not a dump: the crashing thread's call trace is its only thread, and
  // there is no fault, no object and no other thread. Rules that read those are not evaluated.
  bool text_only = false;
  // Why the crashing frames have no variables at all (no DWARF: the types are BTF's); empty when
  // the debug info could give them.
  std::string no_frame_variables;
};

struct Verdict {
  const Rule* rule = nullptr;
  std::vector<std::string> evidence;
};

// Whether `c` holds, appending the evidence for it.
bool holds(const Condition& c, const Facts& facts, std::vector<std::string>& evidence);
// The rules (for the facts' OS) that match, most confident first.
std::vector<Verdict> evaluate(const std::vector<Rule>& rules, const Facts& facts);
// The rules (for the facts' OS) that did not match but could not have: they read what the facts
// lack (a frame variable, without DWARF; a dump's memory, from a log). One sentence each, naming
// the rule and what it needed.
std::vector<std::string> not_evaluated(const std::vector<Rule>& rules, const Facts& facts,
                                       const std::vector<Verdict>& matched);

}  // namespace coroner::rules
