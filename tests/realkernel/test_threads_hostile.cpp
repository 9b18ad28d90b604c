// Threads on a real dump whose memory lies: every read passes through a layer that overwrites
// some 8-byte words with plausible garbage (kernel pointers, stack addresses, small numbers). Task
// lists, stacks, ORC-driven unwinds, modules (and their .ko debug info) and searches must answer
// what they can and never crash or hang (ASan and UBSan watch).
#include <gtest/gtest.h>

#include <cstring>
#include <iostream>

#include "coroner/debuginfo/debug_info.hpp"
#include "coroner/os/linux/linux_view.hpp"
#include "coroner/os/linux/memory_search.hpp"
#include "coroner/os/linux/stack_references.hpp"
#include "coroner/analysis/analyze.hpp"
#include "coroner/os/linux/fault.hpp"
#include "coroner/os/linux/poison_scan.hpp"
#include "coroner/os/linux/whatis.hpp"
#include "coroner/target/expression.hpp"
#include "real_dumps.hpp"

using namespace coroner;
using namespace coroner::linux_kernel;
using coroner::testing::dumps_dir;

namespace {

uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  return x ^ (x >> 33);
}

class LyingDump : public Dump {
 public:
  LyingDump(std::unique_ptr<Dump> inner, uint64_t seed, uint64_t one_in)
      : Dump(inner->path()), inner_(std::move(inner)), seed_(seed), one_in_(one_in) {
    header_ = inner_->header();
    notes_ = inner_->notes();
    ranges_ = inner_->physical_ranges();
  }
  Status read_physical(uint64_t paddr, std::span<uint8_t> out) const override {
    auto st = inner_->read_physical(paddr, out);
    if (!st) return st;
    for (uint64_t a = (paddr + 7) & ~uint64_t{7}; a + 8 <= paddr + out.size(); a += 8) {
      uint64_t h = mix(a ^ seed_);
      if (h % one_in_) continue;
      static const uint64_t kLies[] = {0, 1, 0xffffffffffffffff, 0xdead000000000100, 0xffffffff81000000,
                                       0xffff888000000000, 0x6b6b6b6b6b6b6b6b};
      uint64_t lie = kLies[(h >> 20) % 7] + ((h >> 40) & 0xfff8);
      std::memcpy(out.data() + (a - paddr), &lie, 8);
    }
    return st;
  }

 private:
  std::unique_ptr<Dump> inner_;
  uint64_t seed_, one_in_;
};

TEST(HostileThreads, LyingMemoryNeverCrashesPsBtModWhatthreadOrSearch) {
  auto debug = DebugInfo::open(dumps_dir() + "/kernel/vmlinux");
  ASSERT_TRUE(debug.ok());
  size_t total_tasks = 0, total_frames = 0;
  for (uint64_t seed : {1, 2, 3, 4}) {
    for (uint64_t one_in : {64, 512}) {
      auto dump = open_dump(dumps_dir() + (seed % 2 ? "/sysrq-kaslr" : "/slub-uaf") + "/vmcore.kdump-zlib");
      ASSERT_TRUE(dump.ok());
      auto kernel = Kernel::open(std::make_unique<LyingDump>(std::move(*dump), seed, one_in),
                                 dumps_dir() + "/kernel/vmlinux");
      if (!kernel) continue;  // a lie in what opening needs is a clean refusal
      TypedMemory objects(**kernel, **debug);
      LinuxView view(objects);
      auto tasks = view.tasks();
      // Module .ko files placed by lying section addresses: relocated wherever, still no crash.
      view.load_module_debug({dumps_dir() + "/kernel/debug"});
      (void)evaluate(objects, "virtio_blk.driver.name");
      if (tasks) {
        size_t frames = 0;
        for (const Task& t : (*tasks)->threads) {
          auto bt = view.backtrace(t);
          ASSERT_TRUE(bt.ok());
          frames += bt->frames.size();
          EXPECT_LE(bt->frames.size(), 256u + 64u);
        }
        auto refs = find_stack_references(view, 0xffffffff81000000, 0xffffffffc0000000);
        EXPECT_TRUE(refs.ok());
        total_tasks += (*tasks)->threads.size();
        total_frames += frames;
      }
      if (seed == 1) (void)search_physical(view, {0xdead000000000100, ~uint64_t{0}, 1000, true});
      // The slab allocator through lying memory: caches, counts, objects, poison checks.
      if (auto slub = Slub::read(objects)) {
        for (const SlabCache& c : slub->caches()) (void)slub->counts(c);
        const uint64_t addresses[] = {slub->memory().page_offset + 0x1000000, 0xffffffff81000000, 0xdead000000000100};
        for (uint64_t a : addresses) {
          (void)what_is(view, &*slub, a);
        }
        if (tasks && (*tasks)->panic_cpu) {
          if (const Task* t = (*tasks)->active_on(*(*tasks)->panic_cpu)) {
            auto log = read_printk_log(**kernel);
            if (auto bt = view.backtrace(*t)) {
              (void)explain_fault(view, &*slub, PoisonCatalog::shipped(), *bt, log ? &*log : nullptr);
            }
          }
        }
        if (seed == 2) {
          // analyze through its own Target over the same lies.
          const std::string path = dumps_dir() + "/slub-uaf/vmcore.kdump-zlib";
          auto lying = open_dump(path);
          ASSERT_TRUE(lying.ok());
          auto again = Kernel::open(std::make_unique<LyingDump>(std::move(*lying), seed, one_in), dumps_dir() + "/kernel/vmlinux");
          if (again) {
            auto target = Target::open({path, dumps_dir() + "/kernel/vmlinux", {}, {}, {}, {}}, std::move(*again));
            if (target) {
              auto analysis = analysis::analyze(*target);
              (void)rules::evaluate(rules::shipped_rules(), analysis.facts);
            }
          }
        }
        if (seed <= 2) {
          ScanRequest request;
          request.patterns = PoisonCatalog::shipped().for_os("linux");
          (void)scan_poison(view, &*slub, request);
        }
      }
    }
  }
  // The lies must leave enough truth for the walkers to run on, or this tests nothing.
  std::cout << total_tasks << " tasks, " << total_frames << " frames unwound through lying memory\n";
  EXPECT_GT(total_tasks, 50u);
  EXPECT_GT(total_frames, 200u);
}

}  // namespace
