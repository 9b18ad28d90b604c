#pragma once
// VMCOREINFO: the KEY=VALUE text the kernel leaves for dump tools (release, page size, KASLR
// offset, symbol addresses, struct offsets and sizes).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace coroner {

class VmcoreInfo {
 public:
  VmcoreInfo() = default;
  explicit VmcoreInfo(std::string_view text);

  bool empty() const { return entries_.empty(); }
  const std::map<std::string, std::string, std::less<>>& entries() const { return entries_; }
  std::optional<std::string_view> get(std::string_view key) const;

  std::optional<std::string_view> osrelease() const { return get("OSRELEASE"); }
  std::optional<std::string_view> build_id() const { return get("BUILD-ID"); }
  std::optional<uint64_t> page_size() const { return decimal("PAGESIZE"); }
  std::optional<uint64_t> kernel_offset() const { return hexadecimal("KERNELOFFSET"); }
  std::optional<uint64_t> crash_time() const { return decimal("CRASHTIME"); }
  // SYMBOL(name)=hex, with KASLR already applied by the kernel that wrote it.
  std::optional<uint64_t> symbol(std::string_view name) const;
  // OFFSET(struct.member), SIZE(name), LENGTH(name), NUMBER(name): decimal.
  std::optional<uint64_t> offset(std::string_view struct_member) const;
  std::optional<uint64_t> size(std::string_view name) const;
  std::optional<uint64_t> length(std::string_view name) const;
  std::optional<int64_t> number(std::string_view name) const;

 private:
  std::optional<uint64_t> decimal(std::string_view key) const;
  std::optional<uint64_t> hexadecimal(std::string_view key) const;
  std::optional<uint64_t> wrapped(std::string_view kind, std::string_view name, int base) const;
  std::map<std::string, std::string, std::less<>> entries_;
};

}  // namespace coroner
