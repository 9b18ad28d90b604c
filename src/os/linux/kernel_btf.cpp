#include "coroner/os/linux/kernel_btf.hpp"

#include "coroner/format.hpp"

namespace coroner::linux_kernel {
namespace {

// Far above any kernel's (6.12: about 6 MB); a corrupt symbol pair stops here.
constexpr uint64_t kMaxBtfBytes = 256ull << 20;

}  // namespace

Result<std::unique_ptr<DebugInfo>> read_kernel_btf(const Kernel& kernel) {
  auto start = kernel.symbol_address("__start_BTF"), stop = kernel.symbol_address("__stop_BTF");
  if (!start || !stop) {
    return make_error("the kernel's symbols have no __start_BTF/__stop_BTF: it was built without CONFIG_DEBUG_INFO_BTF");
  }
  if (*stop <= *start || *stop - *start > kMaxBtfBytes) {
    return make_error("__start_BTF " + hex(*start) + " and __stop_BTF " + hex(*stop) + " do not bound a BTF section");
  }
  std::vector<uint8_t> bytes(*stop - *start);
  if (auto st = kernel.read(*start, bytes); !st) {
    return make_error("the kernel's BTF at " + hex(*start) + " (" + std::to_string(bytes.size()) +
                      " bytes) is not all in the dump: " + st.error().message);
  }
  auto btf = BtfTypes::parse(bytes);
  if (!btf) return make_error("the kernel's BTF at " + hex(*start) + ": " + btf.error().message);
  return DebugInfo::from_btf(std::move(*btf), "the kernel's BTF in the dump (" + std::to_string(bytes.size()) + " bytes at " + hex(*start) + ")");
}

}  // namespace coroner::linux_kernel
