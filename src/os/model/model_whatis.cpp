#include "coroner/os/model/model_whatis.hpp"

namespace coroner::os_model {

ModelWhatIs what_is(const Unwinder& unwinder, const ModelThreads& threads, const KmemBuffers* kmem, const PoisonCatalog& poison, const std::string& os, uint64_t address) {
  const Kernel& kernel = unwinder.kernel();
  ModelWhatIs w;
  w.address = address;
  if (const ElfSymbols* symbols = kernel.symbols()) {
    if (symbols->lookup(address)) w.symbol = symbols->describe(address);
  }
  if (kmem) w.buffer = kmem->buffer_containing(address);
  for (size_t i = 0; i < threads.threads.size(); ++i) {
    const Thread& t = threads.threads[i];
    if (address >= t.stack_low && address < t.stack_high) {  // only this thread's frames are needed
      w.stack = ModelStackPlace{i, place_on_stack(t, unwind(unwinder, t), address).text};
      break;
    }
  }
  if (auto word = kernel.read_u64(address & ~uint64_t{7})) {
    w.word = *word;
    w.poison = poison.match_scalar(*word, 8, os);
  }
  return w;
}

}  // namespace coroner::os_model
