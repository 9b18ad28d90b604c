#include "coroner/os/model/model_whatis.hpp"

#include "coroner/format.hpp"

namespace coroner::os_model {
namespace {

// mdb's "ffffd0576bff2800 is freed from htable_t".
std::string buffer_summary(uint64_t address, const KmemBuffer& b) {
  return (address == b.address ? std::string() : hex(address - b.address) + " bytes into a buffer ") +
         (b.free ? "freed from " : "allocated from ") + b.cache;
}

// Only the thread whose stack holds the address is unwound.
void place_on_a_stack(const Unwinder& unwinder, const ThreadList& threads, Identity& out) {
  for (const Thread& t : threads.threads) {
    if (!t.on_own_stack(out.address)) continue;
    out.thread = &t;
    out.stack = "thread";
    out.stack_place = place_on_stack(t, unwind(unwinder, t), out.address);
    return;
  }
}

}  // namespace

Identity what_is(const Unwinder& unwinder, const ThreadList& threads, const KmemBuffers* kmem, uint64_t address) {
  const Kernel& kernel = unwinder.kernel();
  Identity out;
  out.address = address;
  if (const SymbolTable* symbols = kernel.symbols(); symbols && symbols->lookup(address)) {
    out.symbol = locate_in_image(kernel, address, false);
    out.kind = symbols->in_code(address) ? AddressKind::kernel_text : AddressKind::kernel_data;
    out.summary = std::string(out.kind == AddressKind::kernel_text ? "kernel text" : "kernel data") + ", " +
                  out.symbol.text(address);
  }
  if (kmem) out.buffer = kmem->buffer_containing(address);
  if (out.buffer) {
    out.kind = AddressKind::slab_object;
    out.summary = buffer_summary(address, *out.buffer);
  }
  place_on_a_stack(unwinder, threads, out);
  if (out.thread) {
    out.kind = AddressKind::task_stack;
    out.summary = "the stack of thread " + thread_label(*out.thread) + ", " + out.stack_place->text;
  }
  if (out.summary.empty()) out.summary = "not a kernel symbol, a thread's stack or an allocator buffer coroner knows";
  return out;
}

}  // namespace coroner::os_model
