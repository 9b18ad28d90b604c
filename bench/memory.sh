#!/usr/bin/env bash
# Freed memory against crash and the machine's limits, with hyperfine, on the test module's dump
# (slub_debug=FZPU: every cache debugged, ~15k runs of poison):
#   - scan: coroner scan's pass over all memory (the time it reports for the pass alone, and the
#     command end to end) next to memchr and memcpy over the same bytes, one core each
#   - kmem -s: coroner against crash
#
#   bench/memory.sh [SCENARIO]      default: slub-uaf
set -euo pipefail
scenario=${1:-slub-uaf}
source "$(dirname "$0")/lib.sh"
dump=$dir/$scenario/vmcore.kdump-zlib
elf_dump=$dir/$scenario/vmcore.elf
printf 'kmem -s\nquit\n' > "$out/kmem.cmd"
cat > "$out/limits.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* argv[2] = "memchr" or "memcpy": one pass over the file in 1 MiB reads, as coroner reads it. */
int main(int argc, char** argv) {
  FILE* f = fopen(argv[1], "rb");
  static char buf[1 << 20], copy[1 << 20];
  size_t n, hits = 0;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
    if (strcmp(argv[2], "memchr") == 0) {
      for (char* p = buf; (p = memchr(p, 0x6b, buf + n - p)); ++p) ++hits;
    } else {
      memcpy(copy, buf, n);
      hits += (unsigned char)copy[n / 2];
    }
  }
  printf("%zu\n", hits);
  return 0;
}
C
cc -O2 -o "$out/limits" "$out/limits.c"
echo "dump $elf_dump ($(du -h "$elf_dump" | cut -f1)), $(nproc) cores"
report c_scan   "coroner scan (ELF), end to end"    "$(run c_scan --warmup 1 --runs 10 "$coroner scan $elf_dump -k $vmlinux")"
report memchr   "fread + memchr over the ELF dump"  "$(run memchr --warmup 1 --runs 10 "$out/limits $elf_dump memchr")"
report memcpy   "fread + memcpy over the ELF dump"  "$(run memcpy --warmup 1 --runs 10 "$out/limits $elf_dump memcpy")"
report c_kmem   "coroner kmem -s"                   "$(run c_kmem --warmup 1 --runs 10 "$coroner kmem $dump -k $vmlinux")"
report x_kmem   "crash -s kmem -s"                  "$(run x_kmem --warmup 1 --runs 3 "crash -s $vmlinux $dump -i $out/kmem.cmd")"
pass=$("$coroner" scan "$elf_dump" -k "$vmlinux" --threads 1 --json 2>/dev/null | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["bytes_scanned"], j["scan_seconds"])')
read -r bytes seconds <<<"$pass"
mib=$(( $(stat -c %s "$elf_dump") / 1048576 ))
echo
/usr/bin/python3 -c "print(f'scan pass: {$bytes/1048576/float($seconds):.0f} MiB/s on one core (the pass alone, as scan reports it)')"
/usr/bin/python3 -c "print(f'end to end: scan {$mib/float(${mean[c_scan]}):.0f} MiB/s; memchr {$mib/float(${mean[memchr]}):.0f} MiB/s; memcpy {$mib/float(${mean[memcpy]}):.0f} MiB/s')"
echo "kmem -s: crash/coroner $(ratio "${mean[x_kmem]}" "${mean[c_kmem]}")"
