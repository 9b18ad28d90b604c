#!/usr/bin/env bash
# Threads against crash on the same vmlinux and dump, with hyperfine:
#   - listing the tasks (coroner ps; crash ps, which on this kernel finds only the tasks on a CPU)
#   - every task's backtrace (coroner bt --all; crash foreach bt)
#   - a search of all memory for one value (coroner search; crash search -k), on the ELF dump so
#     that neither pays for zlib, next to the machine's memchr bandwidth over the same bytes.
# drgn 0.0.22 cannot open QEMU's dumps (see types.sh); it opens the kdump ones (kdump-kaslr), where
# its task listing (for_each_task: pid and comm) is timed next to coroner ps.
#
#   bench/threads.sh [SCENARIO]      default: sysrq-kaslr
set -euo pipefail
scenario=${1:-sysrq-kaslr}
source "$(dirname "$0")/lib.sh"
dump=$dir/$scenario/vmcore.kdump-zlib
elf_dump=$dir/$scenario/vmcore.elf
value=$("$coroner" print "$dump" -k "$vmlinux" '&init_task' | awk '{print $3}')
printf 'ps\nquit\n' > "$out/ps.cmd"
printf 'foreach bt\nquit\n' > "$out/bt.cmd"
printf 'search -k %s\nquit\n' "$value" > "$out/search.cmd"
printf 'quit\n' > "$out/start.cmd"

echo "dump $dump ($(du -h "$elf_dump" | cut -f1) of memory), $(nproc) cores"
report c_ps     "coroner ps"                       "$(run c_ps --warmup 2 --runs 15 "$coroner ps $dump -k $vmlinux")"
report x_ps     "crash -s ps"                      "$(run x_ps --warmup 1 --runs 3 "crash -s $vmlinux $dump -i $out/ps.cmd")"
if [[ $scenario == kdump* ]]; then
  printf 'from drgn.helpers.linux.pid import for_each_task\nfor t in for_each_task(prog):\n    print(t.pid.value_(), t.comm.string_().decode())\n' > "$out/ps.py"
  report d_ps   "drgn for_each_task (pid, comm)"   "$(run d_ps --warmup 1 --runs 10 "drgn -q -c $dump -s $vmlinux $out/ps.py")"
fi
report c_bt     "coroner bt --all"                 "$(run c_bt --warmup 2 --runs 15 "$coroner bt $dump -k $vmlinux --all")"
report x_bt     "crash -s foreach bt"              "$(run x_bt --warmup 1 --runs 3 "crash -s $vmlinux $dump -i $out/bt.cmd")"
report x_start  "crash -s (start and quit only)"   "$(run x_start --warmup 1 --runs 3 "crash -s $vmlinux $dump -i $out/start.cmd")"
report c_search "coroner search &init_task (ELF)"  "$(run c_search --warmup 1 --runs 10 "$coroner search $elf_dump -k $vmlinux $value")"
report x_search "crash -s search -k (ELF)"         "$(run x_search --warmup 1 --runs 3 "crash -s $vmlinux $elf_dump -i $out/search.cmd")"
report c_phys   "coroner search --physical (ELF)"  "$(run c_phys --warmup 1 --runs 10 "$coroner search $elf_dump -k $vmlinux $value --physical")"
# The physical limit: the kernel's page cache copy and a memchr over the same file.
cat > "$out/memchr.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char** argv) {
  FILE* f = fopen(argv[1], "rb");
  static char buf[1 << 20];
  size_t n, hits = 0, total = 0;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
    total += n;
    for (char* p = buf; (p = memchr(p, 0x5a, buf + n - p)); ++p) ++hits;
  }
  printf("%zu %zu\n", total, hits);
  return 0;
}
C
cc -O2 -o "$out/memchr" "$out/memchr.c"
report memchr   "fread + memchr over the ELF dump" "$(run memchr --warmup 1 --runs 10 "$out/memchr $elf_dump")"
mib=$(( $(stat -c %s "$elf_dump") / 1048576 ))
echo
echo "ps:     crash/coroner $(ratio "${mean[x_ps]}" "${mean[c_ps]}")${mean[d_ps]:+; drgn/coroner $(ratio "${mean[d_ps]:-1}" "${mean[c_ps]}")}"
echo "bt:     crash/coroner $(ratio "${mean[x_bt]}" "${mean[c_bt]}")"
echo "search: crash/coroner $(ratio "${mean[x_search]}" "${mean[c_search]}"); coroner/memchr $(ratio "${mean[c_phys]}" "${mean[memchr]}")"
/usr/bin/python3 -c "print(f'search --physical: {$mib/float(${mean[c_phys]}):.0f} MiB/s end to end; memchr {$mib/float(${mean[memchr]}):.0f} MiB/s')"
