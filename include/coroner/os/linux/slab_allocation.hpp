#pragma once
// SLUB's objects as allocations (os/allocation.hpp): the object any address of the direct map falls
// in, and with its history, SLUB's alloc and free tracks aged by the kernel's clock.
#include <optional>

#include "coroner/os/allocation.hpp"
#include "coroner/os/linux/slub.hpp"

namespace coroner::linux_kernel {

// jiffies at the crash and the length of one (tick_nsec: NSEC_PER_SEC / HZ as this kernel was
// built, without a config file).
class JiffyClock {
 public:
  explicit JiffyClock(const Kernel& kernel);
  // Seconds between jiffy `when` and the crash; nullopt when the clock or its rate is unknown.
  std::optional<double> age(uint64_t when) const;

 private:
  std::optional<uint64_t> now_;
  double seconds_per_jiffy_ = 0;
};

// The slab object `address` falls in (its object proper, not a red zone or the tracks); with
// `history`, its tracks as the last allocation and free.
std::optional<Allocation> slab_allocation(Slub& slub, const JiffyClock& clock, uint64_t address, bool history);

}  // namespace coroner::linux_kernel
