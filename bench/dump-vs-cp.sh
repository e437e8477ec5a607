#!/usr/bin/env bash
# ELF dump of a multi-GiB snapshot against `cp` of the same bytes, measured in the same run.
#
#   bench/dump-vs-cp.sh [SIZE] [RUNS]      SIZE defaults to 4GiB, RUNS to 3
#
# Prints each run's wall time and peak RSS, the medians, and guestdump's time as a ratio of cp's.
# Both read the same RAM file and write to the same file system; the page cache is warmed first so
# that both measure copying, not the disk's first read. Needs the built distribution
# (./mvnw -B -ntp -DskipTests package) and GNU time (/usr/bin/time, Debian package "time").
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
gd="$here/distribution/target/guestdump/bin/guestdump"
size=${1:-4GiB}
runs=${2:-3}
[ -x "$gd" ] || { echo "build first: ./mvnw -B -ntp -DskipTests package" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs GNU time: apt-get install time" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/guestdump-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$gd" sample-guest --output-dir "$work/guest" --size "$size" >/dev/null
ram="$work/guest/sample-x86_64-ram.bin"
bytes=$(stat -c %s "$ram")
echo "guest: $size sample snapshot, $bytes bytes of RAM in $ram"
cat "$ram" > /dev/null   # warm the page cache for both contenders

measure() { # label, command...
  local label=$1; shift
  sync   # untimed: every contender starts with no dirty pages left by the one before it
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  read -r secs kib < "$work/time"
  echo "$label $secs $kib"
}

# Pairs that do the same work: without and with flushing to disk. guestdump fsyncs by default
# (guestdump.output.fsync) before its atomic rename; cp followed by `sync FILE` is the fair baseline.
snap="snapshot:$work/guest/sample-x86_64.conf"
results=()
for i in $(seq 1 "$runs"); do
  results+=("$(measure cp cp "$ram" "$work/copy.bin")"); rm -f "$work/copy.bin"
  results+=("$(measure guestdump-nosync "$gd" dump "$snap" -o "$work/vmcore" -D guestdump.progress.mode=never -D guestdump.output.fsync=false)")
  rm -f "$work/vmcore"
  results+=("$(measure cp+sync sh -c "cp '$ram' '$work/copy.bin' && sync '$work/copy.bin'")"); rm -f "$work/copy.bin"
  results+=("$(measure guestdump "$gd" dump "$snap" -o "$work/vmcore" -D guestdump.progress.mode=never)")
  rm -f "$work/vmcore"
done
printf '%-17s %8s %12s\n' tool seconds peak-RSS-MiB
for r in "${results[@]}"; do set -- $r; printf '%-17s %8s %12d\n' "$1" "$2" $(( $3 / 1024 )); done
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
med() { printf '%s\n' "${results[@]}" | awk -v t="$1" -v f="$2" '$1==t{print $f}' | median; }
for pair in "cp guestdump-nosync" "cp+sync guestdump"; do
  set -- $pair
  b=$(med "$1" 2); g=$(med "$2" 2); rss=$(med "$2" 3)
  echo "median: $1 ${b}s, $2 ${g}s ($(awk -v b="$bytes" -v t="$g" 'BEGIN{printf "%.0f", b/t/1048576}') MiB/s, peak RSS $((rss / 1024)) MiB); ratio $2/$1 $(awk -v g="$g" -v c="$b" 'BEGIN{printf "%.2f", g/c}')"
done
