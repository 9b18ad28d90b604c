#include <cstdio>
#include <iostream>

#include "commands.hpp"
#include "coroner/arch/x86_64_disassembler.hpp"
#include "coroner/format.hpp"
#include "coroner/os/linux/fault.hpp"
#include "coroner/report/info_report.hpp"
#include "coroner/target/expression.hpp"

namespace coroner::cli {
namespace {

std::string bytes_text(const std::vector<uint8_t>& bytes) {
  std::string out;
  for (uint8_t b : bytes) {
    char buf[4];
    std::snprintf(buf, sizeof buf, "%02x ", b);
    out += buf;
  }
  return out;
}

}  // namespace

void register_dis(CLI::App& app) {
  struct Args {
    DumpArgs dump;
    std::string where;
    size_t count = 16;
    bool intel = false;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("dis", "disassemble kernel or module code from the dump (like crash's dis): "
                                        "`dis DUMP -k V ADDR|SYMBOL [-n N]`, AT&T by default");
  add_dump_args(*cmd, args->dump, true);
  cmd->add_option("where", args->where, "an address, symbol or expression (panic, &init_task, 0xffff...)")->required();
  cmd->add_option("-n,--count", args->count, "instructions (default 16)");
  cmd->add_flag("--intel", args->intel, "Intel syntax instead of AT&T");
  cmd->add_flag("--json", args->json, "print JSON (schema coroner.dis)");
  cmd->callback([args] {
    auto typed = open_target(args->dump);
    auto address = evaluate_address(*typed.objects, args->where);
    if (!address) fail(address.error().message);
    auto disassembler = x86_64::Disassembler::create(args->intel ? x86_64::Syntax::intel : x86_64::Syntax::att);
    if (!disassembler) fail(disassembler.error().message);
    uint64_t want = std::min<uint64_t>(args->count, 4096) * 15;
    ObjectBytes code = typed.objects->read_object(*address, want);
    size_t readable = code.readable_prefix();
    if (!readable) fail(hex(*address) + " is not in the dump: " + code.why_missing);
    auto instructions = disassembler->decode({code.data.data(), readable}, *address, args->count);
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& in : instructions) {
      std::string at = typed.locate(in.address, false).text(in.address);
      if (args->json) {
        list.push_back({{"address", hex(in.address)}, {"symbol", at}, {"bytes", bytes_text(in.bytes)},
                        {"instruction", in.text()}});
      } else {
        std::printf("%s <%s>:  %-30s %s\n", hex_padded(in.address).c_str(), at.c_str(), bytes_text(in.bytes).c_str(),
                    in.text().c_str());
      }
    }
    if (args->json) std::cout << report::to_json_text({{"schema", "coroner.dis"}, {"instructions", list}}) << '\n';
    print_warnings(typed);
  });
}

void register_fault(CLI::App& app) {
  struct Args {
    DumpArgs dump;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("fault", "the crashing task's faulting instruction explained: its operand's address "
                                          "from the saved registers, what it and its base register hold, and where "
                                          "that value was loaded from");
  add_dump_args(*cmd, args->dump, true);
  cmd->add_flag("--json", args->json, "print JSON (schema coroner.fault)");
  cmd->callback([args] {
    auto typed = open_target(args->dump);
    auto& view = linux_or_fail(typed, "dis fault", "the fault's registers and the slab caches");
    const ThreadList& threads = threads_or_fail(typed);
    if (!threads.panic_cpu) fail("the dump does not say which CPU crashed");
    const Thread* t = threads.crashed_thread();
    if (!t) fail("no task was running on the crashing CPU " + std::to_string(*threads.panic_cpu));
    auto bt = typed.backtrace(*t);
    if (!bt) fail(bt.error().message);
    auto log = typed.log();
    auto fault = linux_kernel::explain_fault(view, slub_or_warn(typed), typed.poison, *bt, log ? &*log : nullptr);
    if (!fault) {
      std::cout << "pid " << t->thread_id << " (" << t->comm << ") crashed without a kernel-mode exception on its stack "
                << "or an oops in the log at its registers (a panic() call, not an oops): nothing faulted\n";
      print_warnings(typed);
      return;
    }
    if (args->json) {
      nlohmann::ordered_json code = nlohmann::ordered_json::array();
      for (const auto& in : fault->code) code.push_back({{"address", hex(in.address)}, {"instruction", in.text()},
                                                         {"faulting", in.address == fault->faulting->address}});
      nlohmann::ordered_json chain = nlohmann::ordered_json::array();
      for (const auto& p : fault->chain) {
        chain.push_back({{"register", p.reg}, {"value", hex(p.value)}, {"instruction", p.instruction.text()},
                         {"at", hex(p.instruction.address)},
                         {"loaded_from", p.address ? nlohmann::ordered_json(hex(*p.address)) : nlohmann::ordered_json(nullptr)},
                         {"loaded_from_is", p.address_meaning.text}, {"member", p.member}});
      }
      std::cout << report::to_json_text(
                       {{"schema", "coroner.fault"}, {"pid", t->thread_id}, {"comm", t->comm},
                        {"rip", fault->where.text(*linux_kernel::register_value(fault->regs, "rip"))},
                        {"instruction", fault->faulting ? nlohmann::ordered_json(fault->faulting->text()) : nullptr},
                        {"address", fault->address ? nlohmann::ordered_json(hex(*fault->address)) : nullptr},
                        {"address_kind", address_kind_name(fault->address_meaning.kind)}, {"address_is", fault->address_meaning.text},
                        {"base_kind", address_kind_name(fault->base_meaning.kind)}, {"base_is", fault->base_meaning.text},
                        {"member", fault->member}, {"chain", chain}, {"code", code}, {"findings", fault->findings}})
                << '\n';
    } else {
      std::cout << "pid " << t->thread_id << " (" << t->comm << "), exception frame #" << fault->frame->level << ":\n";
      for (const auto& in : fault->code) {
        bool here = fault->faulting && in.address == fault->faulting->address;
        std::cout << (here ? "  => " : "     ") << hex_padded(in.address) << "  " << in.text() << '\n';
      }
      for (const auto& f : fault->findings) std::cout << "  " << f << '\n';
    }
    print_warnings(typed);
  });
}

}  // namespace coroner::cli
