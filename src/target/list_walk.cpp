#include "coroner/target/list_walk.hpp"

#include <unordered_set>

#include "coroner/format.hpp"

namespace coroner {

const char* list_end_name(ListEnd e) {
  switch (e) {
    case ListEnd::back_at_start: return "back at the start";
    case ListEnd::null_pointer: return "NULL";
    case ListEnd::cycle: return "cycle";
    case ListEnd::unreadable: return "unreadable";
    case ListEnd::limit: return "limit";
  }
  return "?";
}

namespace {

enum class LinkKind { list_head, hlist, pointer };

// A circular list whose forward chain broke at an unreadable entry (a page the dump left out)
// still has its back chain: the entries past the break are reached from the head through prev
// pointers, up to the break, and appended in list order.
template <typename ToContainer>
void walk_back_from_head(const Kernel& kernel, uint64_t head_link, const ToContainer& to_container,
                         std::unordered_set<uint64_t>& seen, size_t limit, WalkedList& walk) {
  std::vector<uint64_t> tail;
  uint64_t link = head_link;
  for (;;) {
    auto prev = kernel.read_u64(link + 8);  // list_head.prev
    if (!prev || *prev == 0 || !seen.insert(*prev).second || walk.entries.size() + tail.size() >= limit) break;
    link = *prev;
    tail.push_back(to_container(link));
  }
  if (tail.empty()) return;
  walk.entries.insert(walk.entries.end(), tail.rbegin(), tail.rend());
  walk.detail += "; " + std::to_string(tail.size()) + (tail.size() == 1 ? " entry" : " entries") +
                 " past it reached backwards from the head";
}

}  // namespace

Result<WalkedList> walk_list(TypedMemory& objects, const ListRequest& request) {
  DebugInfo& debug = objects.debug();
  auto path = debug.find_member_path(request.container, request.member);
  if (!path) return path.error();
  const uint64_t offset = path->offset;
  const Type* member_type = path->type;
  const Type* link_type = strip_typedefs(member_type);
  LinkKind kind;
  if (link_type->kind == TypeKind::structure && link_type->name == "list_head") {
    kind = LinkKind::list_head;
  } else if (link_type->kind == TypeKind::structure && (link_type->name == "hlist_node" || link_type->name == "hlist_bl_node" ||
                                                         link_type->name == "llist_node")) {
    kind = LinkKind::hlist;
  } else if (link_type->kind == TypeKind::pointer) {
    kind = LinkKind::pointer;
  } else {
    return make_error("member '" + request.member + "' is a " + type_name(member_type) +
                      "; a list needs a list_head, hlist_node, llist_node or a pointer member");
  }
  const Kernel& kernel = objects.kernel();
  WalkedList walk;
  // Links are addresses of the member inside each container (or the container itself, for pointer chains).
  auto to_container = [&](uint64_t link) { return kind == LinkKind::pointer ? link : link - offset; };
  auto next_of = [&](uint64_t link) -> Result<uint64_t> {
    return kernel.read_u64(kind == LinkKind::pointer ? link + offset : link);  // next is the first word of a list_head/hlist_node
  };
  uint64_t head_link = 0;
  uint64_t link = 0;
  if (request.start_is_head) {
    head_link = request.start;
    auto first = kernel.read_u64(request.start);  // list_head.next, hlist_head.first
    if (!first) {
      walk.end = ListEnd::unreadable;
      walk.detail = "the head at " + hex(request.start) + ": " + first.error().message;
      return walk;
    }
    link = *first;
  } else {
    head_link = kind == LinkKind::pointer ? request.start : request.start + offset;
    link = head_link;
    walk.entries.push_back(request.start);
    auto next = next_of(link);
    if (!next) {
      walk.end = ListEnd::unreadable;
      walk.detail = "the next pointer of " + hex(request.start) + ": " + next.error().message;
      return walk;
    }
    link = *next;
  }
  std::unordered_set<uint64_t> seen{head_link};
  for (;;) {
    if (link == 0) {
      walk.end = kind == LinkKind::list_head ? ListEnd::unreadable : ListEnd::null_pointer;
      if (kind == LinkKind::list_head) walk.detail = "a NULL next pointer in a circular list";
      return walk;
    }
    if (link == head_link) {
      walk.end = ListEnd::back_at_start;
      return walk;
    }
    if (!seen.insert(link).second) {
      walk.end = ListEnd::cycle;
      walk.detail = "entry " + hex(to_container(link)) + " comes round again without passing the start";
      return walk;
    }
    if (walk.entries.size() >= request.limit) {
      walk.end = ListEnd::limit;
      walk.detail = "stopped after " + std::to_string(request.limit) + " entries";
      return walk;
    }
    walk.entries.push_back(to_container(link));
    auto next = next_of(link);
    if (!next) {
      walk.end = ListEnd::unreadable;
      walk.detail = "the next pointer of " + hex(to_container(link)) + ": " + next.error().message;
      if (kind == LinkKind::list_head) walk_back_from_head(kernel, head_link, to_container, seen, request.limit, walk);
      return walk;
    }
    link = *next;
  }
}

std::optional<std::string> incomplete_walk(const WalkedList& walk, std::string_view what) {
  if (walk.end == ListEnd::back_at_start) return std::nullopt;
  return std::string(what) + " ends " + list_end_name(walk.end) + (walk.detail.empty() ? "" : " " + walk.detail);
}

}  // namespace coroner
