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

Result<LinkKind> link_kind(const Type* member_type, const std::string& member) {
  const Type* t = strip_typedefs(member_type);
  if (t->kind == TypeKind::structure && t->name == "list_head") return LinkKind::list_head;
  if (t->kind == TypeKind::structure && (t->name == "hlist_node" || t->name == "hlist_bl_node" || t->name == "llist_node")) {
    return LinkKind::hlist;
  }
  if (t->kind == TypeKind::pointer) return LinkKind::pointer;
  return make_error("member '" + member + "' is a " + type_name(member_type) +
                    "; a list needs a list_head, hlist_node, llist_node or a pointer member");
}

// Links are addresses of the member inside each container (or the container itself, for pointer
// chains); next is the first word of a list_head/hlist_node.
struct Links {
  const Kernel& kernel;
  LinkKind kind;
  uint64_t offset;  // of the member in its container
  uint64_t container(uint64_t link) const { return kind == LinkKind::pointer ? link : link - offset; }
  uint64_t of_container(uint64_t c) const { return kind == LinkKind::pointer ? c : c + offset; }
  Result<uint64_t> next(uint64_t link) const { return kernel.read_u64(kind == LinkKind::pointer ? link + offset : link); }
};

// A circular list whose forward chain broke at an unreadable entry (a page the dump left out)
// still has its back chain: the entries past the break are reached from the head through prev
// pointers, up to the break, and appended in list order.
void walk_back_from_head(const Links& links, uint64_t head_link, std::unordered_set<uint64_t>& seen, size_t limit,
                         WalkedList& walk) {
  std::vector<uint64_t> tail;
  uint64_t link = head_link;
  for (;;) {
    auto prev = links.kernel.read_u64(link + 8);  // list_head.prev
    if (!prev || *prev == 0 || !seen.insert(*prev).second || walk.entries.size() + tail.size() >= limit) break;
    link = *prev;
    tail.push_back(links.container(link));
  }
  if (tail.empty()) return;
  walk.entries.insert(walk.entries.end(), tail.rbegin(), tail.rend());
  walk.detail += "; " + std::to_string(tail.size()) + (tail.size() == 1 ? " entry" : " entries") +
                 " past it reached backwards from the head";
}

WalkedList stop(WalkedList walk, ListEnd end, std::string detail = "") {
  walk.end = end;
  walk.detail = std::move(detail);
  return walk;
}

// From the link after the start to the end: back at the head, NULL, a cycle, the limit, or an
// unreadable next pointer.
WalkedList follow(const Links& links, uint64_t head_link, uint64_t link, size_t limit, WalkedList walk) {
  std::unordered_set<uint64_t> seen{head_link};
  for (;;) {
    if (link == 0) {
      if (links.kind == LinkKind::list_head) return stop(std::move(walk), ListEnd::unreadable, "a NULL next pointer in a circular list");
      return stop(std::move(walk), ListEnd::null_pointer);
    }
    if (link == head_link) return stop(std::move(walk), ListEnd::back_at_start);
    if (!seen.insert(link).second) {
      return stop(std::move(walk), ListEnd::cycle, "entry " + hex(links.container(link)) + " comes round again without passing the start");
    }
    if (walk.entries.size() >= limit) return stop(std::move(walk), ListEnd::limit, "stopped after " + std::to_string(limit) + " entries");
    walk.entries.push_back(links.container(link));
    auto next = links.next(link);
    if (!next) {
      walk.end = ListEnd::unreadable;
      walk.detail = "the next pointer of " + hex(links.container(link)) + ": " + next.error().message;
      if (links.kind == LinkKind::list_head) walk_back_from_head(links, head_link, seen, limit, walk);
      return walk;
    }
    link = *next;
  }
}

}  // namespace

Result<WalkedList> walk_list(TypedMemory& objects, const ListRequest& request) {
  auto path = objects.debug().find_member_path(request.container, request.member);
  if (!path) return path.error();
  auto kind = link_kind(path->type, request.member);
  if (!kind) return kind.error();
  const Links links{objects.kernel(), *kind, path->offset};
  WalkedList walk;
  if (request.start_is_head) {
    auto first = links.kernel.read_u64(request.start);  // list_head.next, hlist_head.first
    if (!first) return stop(std::move(walk), ListEnd::unreadable, "the head at " + hex(request.start) + ": " + first.error().message);
    return follow(links, request.start, *first, request.limit, std::move(walk));
  }
  const uint64_t head_link = links.of_container(request.start);
  walk.entries.push_back(request.start);
  auto next = links.next(head_link);
  if (!next) {
    return stop(std::move(walk), ListEnd::unreadable, "the next pointer of " + hex(request.start) + ": " + next.error().message);
  }
  return follow(links, head_link, *next, request.limit, std::move(walk));
}

std::optional<std::string> incomplete_walk(const WalkedList& walk, std::string_view what) {
  if (walk.end == ListEnd::back_at_start) return std::nullopt;
  return std::string(what) + " ends " + list_end_name(walk.end) + (walk.detail.empty() ? "" : " " + walk.detail);
}

}  // namespace coroner
