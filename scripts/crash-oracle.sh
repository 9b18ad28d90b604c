#!/usr/bin/env bash
# Runs Red Hat's crash once on a dump with a batch of commands, each command's output into its own
# file, and caches the result next to the dump keyed by the command list (crash costs ~7 s a start).
#
#   scripts/crash-oracle.sh VMLINUX DUMP COMMANDS_FILE OUT_DIR
set -euo pipefail
vmlinux=$1 dump=$2 commands=$3 out=$4

key=$( (sha256sum "$commands" | cut -c1-16; stat -c '%s %Y' "$dump" "$vmlinux") | sha256sum | cut -c1-16)
if [[ -f $out/.key && $(cat "$out/.key") == "$key" ]]; then exit 0; fi
rm -rf "$out"
mkdir -p "$out"
script=$(mktemp)
while IFS='|' read -r name cmd; do
  name=$(echo "$name" | xargs)
  [[ -z $name || $name == \#* ]] && continue
  cmd=$(echo "$cmd" | sed 's/^ *//; s/ *$//')
  echo "$cmd > $out/$name.txt" >> "$script"
done < "$commands"
echo "quit" >> "$script"
crash -s "$vmlinux" "$dump" -i "$script" > "$out/crash.stdout" 2>&1 < /dev/null || true
rm -f "$script"
[[ -s $out/sys.txt ]] || { echo "crash-oracle: crash produced no output for $dump; see $out/crash.stdout" >&2; exit 1; }
echo "$key" > "$out/.key"
