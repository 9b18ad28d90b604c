#!/usr/bin/env bash
# `analyze --log` throughput on one core: every real dump's console log (the scenarios of every
# kernel that were made) and the report corpus (tests/console/reports), analyzed one process each,
# pinned to CPU 0. Prints logs per minute; the issue's bar is 1,000. No vmlinux is read.
#
#   bench/log-titles.sh [ROUNDS]      default 3
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-3}
coroner=${CORONER:-$root/build-release/src/coroner}
[ -x "$coroner" ] || { echo "build $coroner first (cmake --build build-release)" >&2; exit 1; }
logs=()
while read -r kernel; do
  for log in "$kernel"/*/console.log; do [ -f "$log" ] && logs+=("$log"); done
done < <(cat "$root"/build*/tests/realkernel/real-dumps.path 2>/dev/null | sort -u)
logs+=("$root"/tests/console/reports/*.log)
bytes=$(cat "${logs[@]}" | wc -c)
echo "${#logs[@]} logs, $((bytes / 1024)) KiB, $rounds rounds, one process each on CPU 0"
start=$(date +%s.%N)
for _ in $(seq "$rounds"); do
  for log in "${logs[@]}"; do taskset -c 0 "$coroner" analyze --log "$log" --format json > /dev/null; done
done
end=$(date +%s.%N)
/usr/bin/python3 - "$start" "$end" "$(( ${#logs[@]} * rounds ))" <<'PY'
import sys
start, end, n = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
s = end - start
print(f"{n} analyses in {s:.2f} s: {s / n * 1000:.1f} ms a log, {n / s * 60:.0f} logs a minute on one core")
PY
