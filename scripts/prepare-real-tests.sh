#!/usr/bin/env bash
# Makes (or finds in the cache) the real dumps and crash's answers on them, then writes their
# directories to OUT_FILE for the real-kernel tests, one line each, the reference kernel's first.
#   scripts/prepare-real-tests.sh OUT_FILE
# CORONER_KERNELS chooses the kernel flavours (scripts/real-dumps.sh; default: all of them).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out_file=$1
read -r -a flavours <<<"${CORONER_KERNELS:-all}"
dirs=$("$here/real-dumps.sh" "${flavours[@]}")
dir=$(head -n1 <<<"$dirs")
[[ $(cat "$dir/flavour") == amd64 ]] ||
  { echo "prepare-real-tests: CORONER_KERNELS must start with amd64, the reference kernel" >&2; exit 1; }
commands=$here/../tests/realkernel/crash-commands.txt
# crash is the oracle for these; the verdict scenarios (one per shipped rule) are checked against
# the kernel's own log instead, and each crash session costs ~8 s.
for name in sysrq-nokaslr sysrq-kaslr sysrq-la57 novmcoreinfo-kaslr kdump-kaslr slub-uaf; do
  scenario=$dir/$name
  "$here/crash-oracle.sh" "$dir/kernel/vmlinux" "$scenario/vmcore.kdump-zlib" "$commands" "$scenario/oracle-kdump"
done
"$here/crash-oracle.sh" "$dir/kernel/vmlinux" "$dir/sysrq-nokaslr/vmcore.elf" "$commands" "$dir/sysrq-nokaslr/oracle-elf"
# The test module's objects: their addresses are in its log lines.
slub=$dir/slub-uaf
if [[ -f $slub/console.log ]]; then
  commands_slub=$slub/crash-slub-commands.txt
  {
    echo "sys | sys"
    grep -o 'coroner_test: live\[[0-9]\] = [0-9a-f]* freed\[[0-9]\] = [0-9a-f]*' "$slub/console.log" |
      awk '{ gsub(/[^0-9]/, "", $2); print "kmem_live" $2 " | kmem " $4; print "kmem_freed" $2 " | kmem " $7 }'
  } > "$commands_slub"
  "$here/crash-oracle.sh" "$dir/kernel/vmlinux" "$slub/vmcore.kdump-zlib" "$commands_slub" "$slub/oracle-slub"
fi
# Types and values: one vmlinux, so one dump is enough.
"$here/crash-oracle.sh" "$dir/kernel/vmlinux" "$dir/sysrq-kaslr/vmcore.kdump-zlib" \
  "$here/../tests/realkernel/crash-types-commands.txt" "$dir/sysrq-kaslr/oracle-types"
# drgn reads the real kdump captures of every kernel, 6.12's too (crash 8.0.2 cannot open those):
# its task list is the second oracle for `ps` there.
while read -r d; do
  for file in vmcore.elf vmcore.kdump-zlib; do
    if [[ -f $d/kdump-kaslr/$file ]]; then
      /usr/bin/python3 "$here/drgn-tasks.py" "$d/kdump-kaslr/$file" "$d/kernel/vmlinux" "$d/kdump-kaslr/drgn-tasks-$file.jsonl"
    fi
  done
done <<<"$dirs"
echo "$dirs" > "$out_file"
echo "real dumps ready in:"
echo "$dirs"
