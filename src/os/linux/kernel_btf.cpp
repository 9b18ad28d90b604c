#include "coroner/os/linux/kernel_btf.hpp"

#include "coroner/format.hpp"
#include "coroner/target/list_walk.hpp"
#include "coroner/target/struct_reader.hpp"

namespace coroner::linux_kernel {
namespace {

// Far above any kernel's (6.12: about 6 MB); a corrupt symbol pair stops here.
constexpr uint64_t kMaxBtfBytes = 256ull << 20;

}  // namespace

Result<std::unique_ptr<DebugInfo>> read_kernel_btf(const Kernel& kernel) {
  auto start = kernel.symbol_address("__start_BTF"), stop = kernel.symbol_address("__stop_BTF");
  if (!start || !stop) {
    return make_error("the kernel's symbols have no __start_BTF/__stop_BTF: it was built without CONFIG_DEBUG_INFO_BTF, "
                      "or its kallsyms without CONFIG_KALLSYMS_ALL (then they list no data)");
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

namespace {

Result<ModuleBtf> read_one_module_btf(TypedMemory& objects, StructReader& btf_module, StructReader& btf, uint64_t entry) {
  auto at = btf_module.integer(entry, "btf");
  if (!at) return at.error();
  auto name = btf.text(*at, "name");
  auto data = btf.integer(*at, "data"), size = btf.integer(*at, "data_size");
  if (!name || !data || !size) return make_error("struct btf at " + hex(*at) + " is unreadable");
  if (*size == 0 || *size > kMaxBtfBytes) return make_error(*name + ": its BTF at " + hex(*data) + " claims " + std::to_string(*size) + " bytes");
  ObjectBytes bytes = objects.read_object(*data, *size);
  if (!bytes.missing.empty()) return make_error(*name + ": its BTF at " + hex(*data) + " is not all in the dump: " + bytes.why_missing);
  DebugInfo& kernel = objects.debug();
  auto parsed = BtfTypes::parse(bytes.data, kernel.btf());
  if (!parsed) return make_error(*name + ": " + parsed.error().message);
  return ModuleBtf{*name, DebugInfo::from_btf(std::move(*parsed), "module " + *name + "'s BTF in the dump", &kernel)};
}

}  // namespace

std::vector<ModuleBtf> read_module_btf(TypedMemory& objects, std::vector<std::string>& problems) {
  std::vector<ModuleBtf> out;
  if (!objects.debug().btf()) return out;
  auto head = objects.kernel().symbol_address("btf_modules");
  auto btf_module = StructReader::of(objects, "struct btf_module");
  auto btf = StructReader::of(objects, "struct btf");
  if (!head || !btf_module || !btf) {
    problems.push_back("the modules' BTF: the kernel has no btf_modules list (CONFIG_DEBUG_INFO_BTF_MODULES), so the "
                       "types modules define are unknown; give --modules DIR with their .ko debug files");
    return out;
  }
  auto walk = walk_list(objects, {btf_module->type(), "list", *head, true, 10000});
  if (!walk) {
    problems.push_back("the modules' BTF: " + walk.error().message);
    return out;
  }
  if (auto p = incomplete_walk(*walk, "the list of modules' BTF (btf_modules)")) problems.push_back(*p);
  for (uint64_t entry : walk->entries) {
    auto m = read_one_module_btf(objects, *btf_module, *btf, entry);
    if (m) out.push_back(std::move(*m));
    else problems.push_back("module BTF: " + m.error().message);
  }
  return out;
}

}  // namespace coroner::linux_kernel
