#!/usr/bin/env bash
# coroner info/log against crash (sys/log) and drgn on the same real dump, with hyperfine.
# Prints each tool's mean time and the ratios. Cold runs drop the page cache before each run.
#
#   bench/info-log.sh [SCENARIO] [FORMAT]      defaults: sysrq-kaslr vmcore.kdump-zlib
set -euo pipefail
scenario=${1:-sysrq-kaslr}
format=${2:-vmcore.kdump-zlib}
source "$(dirname "$0")/lib.sh"
dump=$dir/$scenario/$format
printf 'sys\nquit\n' > "$out/sys.cmd"
printf 'log\nquit\n' > "$out/log.cmd"

# drgn 0.0.22 (Debian 12) cannot open QEMU-made dumps: say what it says, and time what it can do.
drgn_open=$(/usr/bin/python3 - "$dump" "$vmlinux" <<'PY' 2>&1 || true
import sys, drgn
p = drgn.Program()
try:
    p.set_core_dump(sys.argv[1]); p.load_debug_info([sys.argv[2]])
    print("opens the dump")
except Exception as e:
    print(f"fails on this dump: {type(e).__name__}: {e}")
PY
)
cat > "$out/drgn_load.py" <<'PY'
import sys, drgn
p = drgn.Program(drgn.host_platform)
p.load_debug_info([sys.argv[1]])
p.type("struct dentry")
PY

cold_prepare=true
if echo 3 > /proc/sys/vm/drop_caches 2>/dev/null; then cold_prepare='sync; echo 3 > /proc/sys/vm/drop_caches'; fi

echo "dump: $dump ($(du -h "$dump" | cut -f1)), vmlinux $(du -h "$vmlinux" | cut -f1)"
report info_warm  "coroner info (warm)"            "$(run info_warm --warmup 2 --runs 20 "$coroner info $dump --vmlinux $vmlinux")"
report info_cold  "coroner info (cold page cache)" "$(run info_cold --runs 5 --prepare "$cold_prepare" "$coroner info $dump --vmlinux $vmlinux")"
report log_warm   "coroner log (warm)"             "$(run log_warm --warmup 2 --runs 20 "$coroner log $dump --vmlinux $vmlinux")"
report crash_sys  "crash -s sys (warm)"            "$(run crash_sys --warmup 1 --runs 5 "crash -s $vmlinux $dump -i $out/sys.cmd")"
report crash_log  "crash -s log (warm)"            "$(run crash_log --warmup 1 --runs 5 "crash -s $vmlinux $dump -i $out/log.cmd")"
report drgn_load  "drgn load_debug_info + a type (warm)" "$(run drgn_load --warmup 1 --runs 5 "/usr/bin/python3 $out/drgn_load.py $vmlinux")"
echo "drgn $(/usr/bin/python3 -c 'import drgn; print(drgn.__version__)') on this dump: $drgn_open"
echo "crash sys / coroner info:  $(ratio "${mean[crash_sys]}" "${mean[info_warm]}" 1)"
echo "crash log / coroner log:   $(ratio "${mean[crash_log]}" "${mean[log_warm]}" 1)"
echo "drgn ready / coroner info: $(ratio "${mean[drgn_load]}" "${mean[info_warm]}" 1)"
