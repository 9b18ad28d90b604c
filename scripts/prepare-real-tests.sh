#!/usr/bin/env bash
# Makes (or finds in the cache) the real dumps and crash's answers on them, then writes their
# directory to OUT_FILE for the real-kernel tests.   scripts/prepare-real-tests.sh OUT_FILE
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out_file=$1
dir=$("$here/real-dumps.sh")
commands=$here/../tests/realkernel/crash-commands.txt
for scenario in "$dir"/*/; do
  [[ -f $scenario/vmcore.kdump-zlib ]] || continue
  scenario=${scenario%/}
  "$here/crash-oracle.sh" "$dir/kernel/vmlinux" "$scenario/vmcore.kdump-zlib" "$commands" "$scenario/oracle-kdump"
done
"$here/crash-oracle.sh" "$dir/kernel/vmlinux" "$dir/sysrq-nokaslr/vmcore.elf" "$commands" "$dir/sysrq-nokaslr/oracle-elf"
# Types and values: one vmlinux, so one dump is enough.
"$here/crash-oracle.sh" "$dir/kernel/vmlinux" "$dir/sysrq-kaslr/vmcore.kdump-zlib" \
  "$here/../tests/realkernel/crash-types-commands.txt" "$dir/sysrq-kaslr/oracle-types"
echo "$dir" > "$out_file"
echo "real dumps and crash oracles ready in $dir"
