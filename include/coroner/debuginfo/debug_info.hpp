#pragma once
// The kernel's debug info as one object: the name index, libdwarf for DIE details, and the types
// built from them on demand (memoised by DIE, declarations resolved to their definitions). Or, for
// a kernel without DWARF, the same types built from its BTF: then a type's DieRef holds its BTF id,
// and what only DWARF has (lines, call frames, frame variables, most variables) is absent.
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "coroner/debuginfo/btf_types.hpp"
#include "coroner/debuginfo/call_frames.hpp"
#include "coroner/debuginfo/dwarf_dies.hpp"
#include "coroner/debuginfo/dwarf_index.hpp"
#include "coroner/debuginfo/dwarf_sections.hpp"
#include "coroner/debuginfo/line_table.hpp"
#include "coroner/debuginfo/types.hpp"
#include "coroner/result.hpp"

namespace coroner {

struct Variable {
  std::string name;
  const Type* type = nullptr;
  DieRef die;
  std::optional<uint64_t> static_address;  // DW_OP_addr as the file says (relocated for a module)
};

// A parameter or local that lives in one stack slot of its function's frame (DW_OP_fbreg).
struct FrameVariable {
  std::string name;
  const Type* type = nullptr;
  bool parameter = false;
  int64_t base_offset = 0;  // from the frame base
};

struct FrameLayout {
  FrameBase base;
  std::optional<uint64_t> entry;  // DW_AT_low_pc, link-time
  std::vector<FrameVariable> variables;  // in declaration order; those kept in registers are left out
};

struct EnumeratorHit {
  const Type* type = nullptr;
  Enumerator enumerator;
};

class DebugInfo {
 public:
  // `threads` for indexing; 0 means one per core.
  // A module's .ko is relocated with its sections placed as `placement` says. The name index is
  // read from `cache` when it holds the file's, else built and stored there.
  static Result<std::unique_ptr<DebugInfo>> open(const std::string& path, unsigned threads = 0,
                                                 const SectionPlacement& placement = {},
                                                 const IndexCache& cache = IndexCache({}));
  // The same over sections already opened (DwarfSections::in_memory's).
  static Result<std::unique_ptr<DebugInfo>> from_sections(std::unique_ptr<DwarfSections> sections,
                                                          unsigned threads = 0,
                                                          const IndexCache& cache = IndexCache({}));
  // Types from BTF; `description` names where it was read ("the kernel's BTF in the dump").
  // `base`: the kernel's, for a module's split BTF, whose ids below its own are the kernel's types.
  static std::unique_ptr<DebugInfo> from_btf(std::unique_ptr<BtfTypes> btf, std::string description,
                                             DebugInfo* base = nullptr);

  // Debug info searched when this one lacks a name or only declares it (the loaded modules'): their
  // types, variables and enumerators become reachable through this one. Not owned.
  void add_fallback(DebugInfo* other) { fallbacks_.push_back(other); }
  // Forgets `other` and the pointer and array types made here over its types, before it goes.
  void remove_fallback(const DebugInfo* other);
  // DWARF only: its sections (null for BTF).
  const DwarfSections* sections() const { return sections_.get(); }
  // DWARF only: its DIE reader (null for BTF).
  const DieReader* dies() const { return dies_.get(); }
  // The file read, or for BTF where it came from.
  const std::string& path() const { return path_; }
  const BtfTypes* btf() const { return btf_.get(); }
  // Whether the debug info names something of this kind.
  bool has_name(NameKind kind, std::string_view name) const;
  // What indexing met and skipped (a malformed unit).
  const std::vector<std::string>& problems() const { return index_.problems(); }

  // A type by its C spelling: "struct dentry", "union {...}" is not one; "dentry" (tried as struct,
  // union, typedef, base type, enum), "unsigned long", "struct page *", "char [16]", "const u8 *".
  Result<const Type*> find_type(std::string_view spelling);
  Result<Variable> find_variable(std::string_view name);
  std::optional<EnumeratorHit> find_enumerator(std::string_view name);
  // A function's stack-slot parameters and locals (lexical blocks' too), found by its name; an
  // error when it has no frame base this code understands.
  Result<FrameLayout> frame_layout(std::string_view function);
  Result<const Type*> type_at(uint64_t die);

