// libFuzzer target: any bytes as a dump (ELF core, kdump-compressed, flattened), through the pass
// over memory that `scan` and `search` make and the whole pipeline that `coroner info` and `coroner
// log` run. It may refuse the input; it must not crash.
#include <cstdint>
#include <vector>

#include "coroner/dump/dump.hpp"
#include "coroner/os/linux/kernel_summary.hpp"
#include "coroner/os/linux/printk_log.hpp"
#include "coroner/poison/physical_runs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace coroner;
  auto src = std::make_shared<BufferSource>("fuzz-input", std::vector<uint8_t>(data, data + size));
  auto dump = open_dump(src);
  if (!dump) return 0;
  uint8_t buf[64];
  (void)(*dump)->read_physical(0, buf);
  static const RunFinder finder(PoisonCatalog::shipped().for_os("linux"), 16);
  (void)find_physical_runs(**dump, finder, 0, ~uint64_t{0}, 2);
  auto kernel = Kernel::open(std::move(*dump), std::nullopt);
  if (!kernel) return 0;
  auto log = linux_kernel::read_printk_log(**kernel);
  (void)linux_kernel::summarize(**kernel, log ? &*log : nullptr);
  return 0;
}
