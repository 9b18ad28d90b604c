#!/usr/bin/env bash
# Builds the dump-parser fuzzer with clang (libFuzzer + ASan + UBSan) and runs it for SECONDS.
#   scripts/fuzz.sh [SECONDS]     (default 60)   A crash leaves its input in build-fuzz/crashes/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
build=$root/build-fuzz
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCORONER_SANITIZE=ON \
  -DCORONER_FUZZ=ON -DBUILD_TESTING=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target coroner_fuzz_dump coroner_fuzz_corpus >/dev/null
mkdir -p "$build/corpus" "$build/crashes"
"$build/fuzz/coroner_fuzz_corpus" "$build/corpus"
"$build/fuzz/coroner_fuzz_dump" -max_total_time="$seconds" -max_len=1200000 -rss_limit_mb=4096 \
  -artifact_prefix="$build/crashes/" -print_final_stats=1 "$build/corpus" 2>&1 | tail -n 15
