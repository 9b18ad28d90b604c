#!/usr/bin/env bash
# Makes (or finds in the cache) the real dumps and crash's answers on them, then writes their
# directory to OUT_FILE for the real-kernel tests.   scripts/prepare-real-tests.sh OUT_FILE
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out_file=$1
dir=$("$here/real-dumps.sh")
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
echo "$dir" > "$out_file"
echo "real dumps and crash oracles ready in $dir"
