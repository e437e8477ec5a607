#!/usr/bin/env bash
# Start-up time of the launcher: the commands a user runs most that do almost no work.
#
#   bench/startup.sh [DIST_DIR] [RUNS]     DIST_DIR defaults to distribution/target/guestdump, RUNS to 15
#
# Runs each command RUNS times (after one untimed warm-up run that fills the page cache) and prints every
# wall time and the median in seconds. Give an older distribution directory to compare: the "before" column of
# bench/README.md is today's build copied aside before a change, measured in the same session as the "after".
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dist=${1:-$here/distribution/target/guestdump}
runs=${2:-15}
gd="$dist/bin/guestdump"
[ -x "$gd" ] || { echo "no launcher at $gd; build first: ./mvnw -B -ntp -DskipTests package" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/guestdump-startup.XXXXXX")
trap 'rm -rf "$work"' EXIT
# the bundled sample guest (4 MiB of RAM, two vCPUs) as an explicit snapshot, so the command means the same on
# every version of the launcher
sample=$(ls "$dist"/config/guests/sample-x86_64.conf)

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

measure() { # label, command...
  local label=$1; shift
  "$@" >/dev/null 2>&1 || { echo "$label failed: $*" >&2; "$@"; exit 1; }   # warm-up, untimed
  local times=()
  for _ in $(seq 1 "$runs"); do
    rm -f "$work/vmcore"
    local t0 t1
    t0=$(now)
    "$@" >/dev/null 2>&1
    t1=$(now)
    times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", (b-a)/1e9}')")
  done
  printf '%-28s median %ss  runs: %s\n' "$label" "$(printf '%s\n' "${times[@]}" | median)" "${times[*]}"
}

echo "launcher: $gd; $(java -version 2>&1 | head -1); load: $(cut -d' ' -f1-3 /proc/loadavg)"
measure "guestdump --version" "$gd" --version
measure "guestdump archs" "$gd" archs
measure "guestdump dump (4 MiB sample)" "$gd" dump "snapshot:$sample" -o "$work/vmcore" --force
