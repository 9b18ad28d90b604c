#!/usr/bin/env bash
# Makes real Linux crash dumps: Debian's kernel booted under QEMU (TCG), crashed, dumped through QMP.
#
#   scripts/real-dumps.sh            make what is missing, print the dump directory
#
# Everything lands in ${CORONER_CACHE:-~/.cache/coroner}, keyed by the kernel package version and a
# hash of the scripts that make the dumps, so a second run costs nothing. Layout of the result:
#   kernel/<version>/{vmlinuz,vmlinux,modules/*.ko}
#   dumps/<version>-<hash>/<scenario>/{vmcore.elf, vmcore.kdump-zlib.flat, vmcore.kdump-snappy.flat,
#       vmcore.kdump-zlib, console.log, boot.args}
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${CORONER_CACHE:-$HOME/.cache/coroner}
log() { printf 'real-dumps: %s\n' "$*" >&2; }

kernel_package() {
  # The ABI package the metapackage points at, e.g. linux-image-6.1.0-56-amd64.
  apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}'
}

fetch_kernel() {
  local pkg=$1 dir=$2
  [[ -s $dir/vmlinux && -s $dir/vmlinuz && -s $dir/modules/qemu_fw_cfg.ko ]] && return 0
  log "fetching $pkg and $pkg-dbg (about 930 MB) into $cache/debs"
  mkdir -p "$cache/debs" "$dir/modules"
  # Stale package lists name versions the mirror no longer has: refresh once and retry.
  (cd "$cache/debs" && { apt-get download "$pkg" "$pkg-dbg" >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get download "$pkg" "$pkg-dbg" >/dev/null; }; })
  local release=${pkg#linux-image-}
  local image dbg tmp
  image=$(ls "$cache/debs/${pkg}_"*.deb | tail -n1)
  dbg=$(ls "$cache/debs/${pkg}-dbg_"*.deb | tail -n1)
  tmp=$(mktemp -d "$cache/extract.XXXXXX")
  dpkg-deb --fsys-tarfile "$image" | tar -x -C "$tmp" "./boot/vmlinuz-$release" \
    "./lib/modules/$release/kernel/drivers/firmware/qemu_fw_cfg.ko"
  dpkg-deb --fsys-tarfile "$dbg" | tar -x -C "$tmp" "./usr/lib/debug/boot/vmlinux-$release"
  mv "$tmp/boot/vmlinuz-$release" "$dir/vmlinuz"
  mv "$tmp/lib/modules/$release/kernel/drivers/firmware/qemu_fw_cfg.ko" "$dir/modules/"
  mv "$tmp/usr/lib/debug/boot/vmlinux-$release" "$dir/vmlinux"
  rm -rf "$tmp"
  echo "$release" > "$dir/release"
  # The .debs are only a means; the extracted files are the cache.
  rm -f "$image" "$dbg"
}

