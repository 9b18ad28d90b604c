#!/usr/bin/env bash
# Makes real Linux crash dumps: Debian's kernels booted under QEMU (TCG), crashed, and dumped by QEMU
# (QMP dump-guest-memory) or by their own kdump capture kernel (kexec -p, /proc/vmcore, makedumpfile).
#
#   scripts/real-dumps.sh [FLAVOUR...]   make what is missing, print each flavour's dump directory
#
# A flavour names Debian's kernel metapackage linux-image-FLAVOUR: amd64 (the default, Debian 12's
# 6.1, the reference kernel, where crash is the oracle), rt-amd64, 6.12-amd64, 6.12-rt-amd64,
# 6.12-cloud-amd64; `all` is every one. Each has its own set of scenarios: real-dump-kernels.txt
# says which of real-dump-scenarios.txt.
#
# Everything lands in ${CORONER_CACHE:-~/.cache/coroner}, keyed by the kernel package version and a
# hash of the scripts and the test module that make the dumps, so a second run costs nothing:
#   kernel/<package version>-<flavour>/{vmlinuz, vmlinux, release, modules/*.ko, modules.load,
#                                       debug/lib/modules/<release>/...}
#   dumps/<flavour>-<version>-<hash>/test-module/coroner_test.ko  (built against that kernel)
#   dumps/<flavour>-<version>-<hash>/<scenario>/{vmcore.kdump-zlib, console.log, boot.args, ...}
#     The sysrq scenarios also have vmcore.elf, vmcore.kdump-zlib.flat and vmcore.kdump-snappy.flat
#     (every format QEMU writes); the kdump scenario has vmcore.elf (/proc/vmcore) and capture.log
#     (the capture kernel's console); the test-module ones keep the kdump file only.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${CORONER_CACHE:-$HOME/.cache/coroner}
flavour_now=""  # the kernel flavour this process is making, for its log lines
log() { printf 'real-dumps: %s%s\n' "${flavour_now:+$flavour_now: }" "$*" >&2; }

# with_lock NAME COMMAND...: one at a time across the flavours made in parallel (apt and dpkg take
# locks of their own and fail rather than wait).
with_lock() {
  local name=$1; shift
  mkdir -p "$cache"
  flock "$cache/.$name.lock" "$@"
}

kernel_package() {
  # The ABI package the metapackage points at, e.g. linux-image-6.1.0-56-amd64.
  apt-cache depends "linux-image-$1" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}'
}

# Modules every guest loads, in load order, where the kernel has them as modules (a kernel that
# builds one in loads nothing): qemu_fw_cfg hands VMCOREINFO to QEMU; the virtio ones give the kdump
# capture kernel its disks (and every dump a few more modules to resolve).
guest_modules=(
  drivers/firmware/qemu_fw_cfg
  drivers/virtio/virtio_ring drivers/virtio/virtio
  drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci
  drivers/block/virtio_blk
)

