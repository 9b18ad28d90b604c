#!/usr/bin/env bash
# coroner analyze end to end against crash doing the equivalent manual steps in one batch
# (sys; bt; log; kmem ADDR on the object the fault went through), on the test module's
# use-after-free dump with the real vmlinux, with hyperfine.
#
#   bench/analyze.sh [SCENARIO]      default: slub-uaf
set -euo pipefail
scenario=${1:-slub-uaf}
source "$(dirname "$0")/lib.sh"
dump=$dir/$scenario/vmcore.kdump-zlib
object=$(grep -o 'freed\[5\] = [0-9a-f]*' "$dir/$scenario/console.log" | awk '{print $3}')
printf 'sys\nbt\nlog\nkmem %s\nquit\n' "${object:-0}" > "$out/manual.cmd"
echo "dump $dump, $(nproc) cores"
report c_analyze "coroner analyze (text)"            "$(run c_analyze --warmup 1 --runs 10 "$coroner analyze $dump -k $vmlinux --modules $dir/test-module")"
report x_manual  "crash -s: sys; bt; log; kmem ADDR" "$(run x_manual --warmup 1 --runs 3 "crash -s $vmlinux $dump -i $out/manual.cmd")"
echo
echo "analyze: crash/coroner $(ratio "${mean[x_manual]}" "${mean[c_analyze]}")"
