#!/usr/bin/env bash
# The test command: installs what is missing, builds under ASan+UBSan with warnings as errors, makes
# (or reuses) the real dumps and crash's answers on them, and runs every test with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCORONER_SANITIZE=ON -DCORONER_WERROR=ON >/dev/null
cmake --build build-asan -j"$(nproc)"
cd build-asan
ctest --output-on-failure --timeout 2400 -j"$(nproc)"