# fetch_kernel PACKAGE DIR FLAVOUR
# kernel/<version>-<flavour>/: vmlinuz, vmlinux, modules/<name>.ko (stripped and decompressed, for
# the guest), modules.load (their names, in load order) and, in Debian's debug layout,
# debug/lib/modules/<release>/kernel/<path>.ko (with DWARF, for --modules).
fetch_kernel() {
  local pkg=$1 dir=$2 flavour=$3
  local release=${pkg#linux-image-}
  [[ -s $dir/vmlinux && -s $dir/vmlinuz && -f $dir/modules.load ]] && return 0
  log "fetching $pkg and $pkg-dbg into $cache/debs"
  mkdir -p "$cache/debs"
  rm -rf "$dir" && mkdir -p "$dir/modules" && echo "$flavour" > "$dir/flavour"
  # Stale package lists name versions the mirror no longer has: refresh once and retry.
  (cd "$cache/debs" && { with_lock apt apt-get download "$pkg" "$pkg-dbg" >/dev/null 2>&1 ||
    { with_lock apt apt-get update -qq && with_lock apt apt-get download "$pkg" "$pkg-dbg" >/dev/null; }; })
  local image dbg tmp m
  image=$(ls "$cache/debs/${pkg}_"*.deb | tail -n1)
  dbg=$(ls "$cache/debs/${pkg}-dbg_"*.deb | tail -n1)
  tmp=$(mktemp -d "$cache/extract.XXXXXX")
  # Which guest modules this build has as files (.ko, or compressed as Debian 13's are), and which
  # it builds in; one that is neither cannot give the guest what it needs.
  local listing builtin image_files=("./boot/vmlinuz-$release") debug_files=("./usr/lib/debug/boot/vmlinux-$release")
  listing=$(dpkg-deb -c "$image" | awk '{print $NF}')
  dpkg-deb --fsys-tarfile "$image" | tar -x -C "$tmp" "./lib/modules/$release/modules.builtin"
  builtin=$(cat "$tmp/lib/modules/$release/modules.builtin")
  local loaded=()
  for m in "${guest_modules[@]}"; do
    local file="" suffix
    for suffix in "" .xz .zst .gz; do
      if grep -qxF "./lib/modules/$release/kernel/$m.ko$suffix" <<<"$listing"; then
        file=./lib/modules/$release/kernel/$m.ko$suffix
        break
      fi
    done
    if [[ -n $file ]]; then
      image_files+=("$file")
      debug_files+=("./usr/lib/debug/lib/modules/$release/kernel/$m.ko")
      loaded+=("${m##*/}")
    elif ! grep -qxF "kernel/$m.ko" <<<"$builtin"; then
      log "$pkg has $m neither as a module nor built in"; return 1
    fi
  done
  dpkg-deb --fsys-tarfile "$image" | tar -x -C "$tmp" "${image_files[@]}"
  dpkg-deb --fsys-tarfile "$dbg" | tar -x -C "$tmp" "${debug_files[@]}"
  mv "$tmp/boot/vmlinuz-$release" "$dir/vmlinuz"
  mv "$tmp/usr/lib/debug/boot/vmlinux-$release" "$dir/vmlinux"
  for file in "${image_files[@]:1}"; do
    local ko=$dir/modules/$(basename "${file%.xz}")
    ko=${ko%.zst}; ko=${ko%.gz}
    case $file in
      *.xz) xz -dc "$tmp/$file" > "$ko" ;;
      *.zst) zstd -qdc "$tmp/$file" > "$ko" ;;
      *.gz) gzip -dc "$tmp/$file" > "$ko" ;;
      *) mv "$tmp/$file" "$ko" ;;
    esac
  done
  printf '%s\n' "${loaded[@]}" > "$dir/modules.load"
  mkdir -p "$dir/debug/lib/modules/$release"
  if [[ -d $tmp/usr/lib/debug/lib/modules/$release/kernel ]]; then
    mv "$tmp/usr/lib/debug/lib/modules/$release/kernel" "$dir/debug/lib/modules/$release/kernel"
  fi
  rm -rf "$tmp"
  echo "$release" > "$dir/release"
  # The .debs are only a means; the extracted files are the cache.
  rm -f "$image" "$dbg"
}