make_initramfs() {
  local kdir=$1 scenario=$2 out=$3
  local root
  root=$(mktemp -d)
  mkdir -p "$root"/{bin,proc,sys,dev,modules}
  cp /bin/busybox "$root/bin/busybox"
  cp "$kdir"/modules/*.ko "$root/modules/"
  sed "s/@SCENARIO@/$scenario/" "$here/guest-init.sh" > "$root/init"
  chmod +x "$root/init"
  (cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 > "$out"
  rm -rf "$root"
}

# boot_and_dump KERNEL_DIR OUT_DIR SCENARIO CPU APPEND VMCOREINFO(yes|no)
boot_and_dump() {
  local kdir=$1 out=$2 scenario=$3 cpu=$4 append=$5 vmcoreinfo=$6
  local devices=()
  [[ $vmcoreinfo == yes ]] && devices=(-device vmcoreinfo)
  local work
  work=$(mktemp -d)
  make_initramfs "$kdir" "$scenario" "$work/initramfs.gz"
  echo "$append" > "$work/boot.args"
  log "booting $scenario ($append) under QEMU TCG"
  qemu-system-x86_64 -machine pc -accel tcg -cpu "$cpu" -smp 2 -m 512 \
    -kernel "$kdir/vmlinuz" -initrd "$work/initramfs.gz" \
    -append "console=ttyS0 panic=0 loglevel=7 $append" \
    "${devices[@]}" -display none -serial "file:$work/console.log" \
    -qmp "unix:$work/qmp.sock,server=on,wait=off" -no-reboot &
  local qemu=$!
  trap "kill $qemu 2>/dev/null || true" RETURN
  local waited=0
  until grep -q 'Kernel panic - not syncing' "$work/console.log" 2>/dev/null; do
    sleep 1; waited=$((waited + 1))
    if ((waited > 300)) || ! kill -0 "$qemu" 2>/dev/null; then
      kill "$qemu" 2>/dev/null || true
      log "guest did not panic within ${waited}s; console log follows"; cat "$work/console.log" >&2
      return 1
    fi
  done
  sleep 3  # let the panicking CPU stop the others
  # Debian's QEMU 7.2 offers elf, kdump-zlib and kdump-snappy (no lzo); ask rather than assume.
  local format formats
  formats=$("$here/qmp.py" "$work/qmp.sock" '{"execute":"query-dump-guest-memory-capability"}' |
    python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)["formats"]))')
  for format in $formats; do
    [[ $format == win-dmp ]] && continue
    local file=$work/vmcore.$format
    [[ $format == kdump-* ]] && file=$file.flat
    "$here/qmp.py" "$work/qmp.sock" \
      "{\"execute\":\"dump-guest-memory\",\"arguments\":{\"paging\":false,\"protocol\":\"file:$file\",\"format\":\"$format\"}}" >/dev/null
  done
  "$here/qmp.py" "$work/qmp.sock" '{"execute":"quit"}' >/dev/null || true
  wait "$qemu" || true
  # QEMU writes makedumpfile's flattened format; makedumpfile -R reassembles the plain kdump file.
  makedumpfile -R "$work/vmcore.kdump-zlib" < "$work/vmcore.kdump-zlib.flat" >/dev/null
  rm -f "$work/qmp.sock" "$work/initramfs.gz"
  mkdir -p "$(dirname "$out")"
  mv "$work" "$out"
}

main() {
  local pkg version key
  pkg=$(kernel_package)
  [[ -n $pkg ]] || { log "apt-cache knows no linux-image-amd64: run 'apt-get update' first"; exit 1; }
  version=$(apt-cache show "$pkg" | awk '/^Version:/ {print $2; exit}')
  local kdir=$cache/kernel/$version
  fetch_kernel "$pkg" "$kdir"
  key=$(cat "$here/real-dumps.sh" "$here/guest-init.sh" "$here/qmp.py" | sha256sum | cut -c1-12)
  local ddir=$cache/dumps/$version-$key
  # scenario name, QEMU CPU model, VMCOREINFO device, extra kernel arguments
  local scenarios=(
    "sysrq-nokaslr qemu64 yes nokaslr"
    "sysrq-kaslr qemu64 yes kaslr"
    "sysrq-la57 qemu64,+la57 yes kaslr"
    "novmcoreinfo-kaslr qemu64 no kaslr"
  )
  local s name cpu vmcoreinfo args
  for s in "${scenarios[@]}"; do
    read -r name cpu vmcoreinfo args <<<"$s"
    [[ -s $ddir/$name/vmcore.kdump-zlib ]] || boot_and_dump "$kdir" "$ddir/$name" sysrq "$cpu" "$args" "$vmcoreinfo"
  done
  ln -sfn "$kdir" "$ddir/kernel"
  # Dumps made by older versions of these scripts are stale: keep only this set.
  find "$cache/dumps" -mindepth 1 -maxdepth 1 -type d ! -path "$ddir" -exec rm -rf {} +
  echo "$ddir"
}

main "$@"
