#!/usr/bin/env bash
# Installs everything coroner needs to build, test and make real dumps, from Debian 12's packages.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

packages=(
  # build
  build-essential cmake pkg-config
  libelf-dev libdwarf-dev libcapstone-dev nlohmann-json3-dev libcli11-dev
  zlib1g-dev liblzo2-dev libsnappy-dev libzstd-dev libyaml-cpp-dev
  # finding the kernel's debug file by build-id on a debuginfod server; the server itself, for its test
  libdebuginfod-dev debuginfod libbpf-dev
  libgtest-dev libgmock-dev
  # fuzzing the dump parsers (libFuzzer comes with clang's runtime)
  clang libclang-rt-14-dev
  # real dumps: Debian's kernel booted under QEMU, and the oracles
  qemu-system-x86 busybox-static cpio xz-utils zstd python3
  crash makedumpfile python3-drgn
  # validating coroner's JSON reports against their schemas in the tests
  python3-jsonschema
  # benchmarks; gdb's gcore makes the user-space core of a test
  hyperfine gdb
)

# A fresh machine has no package lists; scripts/real-dumps.sh needs them for apt-cache too.
if ! ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1; then apt-get update -qq; fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
