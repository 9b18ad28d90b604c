#!/usr/bin/env bash
# Every command cold (empty index cache) and warm (its entry present), side by side with drgn and
# crash on the same real kdump capture, with hyperfine; the cache's size on disk; and scan's pass
# over a QEMU ELF dump next to memchr over the same bytes.
#   - ps:     coroner ps;               drgn load_debug_info + for_each_task (pid, comm)
#   - bt:     coroner bt --all;         drgn the same + stack_trace() of every task, printed
#   - whatis: coroner whatis &init_task; drgn the same + identify_address()
#   - struct: coroner struct -o dentry; drgn load_debug_info + prog.type("struct dentry"), printed
#   - analyze: coroner analyze;         crash sys + bt (what a user runs first)
#
#   bench/cache.sh [SCENARIO [ELF_SCENARIO]]      default: kdump-uaf sysrq-kaslr
set -euo pipefail
scenario=${1:-kdump-uaf}
elf_scenario=${2:-sysrq-kaslr}
source "$(dirname "$0")/lib.sh"
dump=$dir/$scenario/vmcore.kdump-zlib
elf_dump=$dir/$elf_scenario/vmcore.elf
export XDG_CACHE_HOME=$out/xdg
empty="rm -rf $XDG_CACHE_HOME/coroner"
address=$("$coroner" print "$dump" -k "$vmlinux" '&init_task' | awk '{print $3}')

cat > "$out/peer.py" <<'PY'
import sys, drgn
from drgn.helpers.linux.pid import for_each_task
from drgn.helpers.common.memory import identify_address
what, dump, vmlinux = sys.argv[1:4]
p = drgn.Program()
if what != "struct":
    p.set_core_dump(dump)
p.load_debug_info([vmlinux])
if what == "ps":
    for t in for_each_task(p):
        print(t.pid.value_(), t.comm.string_().decode())
elif what == "bt":
    for t in for_each_task(p):
        try:
            print(p.stack_trace(t))
        except ValueError as e:  # a task running on a CPU of a dump without its registers
            print(e)
elif what == "whatis":
    print(identify_address(p, int(sys.argv[4], 16)))
elif what == "struct":
    print(p.type("struct dentry"))
PY
printf 'sys\nbt\nquit\n' > "$out/analyze.cmd"

echo "dump $dump ($(du -h "$dump" | cut -f1)), vmlinux $(du -h "$vmlinux" | cut -f1), $(nproc) cores"
printf '%-8s %10s %10s %10s %8s %8s  %s\n' command cold warm peer warm/peer cold/peer peer
row() {  # name, coroner arguments, peer label, peer command
  local name=$1 args=$2 label=$3 peer=$4
  read -r cold _ <<<"$(run "${name}_cold" --runs 5 --prepare "$empty" "$coroner $args")"
  read -r warm _ <<<"$(run "${name}_warm" --warmup 1 --runs 10 "$coroner $args")"
  read -r other _ <<<"$(run "${name}_peer" --warmup 1 --runs 5 "$peer")"
  printf '%-8s %9.3fs %9.3fs %9.3fs %8s %8s  %s\n' "$name" "$cold" "$warm" "$other" \
    "$(ratio "$warm" "$other")" "$(ratio "$cold" "$other")" "$label"
}
row ps      "ps $dump -k $vmlinux"                 "drgn for_each_task"     "/usr/bin/python3 $out/peer.py ps $dump $vmlinux"
row bt      "bt $dump -k $vmlinux --all"           "drgn stack_trace, all"  "/usr/bin/python3 $out/peer.py bt $dump $vmlinux"
row whatis  "whatis $dump -k $vmlinux $address"    "drgn identify_address"  "/usr/bin/python3 $out/peer.py whatis $dump $vmlinux $address"
row struct  "struct -k $vmlinux dentry -o"         "drgn prog.type"         "/usr/bin/python3 $out/peer.py struct $dump $vmlinux"
row analyze "analyze $dump -k $vmlinux"            "crash sys + bt"         "crash -s $vmlinux $dump -i $out/analyze.cmd"
for cmd in "ps $dump -k $vmlinux" "analyze $dump -k $vmlinux"; do
  /usr/bin/time -f "peak RSS, warm: %M KiB  coroner ${cmd%% *}" "$coroner" $cmd >/dev/null 2>"$out/rss" || true
  tail -1 "$out/rss"
done
/usr/bin/time -f "peak RSS: %M KiB  drgn for_each_task" /usr/bin/python3 "$out/peer.py" ps "$dump" "$vmlinux" >/dev/null 2>"$out/rss"
tail -1 "$out/rss"
/usr/bin/time -f "peak RSS: %M KiB  crash sys + bt" crash -s "$vmlinux" "$dump" -i "$out/analyze.cmd" >/dev/null 2>"$out/rss"
tail -1 "$out/rss"
echo "index cache on disk: $(du -sh "$XDG_CACHE_HOME/coroner/index" | cut -f1) ($(ls "$XDG_CACHE_HOME/coroner/index" | wc -l) entries)"

# scan's pass, as it reports itself, on one core and on all, next to memchr over the same file
# (warm, one core): the QEMU-style ELF dump, the slub_debug kdump capture's ELF and its compressed
# form (the same runs in each, so the pass's speed is comparable across forms).
cat > "$out/memchr.c" <<'C'
#include <stdio.h>
#include <string.h>
int main(int argc, char** argv) {
  FILE* f = fopen(argv[1], "rb");
  static char buf[1 << 20];
  size_t n, hits = 0;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0)
    for (char* p = buf; (p = memchr(p, 0x6b, buf + n - p)); ++p) ++hits;
  printf("%zu\n", hits);
  return 0;
}
C
cc -O2 -o "$out/memchr" "$out/memchr.c"
# Median MiB/s of five passes, and the runs found: scan_rate DUMP [--threads N]
scan_rate() {
  local target=$1; shift
  "$coroner" scan "$target" -k "$vmlinux" "$@" >/dev/null 2>&1
  for i in 1 2 3 4 5; do
    "$coroner" scan "$target" -k "$vmlinux" --json "$@" 2>/dev/null |
      /usr/bin/python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["bytes_scanned"]/1048576/j["scan_seconds"], j["runs"], j["scan_threads"])'
  done | sort -n | sed -n 3p
}
for target in "$elf_dump" "$dir/$scenario/vmcore.elf" "$dump"; do
  [ -f "$target" ] || continue
  read -r one runs _ <<<"$(scan_rate "$target" --threads 1)"
  read -r all _ threads <<<"$(scan_rate "$target")"
  line="scan pass over ${target#$dir/}: $(/usr/bin/python3 -c "print(f'{$one/1024:.2f} GiB/s on one core, {$all/1024:.2f} GiB/s on $threads')"), $runs runs"
  if [[ $target != *.elf ]]; then  # compressed: memchr over the file is not over the same bytes
    echo "$line (decompression-bound: zlib pages)"
    continue
  fi
  read -r memchr_s _ <<<"$(run memchr --warmup 1 --runs 10 "$out/memchr $target")"
  mib=$(( $(stat -c %s "$target") / 1048576 ))
  /usr/bin/python3 -c "m=$mib/float($memchr_s); print(f'$line; fread+memchr of the file: {m/1024:.2f} GiB/s on one core; scan/memchr {$one/m:.2f}x per core')"
done
