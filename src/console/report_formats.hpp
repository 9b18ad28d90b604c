#pragma once
// The first lines of the kernel's crash reports, as its printk formats print them, and the name
// each gets (docs/crash-titles.md). Internal to console/.
#include <regex>
#include <string_view>
#include <vector>

namespace coroner::console {

enum class Role {
  header,        // starts a report
  preface,       // a message the kernel prints just before a WARNING or BUG, which names it
  continuation,  // belongs to the report just started ("Oops: 0000 [#1]" after "BUG: ..."); alone, a report
  panic,         // "Kernel panic - not syncing: ..."
};

// Where the function a title names is found.
enum class FrameSource {
  location,  // the faulting location (RIP, arm64's pc), then the call trace
  header,    // the function the first line names, then the location and the call trace
  lock_at,   // lockdep's first "at: FUNC" line, then the call trace
  trace,     // the call trace only
  none,      // the title names none
};

// How a report's type is decided.
enum class TypeRule { fixed, kasan, kfence, kmsan, ubsan, address, slab, refcount, panic, spinlock, die };

struct Format {
  std::string_view id;
  std::string_view needle;  // a literal the line starts with (anchored) or contains, tested before the regex
  bool anchored = true;
  std::string_view pattern;
  Role role = Role::header;
  std::string_view title;   // {func}: the guilty frame; {1}, {2}: the pattern's groups; {access}: KASAN's Read/Write
  std::string_view type;    // for TypeRule::fixed, and the default of the others
  TypeRule type_rule = TypeRule::fixed;
  FrameSource frames = FrameSource::location;
  unsigned machinery = 0;   // stack_frames.hpp's Machinery sets besides the common one
  bool fatal = false;       // an oops: the kernel kills the task or panics
  std::string_view category;  // what a panic message names it by: oops, warn, softlockup, hardlockup, hang, rcu, oom
  std::string_view alt;     // an alternative title, same placeholders
};

struct CompiledFormat {
  const Format* format;
  std::regex regex;
};

const std::vector<CompiledFormat>& report_formats();

}  // namespace coroner::console
