#include "coroner/os/linux/printk_log.hpp"

#include <cstdio>
#include <cstring>

#include "coroner/format.hpp"

namespace coroner::linux_kernel {
namespace {

constexpr int kStateShift = 62;  // DESC_SV_BITS - 2 on 64-bit
constexpr uint64_t kIdMask = (uint64_t{1} << kStateShift) - 1;
enum DescState { reserved = 0, committed = 1, finalized = 2, reusable = 3 };
// Bounds on what a hostile dump can make coroner allocate; real kernels stay far below
// (CONFIG_LOG_BUF_SHIFT tops out at 25, and count_bits is size_bits - 5).
constexpr uint32_t kMaxCountBits = 22;
constexpr uint32_t kMaxSizeBits = 28;
constexpr uint64_t kMaxRecordStructSize = 1024;

// Where the ring's parts are: every offset comes from VMCOREINFO.
struct PrbLayout {
  uint64_t desc_ring, text_data_ring;
  uint64_t count_bits, descs, infos, head_id, tail_id, counter;
  uint64_t desc_size, state_var, text_blk_lpos, lpos_begin, lpos_next;
  uint64_t info_size, info_seq, info_ts, info_text_len, info_caller_id;
  uint64_t size_bits, data;
};

Result<PrbLayout> prb_layout(const VmcoreInfo& vi) {
  std::string missing;
  auto need = [&](std::optional<uint64_t> v, const char* key) {
    if (!v) missing += missing.empty() ? key : std::string(", ") + key;
    return v.value_or(0);
  };
  PrbLayout L{};
  L.desc_ring = need(vi.offset("printk_ringbuffer.desc_ring"), "OFFSET(printk_ringbuffer.desc_ring)");
  L.text_data_ring = need(vi.offset("printk_ringbuffer.text_data_ring"), "OFFSET(printk_ringbuffer.text_data_ring)");
  L.count_bits = need(vi.offset("prb_desc_ring.count_bits"), "OFFSET(prb_desc_ring.count_bits)");
  L.descs = need(vi.offset("prb_desc_ring.descs"), "OFFSET(prb_desc_ring.descs)");
  L.infos = need(vi.offset("prb_desc_ring.infos"), "OFFSET(prb_desc_ring.infos)");
  L.head_id = need(vi.offset("prb_desc_ring.head_id"), "OFFSET(prb_desc_ring.head_id)");
  L.tail_id = need(vi.offset("prb_desc_ring.tail_id"), "OFFSET(prb_desc_ring.tail_id)");
  L.counter = need(vi.offset("atomic_long_t.counter"), "OFFSET(atomic_long_t.counter)");
  L.desc_size = need(vi.size("prb_desc"), "SIZE(prb_desc)");
  L.state_var = need(vi.offset("prb_desc.state_var"), "OFFSET(prb_desc.state_var)");
  L.text_blk_lpos = need(vi.offset("prb_desc.text_blk_lpos"), "OFFSET(prb_desc.text_blk_lpos)");
  L.lpos_begin = need(vi.offset("prb_data_blk_lpos.begin"), "OFFSET(prb_data_blk_lpos.begin)");
  L.lpos_next = need(vi.offset("prb_data_blk_lpos.next"), "OFFSET(prb_data_blk_lpos.next)");
  L.info_size = need(vi.size("printk_info"), "SIZE(printk_info)");
  L.info_seq = need(vi.offset("printk_info.seq"), "OFFSET(printk_info.seq)");
  L.info_ts = need(vi.offset("printk_info.ts_nsec"), "OFFSET(printk_info.ts_nsec)");
  L.info_text_len = need(vi.offset("printk_info.text_len"), "OFFSET(printk_info.text_len)");
  L.info_caller_id = need(vi.offset("printk_info.caller_id"), "OFFSET(printk_info.caller_id)");
  L.size_bits = need(vi.offset("prb_data_ring.size_bits"), "OFFSET(prb_data_ring.size_bits)");
  L.data = need(vi.offset("prb_data_ring.data"), "OFFSET(prb_data_ring.data)");
  if (!missing.empty()) return make_error("VMCOREINFO lacks " + missing);
  if (L.desc_size > kMaxRecordStructSize || L.info_size > kMaxRecordStructSize) {
    return make_error("VMCOREINFO's SIZE(prb_desc) " + std::to_string(L.desc_size) + " or SIZE(printk_info) " +
                      std::to_string(L.info_size) + " is implausible");
  }
  return L;
}

// A region of kernel memory copied once, page by page, remembering which pages were unreadable.
class Snapshot {
 public:
  Snapshot(const Kernel& k, uint64_t base, uint64_t size) : base_(base), bytes_(size) {
    if (k.read(base, bytes_)) return;  // the common case: one read
    for (uint64_t at = 0; at < size;) {
      uint64_t n = std::min<uint64_t>(size - at, x86_64::kPageSize - ((base + at) & 0xfff));
      auto st = k.read(base + at, {bytes_.data() + at, n});
      if (!st) {
        missing_.push_back({at, n});
        if (first_error_.empty()) first_error_ = st.error().message;
      }
      at += n;
    }
  }
  bool readable(uint64_t offset, uint64_t length) const {
    if (!in_bounds(offset, length, bytes_.size())) return false;
    for (auto [at, n] : missing_) {
      if (offset < at + n && at < offset + length) return false;
    }
    return true;
  }
  // Zero outside the bytes read: a hostile header can point anywhere.
  template <class T>
  T get(uint64_t offset) const {
    T v{};
    if (in_bounds(offset, sizeof v, bytes_.size())) std::memcpy(&v, bytes_.data() + offset, sizeof v);
    return v;
  }
  const uint8_t* data() const { return bytes_.data(); }
  uint64_t base() const { return base_; }
  const std::string& first_error() const { return first_error_; }

