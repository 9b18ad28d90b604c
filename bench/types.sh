#!/usr/bin/env bash
# The type system against drgn and crash on the same vmlinux and dump, with hyperfine:
#   - time to the first resolved type: a process that loads the debug info and resolves
#     `struct dentry` (coroner struct -o dentry; drgn load_debug_info + prog.type; crash struct -o)
#   - printing init_task as a struct task_struct (coroner print; drgn prog['init_task']; crash p)
# and the peak memory of coroner's run. Prints means and ratios.
#
#   bench/types.sh [SCENARIO]      default: sysrq-kaslr
set -euo pipefail
scenario=${1:-sysrq-kaslr}
source "$(dirname "$0")/lib.sh"
dump=$dir/$scenario/vmcore.kdump-zlib
elf_dump=$dir/$scenario/vmcore.elf
printf 'struct -o dentry\nquit\n' > "$out/type.cmd"
printf 'p init_task\nquit\n' > "$out/print.cmd"
cat > "$out/drgn_type.py" <<'PY'
import sys, drgn
p = drgn.Program(drgn.host_platform)
p.load_debug_info([sys.argv[1]])
p.type("struct dentry")
PY
# drgn 0.0.22 cannot open QEMU's kdump files; it is given the ELF dump of the same crash.
cat > "$out/drgn_print.py" <<'PY'
import sys, drgn
p = drgn.Program()
p.set_core_dump(sys.argv[1])
p.load_debug_info([sys.argv[2]])
str(p["init_task"])
PY
drgn_print_ok=true
/usr/bin/python3 "$out/drgn_print.py" "$elf_dump" "$vmlinux" >/dev/null 2>"$out/drgn_print.err" || drgn_print_ok=false

echo "vmlinux $(du -h "$vmlinux" | cut -f1), dump $dump, $(nproc) cores"
report c_type  "coroner struct -o dentry"             "$(run c_type --warmup 2 --runs 15 "$coroner struct -k $vmlinux dentry -o")"
report d_type  "drgn load_debug_info + type()"        "$(run d_type --warmup 2 --runs 15 "/usr/bin/python3 $out/drgn_type.py $vmlinux")"
report x_type  "crash -s struct -o dentry"            "$(run x_type --warmup 1 --runs 3 "crash -s $vmlinux $dump -i $out/type.cmd")"
report c_print "coroner print init_task"              "$(run c_print --warmup 2 --runs 15 "$coroner print $dump -k $vmlinux init_task")"
if $drgn_print_ok; then
  report d_print "drgn prog['init_task'] (ELF dump)"  "$(run d_print --warmup 1 --runs 10 "/usr/bin/python3 $out/drgn_print.py $elf_dump $vmlinux")"
else
  echo "drgn prog['init_task']: fails on this dump: $(tail -1 "$out/drgn_print.err")"
fi
report x_print "crash -s p init_task"                 "$(run x_print --warmup 1 --runs 3 "crash -s $vmlinux $dump -i $out/print.cmd")"
echo
echo "first type:  drgn/coroner $(ratio "${mean[d_type]}" "${mean[c_type]}"), crash/coroner $(ratio "${mean[x_type]}" "${mean[c_type]}")"
[[ -n ${mean[d_print]:-} ]] && echo "init_task:   drgn/coroner $(ratio "${mean[d_print]}" "${mean[c_print]}")"
echo "init_task:   crash/coroner $(ratio "${mean[x_print]}" "${mean[c_print]}")"
/usr/bin/time -f "coroner print init_task: peak RSS %M KiB, %e s" "$coroner" print "$dump" -k "$vmlinux" init_task >/dev/null
