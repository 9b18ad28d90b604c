#!/usr/bin/env bash
# coroner analyze end to end against crash doing the equivalent manual steps in one batch
# (sys; bt; log; kmem ADDR on the first freed object analyze found, when it found one), on real
# dumps with the real vmlinux, with hyperfine; and coroner again with no vmlinux anywhere (the dump's
# own kallsyms, BTF and ORC). One line per scenario, then the ratios.
#
#   bench/analyze.sh [SCENARIO...]   default: every verdict scenario
set -euo pipefail
source "$(dirname "$0")/lib.sh"
scenarios=("$@")
((${#scenarios[@]})) || scenarios=(slub-uaf oops-null oops-bug slub-overwrite list-corruption freed-lock hung-task kdump-kaslr)
echo "$(nproc) cores; dumps in $dir"
for scenario in "${scenarios[@]}"; do
  dump=$dir/$scenario/vmcore.kdump-zlib
  analyze="$coroner analyze $dump -k $vmlinux --modules $dir/test-module"
  object=$($analyze --format json | /usr/bin/python3 -c \
    'import json,sys; print(next((o["address"] for o in json.load(sys.stdin)["objects"] if o["state"] == "free"), ""))')
  printf 'sys\nbt\nlog\n%s\nquit\n' "${object:+kmem $object}" > "$out/manual-$scenario.cmd"
  echo
  echo "$scenario ($dump)"
  report "c_$scenario" "  coroner analyze (text)" "$(run "c_$scenario" --warmup 1 --runs 10 "$analyze")"
  report "b_$scenario" "  coroner analyze, no vmlinux (kallsyms, BTF)" \
    "$(run "b_$scenario" --warmup 1 --runs 10 "env CORONER_DEBUG_PATH= DEBUGINFOD_URLS= $coroner analyze $dump --modules $dir/test-module")"
  report "x_$scenario" "  crash -s: sys; bt; log${object:+; kmem $object}" \
    "$(run "x_$scenario" --warmup 1 --runs 3 "crash -s $vmlinux $dump -i $out/manual-$scenario.cmd")"
done
echo
for scenario in "${scenarios[@]}"; do
  printf '%-16s coroner %.3f s, no vmlinux %.3f s, crash %.3f s: crash/coroner %s, crash/no-vmlinux %s\n' "$scenario" \
    "${mean[c_$scenario]}" "${mean[b_$scenario]}" "${mean[x_$scenario]}" \
    "$(ratio "${mean[x_$scenario]}" "${mean[c_$scenario]}")" "$(ratio "${mean[x_$scenario]}" "${mean[b_$scenario]}")"
done