 private:
  uint64_t base_;
  std::vector<uint8_t> bytes_;
  std::vector<std::pair<uint64_t, uint64_t>> missing_;
  std::string first_error_;
};

struct Ring {
  uint64_t count = 0, head = 0, tail = 0;
  uint64_t data_size = 0;
  uint32_t size_bits = 0;
};

Result<Ring> read_ring_header(const Kernel& k, const PrbLayout& L, uint64_t prb, uint64_t& descs,
                              uint64_t& infos, uint64_t& data) {
  uint64_t dr = prb + L.desc_ring, tr = prb + L.text_data_ring;
  std::string error;
  auto word = [&](uint64_t addr, auto reader) -> uint64_t {
    auto v = (k.*reader)(addr);
    if (!v && error.empty()) error = v.error().message;
    return v.value_or(0);
  };
  uint64_t count_bits = word(dr + L.count_bits, &Kernel::read_u32);
  uint64_t size_bits = word(tr + L.size_bits, &Kernel::read_u32);
  descs = word(dr + L.descs, &Kernel::read_u64);
  infos = word(dr + L.infos, &Kernel::read_u64);
  data = word(tr + L.data, &Kernel::read_u64);
  uint64_t head = word(dr + L.head_id + L.counter, &Kernel::read_u64);
  uint64_t tail = word(dr + L.tail_id + L.counter, &Kernel::read_u64);
  if (!error.empty()) return make_error("printk ring buffer at " + hex(prb) + " is unreadable: " + error);
  if (count_bits > kMaxCountBits || size_bits > kMaxSizeBits) {
    return make_error("printk ring buffer at " + hex(prb) + " is corrupt: count_bits " +
                      std::to_string(count_bits) + ", size_bits " + std::to_string(size_bits));
  }
  Ring r;
  r.count = uint64_t{1} << count_bits;
  r.head = head & kIdMask;
  r.tail = tail & kIdMask;
  r.size_bits = static_cast<uint32_t>(size_bits);
  r.data_size = uint64_t{1} << size_bits;
  return r;
}

// The text block a descriptor points at, as (offset in the data ring, length), or nothing.
std::optional<std::pair<uint64_t, uint64_t>> text_block(const Ring& r, uint64_t begin, uint64_t next) {
  if ((begin & 1) || (next & 1)) return std::nullopt;  // data-less record
  uint64_t start, len;
  if ((begin >> r.size_bits) == (next >> r.size_bits) && begin < next) {
    start = begin & (r.data_size - 1);
    len = next - begin;
  } else if ((begin >> r.size_bits) + 1 == (next >> r.size_bits)) {
    start = 0;  // the block wrapped: its text starts at the beginning of the ring
    len = next & (r.data_size - 1);
  } else {
    return std::nullopt;
  }
  if (len < sizeof(uint64_t)) return std::nullopt;
  return std::pair{start + sizeof(uint64_t), len - sizeof(uint64_t)};  // skip the block's id
}

}  // namespace

std::string caller_name(uint32_t caller_id) {
  constexpr uint32_t kCpuFlag = 0x80000000u;
  return (caller_id & kCpuFlag) ? "C" + std::to_string(caller_id & ~kCpuFlag) : "T" + std::to_string(caller_id);
}

Result<KernelLog> read_printk_log(const Kernel& k) {
  const VmcoreInfo& vi = k.vmcoreinfo();
  auto prb_symbol = k.symbol_address("prb");
  if (!prb_symbol) {
    if (k.symbol_address("log_buf")) {
      return make_error("this kernel uses the pre-5.10 log_buf format, which coroner does not read yet");
    }
    return make_error("no printk ring buffer: neither VMCOREINFO nor the vmlinux names the symbol prb");
  }
  auto L = prb_layout(vi);
  if (!L) return make_error("cannot decode the printk ring buffer: " + L.error().message);
  auto prb = k.read_u64(*prb_symbol);
  if (!prb) return make_error("cannot read the pointer prb at " + hex(*prb_symbol) + ": " + prb.error().message);
  uint64_t descs_addr = 0, infos_addr = 0, data_addr = 0;
  auto ring = read_ring_header(k, *L, *prb, descs_addr, infos_addr, data_addr);
  if (!ring) return ring.error();

  Snapshot descs(k, descs_addr, ring->count * L->desc_size);
  Snapshot infos(k, infos_addr, ring->count * L->info_size);
  Snapshot text(k, data_addr, ring->data_size);
  KernelLog log;
  for (const Snapshot* s : {&descs, &infos, &text}) {
    if (!s->first_error().empty()) log.problems.push_back("part of the log is unreadable: " + s->first_error());
  }
  uint64_t id = ring->tail;
  for (uint64_t n = 0;; ++n) {
    if (n > ring->count) {
      log.problems.push_back("tail id " + hex(ring->tail) + " and head id " + hex(ring->head) +
                             " are more than the ring's " + std::to_string(ring->count) + " records apart");
      break;
    }
    uint64_t slot = id % ring->count;
    uint64_t d = slot * L->desc_size, i = slot * L->info_size;
    if (descs.readable(d, L->desc_size) && infos.readable(i, L->info_size)) {
      uint64_t sv = descs.get<uint64_t>(d + L->state_var + L->counter);
      int state = static_cast<int>(sv >> kStateShift) & 3;
      if ((sv & kIdMask) == id && (state == committed || state == finalized)) {
        LogRecord rec;
        rec.seq = infos.get<uint64_t>(i + L->info_seq);
        rec.timestamp_ns = infos.get<uint64_t>(i + L->info_ts);
        rec.caller_id = infos.get<uint32_t>(i + L->info_caller_id);
        uint16_t text_len = infos.get<uint16_t>(i + L->info_text_len);
        auto block = text_block(*ring, descs.get<uint64_t>(d + L->text_blk_lpos + L->lpos_begin),
                                descs.get<uint64_t>(d + L->text_blk_lpos + L->lpos_next));
        if (block) {
          uint64_t len = std::min<uint64_t>(text_len, block->second);
          if (text.readable(block->first, len)) {
            rec.text.assign(reinterpret_cast<const char*>(text.data() + block->first), len);
          } else {
            rec.text = "<text unreadable>";
            log.problems.push_back("record " + std::to_string(rec.seq) + ": text at " +
                                   hex(text.base() + block->first) + " is not in the dump");
          }
        }
        log.records.push_back(std::move(rec));
      }
    } else {
      log.problems.push_back("descriptor " + hex(id) + " is not in the dump");
    }
    if (id == ring->head) break;
    id = (id + 1) & kIdMask;
  }
  return log;
}

std::string format_log_line(const LogRecord& r) {
  char prefix[48];
  int n = std::snprintf(prefix, sizeof prefix, "[%5llu.%06llu] ",
                        static_cast<unsigned long long>(r.timestamp_ns / 1000000000ull),
                        static_cast<unsigned long long>((r.timestamp_ns % 1000000000ull) / 1000));
  std::string out(prefix, n);
  std::string indent(n, ' ');
  for (unsigned char c : r.text) {
    if (c == '\n') {
      out += '\n';
      out += indent;
    } else if (c == '\t' || (c >= 0x20 && c < 0x7f)) {
      out += static_cast<char>(c);
    } else {
      append_hex_escape(out, c);
    }
  }
  return out;
}

}  // namespace coroner::linux_kernel
