# Shared by the bench scripts (sourced): the real dumps, a Release coroner, and hyperfine helpers.
# Sets: root, dir (real dumps), vmlinux, coroner, out (a temporary directory, removed on exit).
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=$("$root/scripts/real-dumps.sh")
vmlinux=$dir/kernel/vmlinux
cmake -S "$root" -B "$root/build-release" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build "$root/build-release" -j"$(nproc)" --target coroner >/dev/null
coroner=$root/build-release/src/coroner
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

run() {  # name, hyperfine options..., command: prints "mean stddev" in seconds
  local name=$1; shift
  hyperfine --style none --export-json "$out/$name.json" "$@" >/dev/null 2>&1 || true
  /usr/bin/python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("%.4f %.4f" % (r["mean"], r["stddev"] or 0))' "$out/$name.json"
}
declare -A mean
report() {  # name, label, "mean stddev": prints a line and keeps the mean in ${mean[name]}
  read -r m s <<<"$3"
  mean[$1]=$m
  printf '%-48s %9.4f s  ± %.4f\n' "$2" "$m" "$s"
}
ratio() { /usr/bin/python3 -c "print(f'{float($1)/float($2):.${3:-2}f}x')"; }
