#!/usr/bin/env bash
# Builds the fuzzers with clang (libFuzzer + ASan + UBSan) and runs each for SECONDS: the dump
# parsers', then the debug tables' (BTF, kallsyms, DWARF line and range tables, DWARF DIEs built
# into types) and the console logs' (analyze --log) for a third of that each.
#   scripts/fuzz.sh [SECONDS]     (default 60)   A crash leaves its input in build-fuzz/crashes/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
build=$root/build-fuzz
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCORONER_SANITIZE=ON \
  -DCORONER_FUZZ=ON -DBUILD_TESTING=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target coroner_fuzz_dump coroner_fuzz_debug_tables coroner_fuzz_console coroner_fuzz_corpus >/dev/null
mkdir -p "$build/corpus" "$build/corpus-tables" "$build/corpus-console" "$build/crashes"
cp "$root"/tests/console/reports/*.log "$build/corpus-console/"
"$build/fuzz/coroner_fuzz_corpus" "$build/corpus" "$build/corpus-tables"
"$build/fuzz/coroner_fuzz_dump" -max_total_time="$seconds" -max_len=1200000 -rss_limit_mb=4096 \
  -artifact_prefix="$build/crashes/" -print_final_stats=1 "$build/corpus" 2>&1 | tail -n 15
"$build/fuzz/coroner_fuzz_debug_tables" -max_total_time="$((seconds / 3 + 1))" -max_len=65536 -rss_limit_mb=4096 \
  -artifact_prefix="$build/crashes/" -print_final_stats=1 "$build/corpus-tables" 2>&1 | tail -n 15
"$build/fuzz/coroner_fuzz_console" -max_total_time="$((seconds / 3 + 1))" -max_len=65536 -rss_limit_mb=4096 \
  -artifact_prefix="$build/crashes/" -print_final_stats=1 "$build/corpus-console" 2>&1 | tail -n 15
