#include "coroner/os/linux/slab_allocation.hpp"

namespace coroner::linux_kernel {

namespace {

std::optional<uint64_t> read_symbol_u64(const Kernel& k, std::string_view name) {
  auto at = k.symbol_address(name);
  if (!at) return std::nullopt;
  auto v = k.read_u64(*at);
  return v ? std::optional<uint64_t>(*v) : std::nullopt;
}

std::optional<AllocatorEvent> event(const std::optional<Track>& track, const JiffyClock& clock) {
  if (!track) return std::nullopt;
  AllocatorEvent e;
  e.pid = track->pid;
  e.caller = track->addr;
  e.when = track->when;
  e.age = clock.age(track->when);
  return e;
}

}  // namespace

JiffyClock::JiffyClock(const Kernel& k) {
  now_ = read_symbol_u64(k, "jiffies_64");
  if (!now_) now_ = read_symbol_u64(k, "jiffies");
  auto tick = read_symbol_u64(k, "tick_nsec");
  if (tick && *tick >= 100000 && *tick <= 100000000) seconds_per_jiffy_ = static_cast<double>(*tick) / 1e9;
}

std::optional<double> JiffyClock::age(uint64_t when) const {
  if (!now_ || seconds_per_jiffy_ == 0) return std::nullopt;
  auto ticks = static_cast<int64_t>(*now_ - when);
  if (ticks < 0) return std::nullopt;
  return static_cast<double>(ticks) * seconds_per_jiffy_;
}

std::optional<Allocation> slab_allocation(Slub& slub, const JiffyClock& clock, uint64_t address, bool history) {
  if (!slub.memory().direct_map_pfn(address)) return std::nullopt;
  auto o = slub.object_at(address);
  if (!o || !*o) return std::nullopt;
  SlabObject& object = **o;
  if (!object.cache || object.part != "object") return std::nullopt;
  Allocation a;
  a.start = object.object ? object.object : address;
  a.size = object.cache->object_size;
  a.cache = object.cache->name;
  a.free = object.free;
  a.audit = "SLUB tracks";
  if (history) {
    slub.read_tracks(object);
    a.allocated = event(object.alloc, clock);
    a.freed = event(object.freed, clock);
  }
  return a;
}

}  // namespace coroner::linux_kernel