# guest-tools/<kexec-tools version>/: Debian's kexec with the libraries it needs that the host
# lacks (Xen's), for the kdump guest. The host's own libraries fill in the rest at initramfs time.
fetch_kexec() {
  # Shared by every flavour: made once, by whichever comes first.
  mkdir -p "$cache"
  ( flock 9; fetch_kexec_unlocked "$1" ) 9>"$cache/.guest-tools.lock"
}
fetch_kexec_unlocked() {
  local dir=$1
  [[ -x $dir/sbin/kexec ]] && return 0
  log "fetching kexec-tools and its libraries into $dir"
  local tmp p
  tmp=$(mktemp -d "$cache/extract.XXXXXX")
  # kexec-tools itself always (a host with it installed, as every kdump user's is, still needs the
  # package's files here); of its libraries, those the host lacks.
  local wanted=(kexec-tools)
  for p in $(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
      --no-replaces --no-enhances --no-pre-depends kexec-tools | grep -E '^lib' | sort -u); do
    dpkg -s "$p" >/dev/null 2>&1 || wanted+=("$p")
  done
  (cd "$tmp" && with_lock apt apt-get download "${wanted[@]}" >/dev/null 2>&1)
  mkdir -p "$tmp/root"
  for p in "$tmp"/*.deb; do dpkg-deb -x "$p" "$tmp/root"; done
  mkdir -p "$dir.new/sbin" "$dir.new/lib"
  cp "$tmp/root/sbin/kexec" "$dir.new/sbin/"
  find "$tmp/root" -name '*.so*' \( -type f -o -type l \) -exec cp -P {} "$dir.new/lib/" \;
  rm -rf "$tmp" "$dir" && mv "$dir.new" "$dir"
}

# copy_with_libs ROOT BINARY [LIBRARY_DIR]: BINARY into ROOT/bin, every library it loads into ROOT/lib.
copy_with_libs() {
  local root=$1 binary=$2 libdir=${3:-}
  cp "$binary" "$root/bin/"
  local lib
  for lib in $(LD_LIBRARY_PATH=$libdir ldd "$binary" | grep -o '/[^ ]*'); do
    cp -L "$lib" "$root/lib/"
  done
  cp -L /lib64/ld-linux-x86-64.so.2 "$root/lib64/"
}

# build_test_module RELEASE OUT_DIR: tests/realkernel/module against Debian's headers for RELEASE
# (installed from linux-headers-RELEASE when missing), into OUT_DIR/coroner_test.ko.
build_test_module() {
  local release=$1 out=$2
  [[ -s $out/coroner_test.ko ]] && return 0
  local headers=/usr/src/linux-headers-$release
  if [[ ! -d $headers ]]; then
    log "installing linux-headers-$release to build the test module"
    DEBIAN_FRONTEND=noninteractive with_lock apt apt-get install -y -qq --no-install-recommends "linux-headers-$release" >/dev/null
  fi
  # Built where it stays, so that the paths in its debug info still name its source.
  local src=$out/src
  rm -rf "$src" && mkdir -p "$src"
  cp "$here/../tests/realkernel/module/"{coroner_test.c,Kbuild,Makefile} "$src/"
  make -s -C "$src" KDIR="$headers" >/dev/null 2>"$src/build.log" ||
    { log "the test module did not build"; cat "$src/build.log" >&2; return 1; }
  mv "$src/coroner_test.ko" "$out/"
}

# make_initramfs KERNEL_DIR KIND OUT: KIND is sysrq, kdump, module:ARGS (the test module, loaded
# with ARGS, commas for spaces, is what crashes the guest) or kdump-module:ARGS (the same, with a
# kdump capture kernel loaded).
make_initramfs() {
  local kdir=$1 scenario=$2 out=$3
  local root m names=() module_args=""
  root=$(mktemp -d)
  mkdir -p "$root"/{bin,lib,lib64,proc,sys,dev,modules}
  cp /bin/busybox "$root/bin/busybox"
  while read -r m; do
    [[ -n $m ]] || continue
    cp "$kdir/modules/$m.ko" "$root/modules/"
    names+=("$m")
  done < "$kdir/modules.load"
  if [[ $scenario == kdump* ]]; then
    # No ':' from the epoch: the directory goes into LD_LIBRARY_PATH.
    local tools=$cache/guest-tools/kexec-$(apt-cache show kexec-tools | awk '/^Version:/ {print $2; exit}' | tr : _)
    fetch_kexec "$tools"
    copy_with_libs "$root" "$tools/sbin/kexec" "$tools/lib"
    copy_with_libs "$root" "$(command -v makedumpfile)"
    cp "$kdir/vmlinuz" "$root/vmlinuz"
  fi
  if [[ $scenario == *module:* ]]; then
    cp "$test_module_dir/coroner_test.ko" "$root/modules/"
    module_args=${scenario#*module:}
    module_args=${module_args//,/ }
  fi
  local kind=${scenario%%:*}
  sed -e "s/@SCENARIO@/${kind%-module}/" -e "s/@MODULES@/${names[*]}/" -e "s/@TEST_MODULE_ARGS@/$module_args/" \
    "$here/guest-init.sh" > "$root/init"
  chmod +x "$root/init"
  (cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 > "$out"
  rm -rf "$root"
}

# wait_for_console LOG PID PATTERN SECONDS: until the guest prints PATTERN; fails if QEMU exits first.
wait_for_console() {
  local console=$1 qemu=$2 pattern=$3 limit=$4 waited=0
  until grep -q "$pattern" "$console" 2>/dev/null; do
    sleep 1; waited=$((waited + 1))
    # QEMU may print the pattern and exit within the same second: look once more before failing.
    if ((waited > limit)) || ! kill -0 "$qemu" 2>/dev/null; then
      grep -q "$pattern" "$console" 2>/dev/null && return 0
      log "guest did not print '$pattern' within ${waited}s; the end of its console log follows"
      tail -n 60 "$console" >&2
      return 1
    fi
  done
}

# stopped_cpus WORK: how many vCPUs are halted with interrupts off (RFLAGS.IF clear), as the
# panic's stop IPI or NMI leaves every CPU but the panicking one (QEMU's `info registers`).
stopped_cpus() {
  "$here/qmp.py" "$1/qmp.sock" '{"execute":"human-monitor-command","arguments":{"command-line":"info registers -a"}}' |
    python3 -c 'import json, re, sys
text = json.load(sys.stdin)
print(sum(1 for rfl, hlt in re.findall(r"RFL=([0-9a-f]+).*HLT=(\d)", text) if hlt == "1" and not int(rfl, 16) & 0x200))'
}

# wait_for_other_cpus_stopped WORK PID: after the panic line, until the other CPU is stopped (or
# panic() printed its end line, which comes later): the dump then shows every CPU where the panic
# left it, however slowly a loaded host runs the guest, and whether or not the console printed
# the rest (PREEMPT_RT's threaded console does not at panic).
wait_for_other_cpus_stopped() {
  local work=$1 qemu=$2 waited=0
  until grep -q 'end Kernel panic - not syncing' "$work/console.log" || (($(stopped_cpus "$work") >= 1)); do
    sleep 1; waited=$((waited + 1))
    if ((waited > 120)) || ! kill -0 "$qemu" 2>/dev/null; then
      log "the panicking guest did not stop its other CPU within ${waited}s; the end of its console log follows"
      tail -n 30 "$work/console.log" >&2
      return 1
    fi
  done
}

# dump_through_qmp WORK FORMATS: QEMU writes the guest's memory in each format asked for (all: every
# format it offers).
dump_through_qmp() {
  local work=$1 formats=$2
  # Debian's QEMU 7.2 offers elf, kdump-zlib and kdump-snappy (no lzo); ask rather than assume.
  if [[ $formats == all ]]; then
    formats=$("$here/qmp.py" "$work/qmp.sock" '{"execute":"query-dump-guest-memory-capability"}' |
      python3 -c 'import json,sys; print(" ".join(f for f in json.load(sys.stdin)["formats"] if f != "win-dmp"))')
  fi
  local format
  for format in $formats; do
    local file=$work/vmcore.$format
    [[ $format == kdump-* ]] && file=$file.flat
    "$here/qmp.py" "$work/qmp.sock" \
      "{\"execute\":\"dump-guest-memory\",\"arguments\":{\"paging\":false,\"protocol\":\"file:$file\",\"format\":\"$format\"}}" >/dev/null
  done
  "$here/qmp.py" "$work/qmp.sock" '{"execute":"quit"}' >/dev/null || true
}

# collect_kdump WORK: the capture kernel wrote /proc/vmcore raw to one disk and makedumpfile's
# flattened output to the other; which is which is told by their first bytes, not by device order.
collect_kdump() {
  local work=$1 disk
  for disk in "$work"/disk-*.img; do
    if [[ $(head -c 4 "$disk" | od -An -c | tr -d ' ') == 177ELF ]]; then
      # The disk is larger than the dump: cut it where the last PT_LOAD ends.
      python3 - "$disk" "$work/vmcore.elf" <<'PY'
import struct, sys
src, dst = sys.argv[1], sys.argv[2]
with open(src, "rb") as f:
    eh = f.read(64)
    phoff, = struct.unpack_from("<Q", eh, 32)
    phentsize, phnum = struct.unpack_from("<HH", eh, 54)
    f.seek(phoff)
    ph = f.read(phentsize * phnum)
    end = phoff + phentsize * phnum
    for i in range(phnum):
        _, _, off, _, _, filesz, _, _ = struct.unpack_from("<IIQQQQQQ", ph, i * phentsize)
        end = max(end, off + filesz)
    f.seek(0)
    with open(dst, "wb") as out:
        while end > 0:
            chunk = f.read(min(end, 1 << 24))
            if not chunk:
                raise SystemExit(f"{src}: ends before its program headers say")
            out.write(chunk)
            end -= len(chunk)
PY
    elif head -c 16 "$disk" | grep -q makedumpfile; then
      makedumpfile -R "$work/vmcore.kdump-zlib" < "$disk" >/dev/null
    fi
  done
  [[ -s $work/vmcore.elf && -s $work/vmcore.kdump-zlib ]] || {
    log "the capture kernel did not write both dumps; the end of its log follows"
    tail -n 40 "$work/console.log" >&2; return 1; }
  rm -f "$work"/disk-*.img
  # One console, two kernels: the tests read the crashed kernel's log, so the capture kernel's
  # (from its own "Linux version" banner on) goes to capture.log.
  (cd "$work" && awk '/Linux version [0-9]/ { n++ } n > 1' console.log > capture.log &&
    awk '/Linux version [0-9]/ { n++ } n <= 1' console.log > console.first && mv console.first console.log)
}

# boot_and_dump KERNEL_DIR OUT_DIR KIND CPU APPEND VMCOREINFO(yes|no)
#   KIND sysrq: crash, then QEMU dumps the guest (elf, kdump-zlib, kdump-snappy).
#   KIND module:ARGS: the same, crashed by the test module loaded with ARGS.
#   KIND kdump: crash into a capture kernel loaded with kexec -p, which saves /proc/vmcore.
#   KIND kdump-module:ARGS: the same, crashed by the test module; an oops goes from oops_end()
#   straight to the capture kernel, with no panic().
# A TCG guest on a loaded host (the tests run beside the dumps being made) can stall in early
# boot and never crash: such a guest is booted once more, and said so; a second failure is a
# failure.
boot_and_dump() {
  local attempt
  for attempt in 1 2; do
    # In a subshell, so that its traps end its own guest. errexit does not reach inside a
    # condition: boot_once checks each step that can fail.
    if (boot_once "$@"); then return 0; fi
    ((attempt == 1)) && log "the guest of $(basename "$2") did not get to its dump; booting it once more"
  done
  return 1
}

boot_once() {
  local kdir=$1 out=$2 scenario=$3 cpu=$4 append=$5 vmcoreinfo=$6
  local devices=() memory=512
  [[ $vmcoreinfo == yes ]] && devices=(-device vmcoreinfo)
  local work
  work=$(mktemp -d)
  make_initramfs "$kdir" "$scenario" "$work/initramfs.gz" || return 1
  if [[ $scenario == kdump* ]]; then
    memory=768
    append="$append crashkernel=192M"
    local disk
    for disk in a b; do
      truncate -s "${memory}M" "$work/disk-$disk.img"
      devices+=(-drive "file=$work/disk-$disk.img,if=virtio,format=raw")
    done
  fi
  echo "$append" > "$work/boot.args"
  log "booting $scenario ($append) under QEMU TCG"
  qemu-system-x86_64 -machine pc -accel tcg -cpu "$cpu" -smp 2 -m "$memory" \
    -kernel "$kdir/vmlinuz" -initrd "$work/initramfs.gz" \
    -append "console=ttyS0 panic=0 loglevel=7 $append" \
    "${devices[@]}" -display none -serial "file:$work/console.log" \
    -qmp "unix:$work/qmp.sock,server=on,wait=off" -no-reboot &
  local qemu=$!
  # A guest is never left running: not when this returns, nor when a failure ends the script.
  trap "kill $qemu 2>/dev/null || true" RETURN
  trap "kill $qemu 2>/dev/null || true" EXIT
  if [[ $scenario == kdump* ]]; then
    wait_for_console "$work/console.log" "$qemu" 'coroner-capture: saved' 900 || return 1
    wait "$qemu" || true
    collect_kdump "$work" || return 1
  else
    wait_for_console "$work/console.log" "$qemu" 'Kernel panic - not syncing' 300 || return 1
    wait_for_other_cpus_stopped "$work" "$qemu" || return 1
    # The sysrq scenarios are read in every format; the test module's only as kdump files.
    if [[ $scenario == module:* ]]; then dump_through_qmp "$work" kdump-zlib; else dump_through_qmp "$work" all; fi
    wait "$qemu" || true
    # QEMU writes makedumpfile's flattened format; makedumpfile -R reassembles the plain kdump file.
    makedumpfile -R "$work/vmcore.kdump-zlib" < "$work/vmcore.kdump-zlib.flat" >/dev/null || return 1
    [[ $scenario == module:* ]] && rm -f "$work/vmcore.kdump-zlib.flat"
  fi
  rm -f "$work/qmp.sock" "$work/initramfs.gz"
  mkdir -p "$(dirname "$out")"
  mv "$work" "$out"
}

# The table files without their comments and blank lines.
table() { grep -v -e '^#' -e '^[[:space:]]*$' "$here/$1"; }

# The scenario names a flavour gets (real-dump-kernels.txt).
scenarios_of() {
  local line
  line=$(table real-dump-kernels.txt | awk -v f="$1" '$1 == f')
  [[ -n $line ]] || { log "real-dump-kernels.txt has no kernel flavour $1"; return 1; }
  if [[ $(awk '{print $2}' <<<"$line") == all ]]; then
    table real-dump-scenarios.txt | awk '{print $1}'
  else
    tr ' ' '\n' <<<"${line#* }"
  fi
}

# make_flavour FLAVOUR: its kernel, test module and dumps; prints the dump directory.
make_flavour() {
  local flavour=$1 pkg version key
  pkg=$(kernel_package "$flavour")
  [[ -n $pkg ]] || { log "apt-cache knows no linux-image-$flavour: run 'apt-get update' first"; return 1; }
  version=$(apt-cache show "$pkg" | awk '/^Version:/ {print $2; exit}')
  local kdir=$cache/kernel/$version-$flavour
  fetch_kernel "$pkg" "$kdir" "$flavour"
  # What makes a dump, not which dumps a kernel gets (real-dump-kernels.txt).
  key=$(cat "$here/real-dumps.sh" "$here/real-dump-scenarios.txt" "$here/guest-init.sh" "$here/qmp.py" \
    "$here"/../tests/realkernel/module/* | sha256sum | cut -c1-12)
  local ddir=$cache/dumps/$flavour-$version-$key
  mkdir -p "$ddir" && echo "$flavour" > "$ddir/flavour"
  test_module_dir=$ddir/test-module
  build_test_module "$(cat "$kdir/release")" "$test_module_dir"
  local name kind cpu vmcoreinfo args wanted
  wanted=$(scenarios_of "$flavour")
  while read -r name kind cpu vmcoreinfo args; do
    grep -qx "$name" <<<"$wanted" || continue
    [[ -s $ddir/$name/vmcore.kdump-zlib ]] ||
      boot_and_dump "$kdir" "$ddir/$name" "$kind" "$cpu" "$args" "$vmcoreinfo" < /dev/null
  done < <(table real-dump-scenarios.txt)
  ln -sfn "$kdir" "$ddir/kernel"
  # This flavour's dumps and kernels of other versions or scripts are stale; other flavours' stay.
  local d
  for d in "$cache"/dumps/* "$cache"/kernel/*; do
    if [[ -d $d && $d != "$ddir" && $d != "$kdir" && -f $d/flavour && $(cat "$d/flavour") == "$flavour" ]]; then
      rm -rf "$d"
    fi
  done
  echo "$ddir"
}

main() {
  local flavours=("$@") flavour
  ((${#flavours[@]})) || flavours=(amd64)
  [[ ${flavours[*]} == all ]] && mapfile -t flavours < <(table real-dump-kernels.txt | awk '{print $1}')
  # What older versions of this script made (no flavour file) is stale.
  local d
  for d in "$cache"/dumps/* "$cache"/kernel/*; do
    if [[ -d $d && ! -f $d/flavour ]]; then rm -rf "$d"; fi
  done
  # A guest under TCG keeps about one core busy: as many kernels at a time as there are cores
  # (CORONER_DUMP_JOBS), each printing its directory into its own file, listed in order at the end.
  local jobs=${CORONER_DUMP_JOBS:-$(nproc)} out i
  out=$(mktemp -d)
  for i in "${!flavours[@]}"; do
    while (($(jobs -rp | wc -l) >= jobs)); do wait -n || true; done
    (flavour_now=${flavours[$i]}; make_flavour "${flavours[$i]}" > "$out/$i"; touch "$out/$i.made") &
  done
  wait
  for i in "${!flavours[@]}"; do
    [[ -f $out/$i.made ]] || { rm -rf "$out"; log "the dumps of ${flavours[$i]} could not be made (its lines above say why)"; exit 1; }
  done
  for i in "${!flavours[@]}"; do cat "$out/$i"; done
  rm -rf "$out"
}

main "$@"
