#include "coroner/os/model/os_model.hpp"

#include <yaml-cpp/yaml.h>

#include <set>

#include "../../embedded_files.hpp"

namespace coroner::os_model {

extern const EmbeddedFile kShippedOsModels[];
extern const size_t kShippedOsModels_COUNT;

namespace {

class Reader {
 public:
  explicit Reader(std::string name) : name_(std::move(name)) {}

  std::string where(const YAML::Node& n) const {
    return name_ + ":" + std::to_string(n.Mark().line + 1) + ":" + std::to_string(n.Mark().column + 1);
  }

  Status keys(const YAML::Node& map, const std::set<std::string>& allowed, const std::string& what) const {
    if (!map.IsMap()) return make_error(where(map) + ": `" + what + "` is a map");
    for (const auto& kv : map) {
      if (!allowed.contains(kv.first.Scalar())) {
        std::string list;
        for (const auto& k : allowed) list += (list.empty() ? "" : ", ") + k;
        return make_error(where(kv.first) + ": unknown `" + what + "` key `" + kv.first.Scalar() + "` (expected " + list + ")");
      }
    }
    return ok_status();
  }

  Status text(const YAML::Node& map, const char* key, std::string& out, bool required) const {
    const YAML::Node v = map[key];
    if (!v) return required ? make_error(where(map) + ": `" + key + "` is required") : ok_status();
    if (!v.IsScalar()) return make_error(where(v) + ": `" + key + "` is an expression (text)");
    out = v.Scalar();
    return ok_status();
  }

  Result<OsModel> model(const YAML::Node& root) {
    OsModel m;
    m.file = name_;
    if (auto st = keys(root, {"os", "detect", "absent", "kernel", "log", "panic", "processes", "threads", "unwind", "allocator",
                              "interrupt_stack"},
                       "model"); !st) {
      return st.error();
    }
    if (auto st = text(root, "os", m.os, true); !st) return st.error();
    const YAML::Node detect = root["detect"];
    if (!detect || !detect.IsSequence() || detect.size() == 0) {
      return make_error(where(detect ? detect : root) + ": `detect` is a list of symbols the kernel must have");
    }
    for (const auto& s : detect) m.detect.push_back(s.Scalar());
    if (auto st = names(root, "absent", m.absent, "symbols the kernel must not have"); !st) return st.error();
    if (const YAML::Node kernel = root["kernel"]) {
      if (auto st = keys(kernel, {"release", "version", "cpus"}, "kernel"); !st) return st.error();
      for (auto [key, out] : {std::pair{"release", &m.release}, std::pair{"version", &m.version}, std::pair{"cpus", &m.cpus}}) {
        if (auto st = text(kernel, key, *out, false); !st) return st.error();
      }
    }
    if (const YAML::Node log = root["log"]) {
      if (auto st = keys(log, {"buffer", "size", "write", "levels", "record", "first", "next"}, "log"); !st) return st.error();
      LogRing ring;
      bool records = static_cast<bool>(log["record"]);
      for (auto [key, out] : {std::pair{"buffer", &ring.buffer}, std::pair{"size", &ring.size}}) {
        if (auto st = text(log, key, *out, true); !st) return st.error();
      }
      if (records) {
        for (auto [key, out] : {std::pair{"record", &ring.record}, std::pair{"first", &ring.first}, std::pair{"next", &ring.next}}) {
          if (auto st = text(log, key, *out, true); !st) return st.error();
        }
      } else if (auto st = text(log, "write", ring.write, true); !st) {
        return make_error(st.error().message + " (or `record`, `first` and `next` for a ring of records)");
      }
      if (auto st = flag(log, "levels", ring.levels); !st) return st.error();
      m.log = ring;
    }
    if (const YAML::Node panic = root["panic"]) {
      if (auto st = keys(panic, {"message", "thread", "thread_id", "machinery", "context", "log", "registers", "cpu"}, "panic");
          !st) {
        return st.error();
      }
      if (auto st = names(panic, "log", m.panic_log, "regular expressions over the log's lines"); !st) return st.error();
      if (const YAML::Node registers = panic["registers"]) {
        if (registers.Scalar() != "prstatus") return make_error(where(registers) + ": the only `registers` source is `prstatus`");
        m.prstatus_registers = true;
      }
      if (auto st = text(panic, "cpu", m.panic_cpu, false); !st) return st.error();
      if (const YAML::Node context = panic["context"]) {
        if (auto st = keys(context, {"pc", "sp", "fp"}, "panic.context"); !st) return st.error();
        for (auto [key, out] : {std::pair{"pc", &m.panic_pc}, std::pair{"sp", &m.panic_sp}, std::pair{"fp", &m.panic_fp}}) {
          if (auto st = text(context, key, *out, true); !st) return st.error();
        }
      }
      if (auto st = names(panic, "machinery", m.panic_machinery, "function names"); !st) return st.error();
      for (auto [key, out] : {std::pair{"message", &m.panic_message}, std::pair{"thread", &m.panic_thread},
                              std::pair{"thread_id", &m.panic_thread_id}}) {
        if (auto st = text(panic, key, *out, false); !st) return st.error();
      }
    }
    if (const YAML::Node procs = root["processes"]) {
      if (auto st = keys(procs, {"type", "first", "next", "threads"}, "processes"); !st) return st.error();
      WalkedList walk;
      if (auto st = list(procs, walk); !st) return st.error();
      m.processes = walk;
      if (auto st = text(procs, "type", m.process_type, true); !st) return st.error();
      const YAML::Node inner = procs["threads"];
      if (!inner) return make_error(where(procs) + ": `processes` needs `threads: {first, next}`, each process's threads");
      if (auto st = keys(inner, {"first", "next"}, "processes.threads"); !st) return st.error();
      if (auto st = list(inner, m.threads); !st) return st.error();
    }
    const YAML::Node threads = root["threads"];
    if (!threads) return make_error(where(root) + ": a model needs `threads`");
    if (auto st = keys(threads, {"type", "first", "next", "id", "pid", "lwp", "comm", "state", "states", "stack_low",
                                 "stack_high", "stack_pages", "pc", "sp", "fp"},
                       "threads");
        !st) {
      return st.error();
    }
    if (!m.processes) {
      if (auto st = list(threads, m.threads); !st) return st.error();
    }
    if (auto st = text(threads, "type", m.thread_type, true); !st) return st.error();
    for (auto [key, out] : {std::pair{"id", &m.id}, std::pair{"pid", &m.pid}, std::pair{"lwp", &m.lwp},
                            std::pair{"comm", &m.comm}, std::pair{"state", &m.state}, std::pair{"stack_low", &m.stack_low},
                            std::pair{"stack_high", &m.stack_high}, std::pair{"stack_pages", &m.stack_pages},
                            std::pair{"pc", &m.pc}, std::pair{"sp", &m.sp}, std::pair{"fp", &m.fp}}) {
      bool required = std::string(key) == "pc" || std::string(key) == "fp" || std::string(key) == "stack_low";
      if (auto st = text(threads, key, *out, required); !st) return st.error();
    }
    if (m.stack_high.empty() == m.stack_pages.empty()) {
      return make_error(where(threads) + ": give the stack's end as one of `stack_high` or `stack_pages`");
    }
    if (const YAML::Node states = threads["states"]) {
      if (!states.IsMap()) return make_error(where(states) + ": `states` maps state values to ps letters: {1: S, 2: R}");
      for (const auto& kv : states) {
        try {
          m.states[kv.first.as<uint64_t>()] = kv.second.Scalar().empty() ? '?' : kv.second.Scalar()[0];
        } catch (const YAML::Exception&) {
          return make_error(where(kv.first) + ": a state value is a number");
        }
      }
    }
    if (const YAML::Node a = root["allocator"]) {
      if (auto st = keys(a, {"kind", "caches"}, "allocator"); !st) return st.error();
      if (auto st = text(a, "kind", m.allocator, true); !st) return st.error();
      if (m.allocator != "illumos-kmem") return make_error(where(a["kind"]) + ": the allocator kinds known are: illumos-kmem");
      const YAML::Node caches = a["caches"];
      if (!caches) return make_error(where(a) + ": `allocator` needs `caches: {type, first, next}`");
      if (auto st = keys(caches, {"type", "first", "next"}, "allocator.caches"); !st) return st.error();
      WalkedList walk;
      if (auto st = list(caches, walk); !st) return st.error();
      m.caches = walk;
      if (auto st = text(caches, "type", m.cache_type, true); !st) return st.error();
    }
    if (const YAML::Node stack = root["interrupt_stack"]) {
      if (auto st = keys(stack, {"size", "interrupted_sp"}, "interrupt_stack"); !st) return st.error();
      try {
        m.interrupt_stack_size = stack["size"].as<uint64_t>();
        m.interrupted_sp_offset = stack["interrupted_sp"].as<int64_t>();
      } catch (const YAML::Exception&) {
        return make_error(where(stack) + ": `interrupt_stack` is {size: BYTES, interrupted_sp: OFFSET from its top}");
      }
      uint64_t size = m.interrupt_stack_size;
      if (size == 0 || (size & (size - 1)) || m.interrupted_sp_offset >= 0 || -m.interrupted_sp_offset > static_cast<int64_t>(size)) {
        return make_error(where(stack) + ": `interrupt_stack.size` is a power of two (stacks are aligned to their size) and "
                          "`interrupted_sp` a negative offset within it");
      }
    }
    if (const YAML::Node u = root["unwind"]) {
      if (u.Scalar() != "frame-pointer") return make_error(where(u) + ": the only unwinder is `frame-pointer`");
    }
    return m;
  }

