#!/usr/bin/env bash
# Plain ELF dumps against `cat` of the same bytes to the same file system, measured in one run (issue 13).
#
#   bench/elf-vs-cat.sh [RUNS] [ELF...]     RUNS defaults to 3; SIZE (default 4GiB) sizes the generated guest;
#                                           ZERO_SHARE (e.g. 0.35) fills its RAM like a real guest's (bench/prefill.py)
#
# Inputs: a generated sample guest of SIZE (`snapshot:`; cat reads its RAM file), and each ELF given (`elf:`, e.g.
# QEMU's dump of a real guest; cat reads the ELF itself, which holds the same bytes plus headers). Contenders,
# alternated run by run: `cat IN > OUT`, guestdump's default ELF, and guestdump with guestdump.elf.sparse on and off
# explicitly; each without flushing (guestdump.output.fsync=false, plain cat) and with it (guestdump's default fsync,
# cat followed by `sync OUT`). The page cache is warmed first; `sync` (untimed) before every run so no contender
# pays for another's dirty pages. Prints wall, CPU (user+sys) and disk use of the output, the medians, and each
# guestdump median as a ratio of cat's. Needs the built distribution and GNU time (/usr/bin/time).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
gd=${GUESTDUMP:-$here/distribution/target/guestdump/bin/guestdump}
runs=${1:-3}; shift || true
size=${SIZE:-4GiB}
[ -x "$gd" ] || { echo "build first: ./mvnw -B -ntp -DskipTests package" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs GNU time: apt-get install time" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/guestdump-elfcat.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$gd" sample-guest --output-dir "$work/guest" --size "$size" >/dev/null
if [ -n "${ZERO_SHARE:-}" ]; then
  # guest RAM like a real guest's: file content and zero runs after the sample's first 16 MiB (its page tables)
  bytes=$(stat -c %s "$work/guest/sample-x86_64-ram.bin")
  python3 "$here/bench/prefill.py" "$work/guest/sample-x86_64-ram.bin" "$bytes" "$ZERO_SHARE" - $((16 << 20))
fi
inputs=("sample-$size|snapshot:$work/guest/sample-x86_64.conf|$work/guest/sample-x86_64-ram.bin")
for elf in "$@"; do inputs+=("$(basename "$elf")|elf:$elf|$elf"); done
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) processors; $("$gd" --version | head -1)"

measure() { # label, command...
  local label=$1; shift
  rm -f "$work/out"; sync
  /usr/bin/time -f "%e %U %S" -o "$work/time" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  read -r secs user sys < "$work/time"
  echo "$label $secs $(echo "$user + $sys" | bc) $(( $(du -k "$work/out" | cut -f1) / 1024 ))"
  rm -f "$work/out"
}
results=()
for in in "${inputs[@]}"; do
  IFS='|' read -r name src file <<< "$in"
  cat "$file" > /dev/null   # warm the page cache
  for i in $(seq 1 "$runs"); do
    results+=("$name/cat $(measure x sh -c "cat '$file' > '$work/out'" | cut -d' ' -f2-)")
    results+=("$name/guestdump $(measure x "$gd" dump "$src" -o "$work/out" -D guestdump.progress.mode=never -D guestdump.output.fsync=false | cut -d' ' -f2-)")
    results+=("$name/guestdump-dense $(measure x "$gd" dump "$src" -o "$work/out" -D guestdump.progress.mode=never -D guestdump.output.fsync=false -D guestdump.elf.sparse=false | cut -d' ' -f2-)")
    results+=("$name/guestdump-sparse $(measure x "$gd" dump "$src" -o "$work/out" -D guestdump.progress.mode=never -D guestdump.output.fsync=false -D guestdump.elf.sparse=true | cut -d' ' -f2-)")
    results+=("$name/cat+sync $(measure x sh -c "cat '$file' > '$work/out' && sync '$work/out'" | cut -d' ' -f2-)")
    results+=("$name/guestdump+fsync $(measure x "$gd" dump "$src" -o "$work/out" -D guestdump.progress.mode=never | cut -d' ' -f2-)")
    results+=("$name/guestdump-dense+fsync $(measure x "$gd" dump "$src" -o "$work/out" -D guestdump.progress.mode=never -D guestdump.elf.sparse=false | cut -d' ' -f2-)")
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
med() { printf '%s\n' "${results[@]}" | awk -v t="$1" -v f="$2" '$1==t{print $f}' | median; }
echo
echo "| input | run | wall (s) | CPU (s) | disk (MiB) | wall / cat's |"
echo "|---|---|---:|---:|---:|---:|"
for in in "${inputs[@]}"; do
  IFS='|' read -r name src file <<< "$in"
  for t in cat guestdump guestdump-dense guestdump-sparse cat+sync guestdump+fsync guestdump-dense+fsync; do
    base=cat; case $t in *sync) base=cat+sync;; esac
    w=$(med "$name/$t" 2); b=$(med "$name/$base" 2)
    printf '| %s | %s | %s | %s | %s | %.2f |\n' "$name" "$t" "$w" "$(med "$name/$t" 3)" "$(med "$name/$t" 4)" \
      "$(echo "$w / $b" | bc -l)"
  done
done
