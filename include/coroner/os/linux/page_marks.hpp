#pragma once
// How a kernel marks what a page is used for, as its own debug info says: bits of the page's flags
// word (enum pageflags: PG_slab, PG_buddy, ...) and the page's type (enum pagetype, in struct
// page's page_type). The slab mark moved over the years from a flag to a type bit that is cleared
// when set, and then to a type byte; which one a kernel uses is decided by the enumerators its
// debug info has, never by its version.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "coroner/target/object.hpp"

namespace coroner::linux_kernel {

class PageMarks {
 public:
  static PageMarks read(TypedMemory& objects);

  // Whether the (head) page at `page` is a slab page; an error naming what the debug info lacks
  // when it says neither way.
  Result<bool> is_slab(const Kernel& kernel, uint64_t page) const;
  // A flag's bit by its name without PG_ ("reserved"); nullopt when enum pageflags lacks it.
  std::optional<uint64_t> flag_bit(std::string_view name) const;
  // The names of the flags set in a page's flags word ("locked", "head", ...).
  std::vector<std::string> flag_names(uint64_t flags) const;
  // The page type a page_type word holds ("slab", "buddy", ...); empty when it holds none (then the
  // word is the page's map count).
  std::vector<std::string> type_names(uint32_t page_type) const;
  // Where struct page keeps page_type; nullopt when it has no such member.
  std::optional<uint64_t> page_type_offset() const { return page_type_offset_; }

 private:
  // How page_type says a type: a bit cleared under PAGE_TYPE_BASE (enum pagetype's PG_* and
  // PAGE_TYPE_BASE), or the top byte (enum pagetype's PGTY_*).
  enum class TypeScheme { none, cleared_bit, top_byte };
  struct Named {
    std::string name;
    uint64_t value;
  };
  bool has_type(uint32_t page_type, uint64_t value) const;

  TypeScheme types_scheme_ = TypeScheme::none;
  uint64_t type_base_ = 0;
  std::optional<uint64_t> slab_flag_, slab_type_;  // PG_slab in enum pageflags; the slab page type
  std::optional<uint64_t> page_type_offset_;
  std::vector<Named> flags_;  // bit number -> name, aliases after the kernel's own name
  uint64_t flag_count_ = 64;
  std::vector<Named> types_;  // the page types enum pagetype names
};

}  // namespace coroner::linux_kernel