 private:
  Status names(const YAML::Node& map, const char* key, std::vector<std::string>& out, const std::string& what) const {
    const YAML::Node v = map[key];
    if (!v) return ok_status();
    if (!v.IsSequence()) return make_error(where(v) + ": `" + key + "` is a list of " + what);
    for (const auto& item : v) out.push_back(item.Scalar());
    return ok_status();
  }

  Status flag(const YAML::Node& map, const char* key, bool& out) const {
    const YAML::Node v = map[key];
    if (!v) return ok_status();
    try {
      out = v.as<bool>();
    } catch (const YAML::Exception&) {
      return make_error(where(v) + ": `" + key + "` is true or false");
    }
    return ok_status();
  }

  Status list(const YAML::Node& map, WalkedList& walk) const {
    if (auto st = text(map, "first", walk.first, true); !st) return st;
    return text(map, "next", walk.next, true);
  }

  std::string name_;
};

}  // namespace

Result<OsModel> parse_os_model(std::string_view yaml, const std::string& name) {
  try {
    return Reader(name).model(YAML::Load(std::string(yaml)));
  } catch (const YAML::Exception& e) {
    return make_error(name + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
}

const std::vector<OsModel>& shipped_os_models() {
  static const std::vector<OsModel> models = [] {
    std::vector<OsModel> out;
    for (size_t i = 0; i < kShippedOsModels_COUNT; ++i) {
      auto m = parse_os_model(kShippedOsModels[i].text, std::string("data/os/") + kShippedOsModels[i].name);
      if (m) out.push_back(std::move(*m));
    }
    return out;
  }();
  return models;
}

}  // namespace coroner::os_model
