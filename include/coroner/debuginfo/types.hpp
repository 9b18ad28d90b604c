#pragma once
// The C type system of the kernel as DWARF describes it. Types are built from their DIEs on demand
// and owned by DebugInfo (stable addresses); a struct's members are read the first time they are
// asked for, so naming `struct task_struct *` does not build the kernel's whole type graph.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace coroner {

class DebugInfo;

// A debugging information entry: its .debug_info offset in the debug info that holds it (the
// vmlinux's or a module's). One value, so that an offset is never read in the wrong file.
struct DieRef {
  DebugInfo* owner = nullptr;
  uint64_t offset = 0;
};

enum class TypeKind { void_type, base, pointer, typedef_name, qualified, structure, union_type, enumeration, array, function };

enum class BaseEncoding { signed_int, unsigned_int, signed_char, unsigned_char, boolean, floating, other };

struct Type;

struct Member {
  std::string name;  // empty for an anonymous struct or union
  const Type* type = nullptr;
  uint64_t offset = 0;      // bytes from the start of the enclosing struct
  uint32_t bit_size = 0;    // 0 unless a bit field
  uint64_t bit_offset = 0;  // bit fields: bits from the start of the enclosing struct (LSB first)
  bool is_bit_field() const { return bit_size != 0; }
};

struct Enumerator {
  std::string name;
  uint64_t value = 0;  // as bits; `is_signed` says how to read them
  bool is_signed = false;
};

struct Type {
  TypeKind kind = TypeKind::void_type;
  std::string name;          // tag or typedef or base name; empty when anonymous
  uint64_t size = 0;         // bytes; 0 when unknown (incomplete, void, function)
  bool incomplete = false;   // a declaration no unit defines
  BaseEncoding encoding = BaseEncoding::other;
  bool is_const = false, is_volatile = false, is_restrict = false;  // TypeKind::qualified
  const Type* target = nullptr;  // pointee, typedef target, qualified type, element, return type
  std::optional<uint64_t> count;  // arrays: element count; nullopt when flexible ([])
  std::vector<Enumerator> enumerators;
  std::vector<const Type*> parameters;  // functions
  bool variadic = false, prototyped = false;
  DieRef die;

  // Filled on first use by DebugInfo::members().
  mutable bool members_loaded = false;
  mutable std::vector<Member> members;
};

// Through typedefs and qualifiers to the type that decides representation.
const Type* strip_typedefs(const Type* t);
// The size of what `t` names, through typedefs and qualifiers; 0 for none (void, or no type).
uint64_t size_of(const Type* t);
bool is_integer_like(const Type* t);  // base (non-float), enum, pointer, bool
bool is_signed(const Type* t);
bool is_char(const Type* t);          // char, signed char, unsigned char (through typedefs)

// C spellings: "struct list_head *", "unsigned long", and declarations with a name in the middle:
// "void (*func)(struct callback_head *)", "unsigned char d_iname[32]". Base types are normalised
// as gdb and crash print them ("long unsigned int" -> "unsigned long").
std::string type_name(const Type* t);
std::string declaration(const Type* t, const std::string& name);
std::string normalised_base_name(const std::string& dwarf_name);

}  // namespace coroner
