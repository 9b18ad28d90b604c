#pragma once
// Walking the kernel's linked lists from one entry or head to the containing structs:
// list_head (circular), hlist_head/hlist_node (NULL-terminated), and plain `struct T *next`
// chains. Every step is checked: a cycle that does not come back to the start, an unreadable
// link, or the length limit ends the walk and says so. A list_head list broken by an unreadable
// link is walked backwards from its head too, so that only the unreadable entry is lost.
#include <cstdint>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

#include "coroner/target/object.hpp"

namespace coroner {

struct ListRequest {
  const Type* container = nullptr;  // struct task_struct
  std::string member;               // "tasks" (a path: "se.group_node" works too)
  uint64_t start = 0;
  bool start_is_head = false;       // `start` is a list_head/hlist_head that is not an entry
  size_t limit = 100000;
};

enum class ListEnd { back_at_start, null_pointer, cycle, unreadable, limit };
const char* list_end_name(ListEnd e);

struct WalkedList {
  std::vector<uint64_t> entries;  // container addresses, in list order
  ListEnd end = ListEnd::back_at_start;
  std::string detail;             // for cycle/unreadable: where and why
};

Result<WalkedList> walk_list(TypedMemory& objects, const ListRequest& request);

// "WHAT ends <how> <detail>" when the walk did not come back to its start, for a problem list.
std::optional<std::string> incomplete_walk(const WalkedList& walk, std::string_view what);

}  // namespace coroner
