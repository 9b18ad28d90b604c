#include "coroner/os/linux/memory_search.hpp"

#include <cstring>
#include <unordered_map>

#include "coroner/arch/x86_64_paging.hpp"
#include "coroner/dump/physical_chunks.hpp"
#include "coroner/os/linux/memory_map.hpp"
#include "coroner/os/linux/page_marks.hpp"
#include "coroner/format.hpp"
#include "coroner/os/linux/stack_references.hpp"

namespace coroner::linux_kernel {
namespace {

constexpr uint64_t kPage = 4096;

// Task stacks are vmalloc'd: their pages are found by physical address, then named by task.
}  // namespace

std::unordered_map<uint64_t, StackPage> stack_pages(LinuxView& view) {
  std::unordered_map<uint64_t, StackPage> out;
  auto tasks = view.tasks();
  if (!tasks) return out;
  const Kernel& k = view.objects().kernel();
  for (const Task& t : (*tasks)->threads) {
    for (const StackRange& r : (*tasks)->stacks_of(t)) {
      for (uint64_t v = r.low & ~(kPage - 1); v < r.high && r.high - r.low <= (1u << 20); v += kPage) {
        if (auto p = k.translate(v)) out.emplace(*p & ~(kPage - 1), StackPage{&t, v});
      }
    }
  }
  return out;
}

namespace {

class HitNamer {
 public:
  explicit HitNamer(LinuxView& view)
      : view_(view), k_(view.objects().kernel()), stacks_(stack_pages(view)), map_(MemoryMap::read(view.objects())) {
    auto text = k_.symbol_address("_text"), end = k_.symbol_address("_end");
    if (text && end && k_.layout().phys_base) {
      image_start_ = *text;
      image_end_ = *end;
    }
    reserved_bit_ = PageMarks::read(view.objects()).flag_bit("reserved");
  }

  void name(SearchHit& hit) {
    uint64_t page = hit.physical & ~(kPage - 1);
    if (auto it = stacks_.find(page); it != stacks_.end()) {
      const Task& t = *it->second.task;
      uint64_t v = it->second.virtual_page + (hit.physical - page);
      hit.virtual_address = v;
      auto bt = backtraces_.find(&t);
      if (bt == backtraces_.end()) bt = backtraces_.emplace(&t, view_.backtrace(t).value_or(Backtrace{})).first;
      hit.where = "stack of pid " + std::to_string(t.thread_id) + " (" + t.comm + "), " + place_on_stack(bt->second, t, v).text;
      return;
    }
    if (image_end_) {
      // The kernel image maps linearly from phys_base at __START_KERNEL_map, where the page tables
      // still map it.
      uint64_t v = hit.physical - *k_.layout().phys_base + x86_64::kStartKernelMap;
      if (in_image(v, hit.physical) && k_.translate(v).value_or(~uint64_t{0}) == hit.physical) {
        hit.virtual_address = v;
        hit.where = k_.describe_address(v);
        return;
      }
    }
    hit.virtual_address = map_.page_offset + hit.physical;
    hit.where = "direct map";
  }

 private:
  // The kernel image's own pages stay PG_reserved from boot on; those it gave back to the page
  // allocator (init code, the gaps mark_rodata_ro() frees, the unused end of brk) lost the mark
  // and belong to whoever allocated them since, though the image mapping may still reach them.
  bool in_image(uint64_t v, uint64_t physical) const {
    if (v < image_start_ || v >= image_end_) return false;
    if (!reserved_bit_) return true;
    auto flags = k_.read_u64(map_.page_of(physical / kPage));
    return flags && ((*flags >> *reserved_bit_) & 1);
  }

  LinuxView& view_;
  const Kernel& k_;
  std::unordered_map<uint64_t, StackPage> stacks_;
  std::unordered_map<const Task*, Backtrace> backtraces_;
  MemoryMap map_;
  uint64_t image_start_ = 0, image_end_ = 0;
  std::optional<uint64_t> reserved_bit_;
};

}  // namespace

SearchResult search_physical(LinuxView& view, const SearchRequest& request) {
  SearchResult out;
  const Dump& dump = view.objects().kernel().dump();
  const uint64_t value = request.value & request.mask, mask = request.mask;
  // Each batch keeps its own first hits (no more than the whole pass lists); joined in batch
  // order, they are the pass's first hits in address order, however many threads found them.
  PhysicalBatches batches(dump);
  std::vector<std::vector<SearchHit>> found(batches.size());
  std::vector<uint64_t> counts(batches.size());
  auto totals = batches.visit(batches.threads_for(request.threads), [&](size_t batch, uint64_t base,
                                                                        std::span<const uint8_t> bytes) {
    for (uint64_t off = 0; off + 8 <= bytes.size(); off += 8) {
      uint64_t w;
      std::memcpy(&w, bytes.data() + off, 8);
      if ((w & mask) != value) continue;
      if (counts[batch]++ < request.limit) found[batch].push_back({base + off, w, std::nullopt, ""});
    }
  });
  for (size_t b = 0; b < found.size(); ++b) {
    out.total_hits += counts[b];
    for (SearchHit& h : found[b]) {
      if (out.hits.size() == request.limit) break;
      out.hits.push_back(std::move(h));
    }
  }
  out.threads = totals.threads;
  out.bytes_scanned = totals.bytes_read;
  out.bytes_unreadable = totals.bytes_unreadable;
  if (request.name_hits && !out.hits.empty()) {
    HitNamer namer(view);
    for (SearchHit& h : out.hits) namer.name(h);
  }
  return out;
}

}  // namespace coroner::linux_kernel
