#!/usr/bin/env bash
# Start-up time of the launcher: the commands a user runs most that do almost no work.
#
#   bench/startup.sh [RUNS] [DIST_DIR...]    RUNS defaults to 15, DIST_DIR to distribution/target/guestdump
#
# Each command runs once untimed (page cache), then RUNS times; with several distributions (e.g. today's build
# copied aside before a change, and the new one) the runs alternate between them, so that a change in the
# machine's load hits both alike. Prints every wall time, the median wall time and the median CPU time (user +
# system, which a loaded machine inflates less than wall time) per command and distribution, and the load average
# before and after. Needs GNU time (/usr/bin/time, Debian package "time").
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-15}
shift || true
dists=("$@")
[ ${#dists[@]} -gt 0 ] || dists=("$here/distribution/target/guestdump")
[ -x /usr/bin/time ] || { echo "needs GNU time: apt-get install time" >&2; exit 2; }
for d in "${dists[@]}"; do
  [ -x "$d/bin/guestdump" ] || { echo "no launcher at $d/bin/guestdump; build first: ./mvnw -B -ntp -DskipTests package" >&2; exit 2; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/guestdump-startup.XXXXXX")
trap 'rm -rf "$work"' EXIT

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# label | arguments (the bundled 4 MiB sample guest as an explicit snapshot: the same on every version)
commands=("--version|--version" "archs|archs" "dump 4 MiB sample|dump snapshot:@DIST@/config/guests/sample-x86_64.conf -o @WORK@/vmcore --force")

echo "$(java -version 2>&1 | head -1); $(nproc) cores; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for c in "${commands[@]}"; do
  label=${c%%|*}
  for i in "${!dists[@]}"; do
    d=${dists[$i]}
    args=${c#*|}; args=${args//@DIST@/$d}; args=${args//@WORK@/$work}
    # shellcheck disable=SC2086
    "$d/bin/guestdump" $args >/dev/null 2>&1 || { echo "failed: $d/bin/guestdump $args" >&2; exit 1; }
    : > "$work/times.$i"; : > "$work/cpu.$i"
  done
  for _ in $(seq 1 "$runs"); do
    for i in "${!dists[@]}"; do
      d=${dists[$i]}
      args=${c#*|}; args=${args//@DIST@/$d}; args=${args//@WORK@/$work}
      # shellcheck disable=SC2086
      /usr/bin/time -f "%e %U %S" -o "$work/t" "$d/bin/guestdump" $args >/dev/null 2>&1
      read -r wall user sys < "$work/t"
      echo "$wall" >> "$work/times.$i"
      awk -v u="$user" -v s="$sys" 'BEGIN{printf "%.2f\n", u + s}' >> "$work/cpu.$i"
    done
  done
  for i in "${!dists[@]}"; do
    printf '%-18s %-32s median wall %ss cpu %ss  wall runs: %s\n' "$label" "${dists[$i]}" \
      "$(median < "$work/times.$i")" "$(median < "$work/cpu.$i")" "$(tr '\n' ' ' < "$work/times.$i")"
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
