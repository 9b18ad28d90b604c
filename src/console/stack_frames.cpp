#include "coroner/console/stack_frames.hpp"

#include <cctype>

#include "coroner/rules/function_name.hpp"

namespace coroner::console {
namespace {

bool symbol_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '$'; }

std::string_view trim_left(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

// "+0x1d4/0x1000" or "+0x1d4" (kmemleak and some arm64 traces print no size).
bool offset_at(std::string_view s) {
  if (!s.starts_with("+0x")) return false;
  size_t i = 3;
  while (i < s.size() && std::isxdigit(static_cast<unsigned char>(s[i]))) ++i;
  return i > 3;
}

// "fs/ext4/inode.c:123" (a symbolised frame's source), or "[inline]".
bool source_at(std::string_view s) {
  if (s.starts_with("[inline]")) return true;
  size_t colon = s.find(':');
  if (colon == std::string_view::npos || colon + 1 >= s.size() || !std::isdigit(static_cast<unsigned char>(s[colon + 1]))) return false;
  std::string_view file = s.substr(0, colon);
  size_t dot = file.rfind('.');
  return dot != std::string_view::npos && file.find(' ') == std::string_view::npos &&
         (file.substr(dot) == ".c" || file.substr(dot) == ".h" || file.substr(dot) == ".S" || file.substr(dot) == ".rs");
}

std::string module_in(std::string_view rest) {
  size_t open = rest.find(" [");
  while (open != std::string_view::npos) {
    size_t close = rest.find(']', open);
    if (close == std::string_view::npos) break;
    std::string_view name = rest.substr(open + 2, close - open - 2);
    if (name != "inline" && !name.empty() && name.find(' ') == std::string_view::npos) return std::string(name);
    open = rest.find(" [", close);
  }
  return "";
}

struct Pattern {
  std::string_view text;
  unsigned sets;
};

// A name, or a prefix ending in '*' (the only place a '*' may stand).
// A plain array: std::array's deduction guide folds over every element, past clang's nesting limit.
constexpr Pattern kMachinery[] = {
    // What prints a report.
    Pattern{"dump_stack*", kCommon}, Pattern{"__dump_stack", kCommon}, Pattern{"show_stack", kCommon},
    Pattern{"show_regs", kCommon}, Pattern{"show_trace_log_lvl", kCommon}, Pattern{"sched_show_task", kCommon},
    Pattern{"printk*", kCommon}, Pattern{"_printk*", kCommon}, Pattern{"vprintk*", kCommon},
    Pattern{"panic", kCommon}, Pattern{"vpanic", kCommon}, Pattern{"nmi_panic", kCommon}, Pattern{"check_panic_on_warn", kCommon},
    Pattern{"__warn*", kCommon}, Pattern{"warn_slowpath*", kCommon}, Pattern{"report_bug", kCommon},
    Pattern{"handle_bug", kCommon}, Pattern{"__report_bug", kCommon}, Pattern{"warn_alloc*", kCommon},
    Pattern{"kasan_*", kCommon}, Pattern{"__kasan_*", kCommon}, Pattern{"check_memory_region*", kCommon},
    Pattern{"__asan_*", kCommon}, Pattern{"asan_*", kCommon}, Pattern{"print_report", kCommon}, Pattern{"print_address_description*", kCommon},
    Pattern{"kmsan_*", kCommon}, Pattern{"__msan_*", kCommon}, Pattern{"__kmsan_*", kCommon},
    Pattern{"kfence_*", kCommon}, Pattern{"__kfence_*", kCommon},
    Pattern{"ubsan_*", kCommon}, Pattern{"__ubsan_*", kCommon},
    Pattern{"lockdep_*", kCommon}, Pattern{"__lock_acquire*", kCommon}, Pattern{"lock_acquire*", kCommon},
    Pattern{"lock_release", kCommon}, Pattern{"__lock_release", kCommon}, Pattern{"lock_acquired", kCommon},
    Pattern{"lock_contended", kCommon}, Pattern{"validate_chain", kCommon}, Pattern{"check_noncircular", kCommon},
    Pattern{"check_prev_add", kCommon}, Pattern{"check_prevs_add", kCommon}, Pattern{"print_circular_bug*", kCommon},
    Pattern{"print_usage_bug*", kCommon}, Pattern{"print_deadlock_bug*", kCommon}, Pattern{"check_deadlock", kCommon},
    Pattern{"mark_lock*", kCommon}, Pattern{"debug_check_no_locks*", kCommon}, Pattern{"debug_locks_off", kCommon},
    Pattern{"__might_sleep", kCommon}, Pattern{"__might_resched", kCommon}, Pattern{"___might_sleep", kCommon},
    Pattern{"__might_fault", kCommon}, Pattern{"__cant_sleep", kCommon}, Pattern{"__schedule_bug", kCommon},
    Pattern{"schedule_debug*", kCommon}, Pattern{"check_preemption_disabled", kCommon},
    Pattern{"debug_smp_processor_id", kCommon}, Pattern{"__this_cpu_preempt_check", kCommon},
    Pattern{"debug_object*", kCommon}, Pattern{"__debug_object*", kCommon}, Pattern{"debug_print_object", kCommon},
    Pattern{"debug_check_no_obj_freed", kCommon}, Pattern{"__debug_check_no_obj_freed", kCommon},
    Pattern{"refcount_*", kCommon}, Pattern{"__refcount_*", kCommon},
    Pattern{"__list_add_valid*", kCommon}, Pattern{"__list_del_entry_valid*", kCommon}, Pattern{"__list_valid_slowpath", kCommon},
    Pattern{"__list_del_entry", kCommon}, Pattern{"list_del_entry*", kCommon}, Pattern{"list_del", kCommon},
    Pattern{"list_del_init", kCommon}, Pattern{"__list_add", kCommon}, Pattern{"list_add", kCommon}, Pattern{"list_add_tail", kCommon},
    Pattern{"slab_err", kCommon}, Pattern{"slab_bug", kCommon}, Pattern{"object_err", kCommon}, Pattern{"print_trailer", kCommon},
    Pattern{"check_bytes_and_report", kCommon}, Pattern{"check_object", kCommon}, Pattern{"check_slab", kCommon},
    Pattern{"free_consistency_checks", kCommon}, Pattern{"alloc_consistency_checks", kCommon},
    Pattern{"free_debug_processing", kCommon}, Pattern{"alloc_debug_processing", kCommon},
    Pattern{"on_freelist", kCommon}, Pattern{"check_valid_pointer", kCommon},
    // How the CPU got to the report: exceptions, entry code, the oops path.
    Pattern{"asm_*", kCommon}, Pattern{"exc_*", kCommon}, Pattern{"entry_*", kCommon}, Pattern{"do_error_trap", kCommon},
    Pattern{"do_trap", kCommon}, Pattern{"do_int3*", kCommon}, Pattern{"die", kCommon}, Pattern{"__die*", kCommon},
    Pattern{"die_*", kCommon}, Pattern{"oops_*", kCommon}, Pattern{"page_fault_oops", kCommon},
    Pattern{"kernelmode_fixup_or_oops*", kCommon}, Pattern{"__bad_area_nosemaphore", kCommon}, Pattern{"bad_area_nosemaphore", kCommon},
    Pattern{"do_user_addr_fault", kCommon}, Pattern{"do_kern_addr_fault", kCommon}, Pattern{"handle_page_fault", kCommon},
    Pattern{"no_context", kCommon}, Pattern{"fixup_exception", kCommon}, Pattern{"math_error", kCommon},
    Pattern{"handle_invalid_op", kCommon}, Pattern{"handle_stack_overflow", kCommon}, Pattern{"do_general_protection", kCommon},
    Pattern{"do_mem_abort", kCommon}, Pattern{"do_page_fault", kCommon}, Pattern{"do_translation_fault", kCommon},
    Pattern{"__do_kernel_fault*", kCommon}, Pattern{"el1_*", kCommon}, Pattern{"el0_*", kCommon}, Pattern{"bug_handler", kCommon},
    Pattern{"brk_handler", kCommon}, Pattern{"call_break_hook", kCommon}, Pattern{"do_debug_exception", kCommon},
    Pattern{"arm64_*", kCommon}, Pattern{"invoke_syscall", kCommon}, Pattern{"do_syscall_*", kCommon},
    Pattern{"crash_kexec", kCommon}, Pattern{"__crash_kexec", kCommon}, Pattern{"machine_kexec", kCommon},
    // Locking primitives, the generic string and copy helpers: a bug is noticed in them, made elsewhere.
    Pattern{"_raw_*", kCommon}, Pattern{"__raw_*", kCommon}, Pattern{"do_raw_*", kCommon}, Pattern{"queued_*", kCommon},
    Pattern{"native_queued_*", kCommon}, Pattern{"__pv_queued_*", kCommon}, Pattern{"pv_queued_*", kCommon},
    Pattern{"spin_*", kCommon}, Pattern{"__spin_*", kCommon}, Pattern{"rt_spin_*", kCommon}, Pattern{"rtlock_*", kCommon},
    Pattern{"rt_mutex_*", kCommon}, Pattern{"__rt_mutex_*", kCommon}, Pattern{"rt_read_*", kCommon}, Pattern{"rt_write_*", kCommon},
    Pattern{"mutex_*", kCommon}, Pattern{"__mutex_*", kCommon}, Pattern{"down", kCommon}, Pattern{"down_*", kCommon},
    Pattern{"__down*", kCommon}, Pattern{"up_*", kCommon}, Pattern{"rwsem_*", kCommon}, Pattern{"__rwsem_*", kCommon},
    Pattern{"percpu_down_*", kCommon}, Pattern{"__percpu_down_*", kCommon}, Pattern{"percpu_up_*", kCommon},
    Pattern{"memcpy*", kCommon}, Pattern{"__memcpy*", kCommon}, Pattern{"memmove*", kCommon}, Pattern{"__memmove*", kCommon},
    Pattern{"memset*", kCommon}, Pattern{"__memset*", kCommon}, Pattern{"memcmp", kCommon}, Pattern{"__memcmp", kCommon},
    Pattern{"bcmp", kCommon}, Pattern{"memchr*", kCommon}, Pattern{"strlen", kCommon}, Pattern{"strnlen", kCommon},
    Pattern{"strcmp", kCommon}, Pattern{"strncmp", kCommon}, Pattern{"strcpy", kCommon}, Pattern{"strncpy", kCommon},
    Pattern{"strscpy*", kCommon}, Pattern{"strlcpy", kCommon}, Pattern{"strcat", kCommon}, Pattern{"strchr", kCommon},
    Pattern{"strrchr", kCommon}, Pattern{"strstr", kCommon}, Pattern{"strsep", kCommon}, Pattern{"sized_strscpy", kCommon},
    Pattern{"fortify_*", kCommon}, Pattern{"__fortify_*", kCommon},
    Pattern{"copy_to_user", kCommon}, Pattern{"copy_from_user", kCommon}, Pattern{"_copy_to_user", kCommon},
    Pattern{"_copy_from_user", kCommon}, Pattern{"__copy_to_user*", kCommon}, Pattern{"__copy_from_user*", kCommon},
    Pattern{"raw_copy_*", kCommon}, Pattern{"rep_movs_alternative", kCommon}, Pattern{"copy_user_*", kCommon},
    Pattern{"kref_*", kCommon}, Pattern{"__sanitizer_cov_*", kCommon}, Pattern{"write_comp_data", kCommon},
    Pattern{"instrument_*", kCommon}, Pattern{"check_copy_size", kCommon}, Pattern{"__check_object_size", kCommon},
    Pattern{"check_heap_object", kCommon}, Pattern{"usercopy_abort", kCommon},
    // The scheduler's waits: a hung task is stuck in its caller, not in schedule().
    Pattern{"__schedule", kScheduler | kCommon}, Pattern{"schedule", kScheduler}, Pattern{"schedule_*", kScheduler},
    Pattern{"preempt_schedule*", kScheduler}, Pattern{"io_schedule*", kScheduler}, Pattern{"__wait_for_common", kScheduler},
    Pattern{"wait_for_common*", kScheduler}, Pattern{"do_wait_for_common", kScheduler}, Pattern{"wait_for_completion*", kScheduler},
    Pattern{"bit_wait*", kScheduler}, Pattern{"__wait_on_bit*", kScheduler}, Pattern{"out_of_line_wait_on_bit*", kScheduler},
    Pattern{"wait_on_page_bit*", kScheduler}, Pattern{"folio_wait_bit*", kScheduler}, Pattern{"__folio_lock*", kScheduler},
    Pattern{"__lock_page*", kScheduler}, Pattern{"prepare_to_wait*", kScheduler}, Pattern{"finish_wait", kScheduler},
    Pattern{"__wait_rcu_gp", kScheduler}, Pattern{"synchronize_rcu*", kScheduler}, Pattern{"__synchronize_srcu", kScheduler},
    Pattern{"wait_rcu_exp_gp", kScheduler}, Pattern{"msleep*", kScheduler}, Pattern{"usleep_range*", kScheduler},
    Pattern{"do_nanosleep", kScheduler}, Pattern{"hrtimer_nanosleep", kScheduler}, Pattern{"rcu_gp_kthread", kScheduler},
    Pattern{"context_switch", kScheduler}, Pattern{"finish_task_switch*", kScheduler}, Pattern{"__switch_to*", kScheduler},
    // The allocators' entry points: a leak is the allocation's caller.
    Pattern{"kmalloc*", kAllocator}, Pattern{"__kmalloc*", kAllocator}, Pattern{"kzalloc*", kAllocator},
    Pattern{"kcalloc*", kAllocator}, Pattern{"krealloc*", kAllocator}, Pattern{"__krealloc", kAllocator},
    Pattern{"kmalloc_array*", kAllocator}, Pattern{"kvmalloc*", kAllocator}, Pattern{"__kvmalloc*", kAllocator},
    Pattern{"kvzalloc*", kAllocator}, Pattern{"kmemdup*", kAllocator}, Pattern{"kstrdup*", kAllocator},
    Pattern{"kstrndup", kAllocator}, Pattern{"kmem_cache_alloc*", kAllocator}, Pattern{"kmem_cache_zalloc", kAllocator},
    Pattern{"__kmem_cache_alloc*", kAllocator}, Pattern{"slab_alloc*", kAllocator}, Pattern{"__slab_alloc*", kAllocator},
    Pattern{"___slab_alloc", kAllocator}, Pattern{"slab_post_alloc_hook", kAllocator}, Pattern{"kmemleak_*", kAllocator},
    Pattern{"__kmemleak_*", kAllocator}, Pattern{"create_object", kAllocator}, Pattern{"__create_object", kAllocator},
    Pattern{"kfree*", kAllocator}, Pattern{"kmem_cache_free*", kAllocator}, Pattern{"slab_free*", kAllocator},
    Pattern{"__slab_free", kAllocator}, Pattern{"do_slab_free", kAllocator}, Pattern{"__do_kmalloc_node", kAllocator},
    Pattern{"vmalloc*", kAllocator}, Pattern{"__vmalloc*", kAllocator}, Pattern{"vzalloc*", kAllocator},
    Pattern{"alloc_pages*", kAllocator | kPageAllocator}, Pattern{"__alloc_pages*", kAllocator | kPageAllocator},
    Pattern{"folio_alloc*", kAllocator | kPageAllocator}, Pattern{"__folio_alloc*", kAllocator | kPageAllocator},
    Pattern{"alloc_slab_page", kAllocator}, Pattern{"allocate_slab", kAllocator}, Pattern{"new_slab", kAllocator},
    Pattern{"get_partial*", kAllocator}, Pattern{"__kmem_cache_*", kAllocator},
    // The page allocator's checks.
    Pattern{"bad_page", kPageAllocator}, Pattern{"free_page_is_bad*", kPageAllocator}, Pattern{"check_free_page*", kPageAllocator},
    Pattern{"free_tail_page*", kPageAllocator}, Pattern{"free_pages_prepare", kPageAllocator}, Pattern{"free_unref_page*", kPageAllocator},
    Pattern{"free_unref_folios", kPageAllocator}, Pattern{"__free_pages*", kPageAllocator}, Pattern{"free_pages*", kPageAllocator},
    Pattern{"__free_one_page", kPageAllocator}, Pattern{"__folio_put*", kPageAllocator}, Pattern{"folio_put*", kPageAllocator},
    Pattern{"folios_put*", kPageAllocator}, Pattern{"put_page*", kPageAllocator}, Pattern{"__put_page", kPageAllocator},
    Pattern{"release_pages", kPageAllocator}, Pattern{"check_new_page*", kPageAllocator}, Pattern{"prep_new_page", kPageAllocator},
    Pattern{"get_page_from_freelist", kPageAllocator}, Pattern{"print_bad_pte", kPageAllocator}, Pattern{"vm_normal_page", kPageAllocator},
    // The OOM killer's path from an allocation that failed.
    Pattern{"dump_header", kPageAllocator}, Pattern{"oom_kill_process", kPageAllocator}, Pattern{"out_of_memory", kPageAllocator},
    Pattern{"__alloc_pages_may_oom", kPageAllocator}, Pattern{"pagefault_out_of_memory", kPageAllocator},
    Pattern{"mem_cgroup_out_of_memory", kPageAllocator}, Pattern{"vma_alloc_folio*", kPageAllocator},
    Pattern{"alloc_page_vma*", kPageAllocator}, Pattern{"alloc_pages_mpol*", kPageAllocator},
    // The interrupt that noticed a stall or a lockup.
    Pattern{"rcu_*", kInterrupt}, Pattern{"print_cpu_stall*", kInterrupt}, Pattern{"check_cpu_stall", kInterrupt},
    Pattern{"update_process_times", kInterrupt}, Pattern{"tick_*", kInterrupt}, Pattern{"hrtimer_*", kInterrupt},
    Pattern{"__hrtimer_run_queues", kInterrupt}, Pattern{"__sysvec_*", kInterrupt}, Pattern{"sysvec_*", kInterrupt},
    Pattern{"watchdog_timer_fn", kInterrupt}, Pattern{"watchdog_overflow_callback", kInterrupt}, Pattern{"__perf_event_overflow", kInterrupt},
    Pattern{"perf_event_nmi_handler", kInterrupt}, Pattern{"nmi_handle", kInterrupt}, Pattern{"default_do_nmi", kInterrupt},
    Pattern{"irq_exit*", kInterrupt}, Pattern{"__irq_exit_rcu", kInterrupt}, Pattern{"handle_softirqs", kInterrupt},
    Pattern{"__do_softirq", kInterrupt}, Pattern{"nmi_cpu_backtrace*", kInterrupt}, Pattern{"nmi_trigger_cpumask_backtrace", kInterrupt},
    Pattern{"arch_trigger_cpumask_backtrace", kInterrupt}, Pattern{"trigger_all_cpu_backtrace", kInterrupt},
    Pattern{"trigger_single_cpu_backtrace", kInterrupt},
    Pattern{"sched_tick", kInterrupt}, Pattern{"scheduler_tick", kInterrupt},
};

bool matches(std::string_view pattern, std::string_view name) {
  return pattern.ends_with('*') ? name.starts_with(pattern.substr(0, pattern.size() - 1)) : name == pattern;
}

}  // namespace

std::optional<StackFrame> parse_location(std::string_view s) {
  s = trim_left(s);
  size_t n = 0;
  while (n < s.size() && symbol_char(s[n])) ++n;
  if (n == 0 || std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '.') return std::nullopt;
  std::string_view rest = s.substr(n);
  if (!offset_at(rest) && !(rest.starts_with(' ') && source_at(rest.substr(1)))) return std::nullopt;
  return StackFrame{std::string(s.substr(0, n)), module_in(rest), true};
}

std::optional<StackFrame> parse_frame(std::string_view line) {
  std::string_view s = trim_left(line);
  if (s.starts_with("[<")) {  // the address before the symbol (kernels before 4.14, kmemleak)
    size_t close = s.find(">]");
    if (close == std::string_view::npos) return std::nullopt;
    s = trim_left(s.substr(close + 2));
  }
  bool reliable = true;
  if (s.starts_with("? ")) {
    reliable = false;
    s.remove_prefix(2);
  }
  auto frame = parse_location(s);
  if (frame) frame->reliable = reliable;
  return frame;
}

bool is_machinery(std::string_view function, unsigned sets) {
  std::string_view base = rules::function_base_name(function);
  for (const Pattern& p : kMachinery) {
    if ((p.sets == kCommon || (p.sets & sets)) && matches(p.text, base)) return true;
  }
  return false;
}

}  // namespace coroner::console