  // A struct's or union's members (loaded on first use); empty for other kinds.
  const std::vector<Member>& members(const Type* t);
  // A member by name, looking inside anonymous structs and unions; its offsets are from the start
  // of `t`.
  std::optional<Member> find_member(const Type* t, std::string_view name);
  // A dotted path of members ("se.group_node", "mem[4].base"): the last member (or array element),
  // its offsets from the start of `t`.
  Result<Member> find_member_path(const Type* t, std::string_view path);
  // The innermost member covering `offset` of `t`, with its dotted path ("work.work.entry");
  // nullopt when no member covers it.
  struct MemberAt {
    std::string path;
    const Type* type = nullptr;
  };
  std::optional<MemberAt> member_at(const Type* t, uint64_t offset);
  const Type* pointer_to(const Type* t);
  const Type* array_of(const Type* element, uint64_t count);
  // A base type by C name ("unsigned long", "int", "char"), or a stand-in of the right size.
  const Type* base_type(std::string_view c_name);
  // "kernel/sched/core.c:6524" for a link-time code address; empty when unknown.
  std::string source_line(uint64_t link_address);
  // The .debug_frame rule at a link-time code address.
  std::optional<CallFrameRule> call_frame_rule(uint64_t link_address);

 private:
  DebugInfo() = default;
  Result<const Type*> build(uint64_t die, int depth);
  Result<const Type*> build_from(const DieFacts& f, int depth);  // (type_builder.cpp)
  Result<const Type*> build_wrapper(const DieFacts& f, int depth);
  Result<const Type*> build_aggregate(const DieFacts& f, int depth);
  Result<const Type*> build_enumeration(const DieFacts& f, int depth);
  Result<const Type*> build_array(const DieFacts& f, int depth);
  Result<const Type*> build_function(const DieFacts& f, int depth);
  Result<const Type*> referenced(const std::optional<uint64_t>& die, int depth);
  Result<const Type*> parse_spelling(std::string_view spelling);
  std::optional<Member> find_anonymous_member(const Type* t, std::string_view name, int depth, size_t& budget);
  const Type* find_named(NameKind kind, std::string_view name);
  const Type* find_own(NameKind kind, std::string_view name);
  Result<Variable> find_own_variable(std::string_view name);
  Type& make(TypeKind kind, uint64_t die);
  // BTF (btf_builder.cpp).
  Result<const Type*> build_btf(uint32_t id, int depth);
  Result<const Type*> build_btf_type(uint32_t id, const btf_type* b, int depth);
  Result<const Type*> build_btf_aggregate(uint32_t id, const btf_type* b, int depth);
  void load_btf_members(const Type* t);
  Result<Variable> find_btf_variable(std::string_view name);

  std::string path_;
  std::unique_ptr<BtfTypes> btf_;
  DebugInfo* btf_base_ = nullptr;  // a split BTF's base: its ids below first_own() are built there
  std::unique_ptr<DwarfSections> sections_;
  DwarfIndex index_;
  std::unique_ptr<DieReader> dies_;
  std::unique_ptr<LibdwarfSession> libdwarf_;  // lines and call frames
  std::unique_ptr<LineTables> lines_;
  std::unique_ptr<CallFrames> frames_;
  std::deque<Type> types_;
  std::unordered_map<uint64_t, const Type*> by_die_;
  std::map<const Type*, const Type*> pointers_;
  std::map<std::pair<const Type*, uint64_t>, const Type*> arrays_;
  std::map<std::string, const Type*, std::less<>> synthetic_bases_;
  Type void_;
  std::vector<Member> no_members_;
  std::vector<DebugInfo*> fallbacks_;
};

}  // namespace coroner
