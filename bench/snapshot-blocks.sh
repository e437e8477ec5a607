#!/bin/sh
# Per-block cost of a snapshot source: a guest of N one-page blocks (default 100000) from one sparse RAM file,
# dumped with the assembled distribution; prints the peak RSS and the wall time (GNU time). Issue 15 measured
# 723 MiB of RSS for 100,000 blocks.
#   bench/snapshot-blocks.sh [N] [JAVA_OPTS...]      e.g. bench/snapshot-blocks.sh 100000 -Xmx256m
set -eu
N=${1:-100000}
shift 2>/dev/null || true
HERE=$(cd "$(dirname "$0")/.." && pwd)
G="$HERE/distribution/target/guestdump/bin/guestdump"
[ -x "$G" ] || { echo "build the distribution first: ./mvnw -pl distribution -am package -DskipTests" >&2; exit 2; }
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cp "$HERE/config/guests/sample-x86_64-registers.txt" "$W/regs.txt"
/usr/bin/python3 - "$W" "$N" <<'PY'
import sys
w, n = sys.argv[1], int(sys.argv[2])
with open(w + "/ram.bin", "wb") as f:
    f.truncate(n * 4096)
with open(w + "/g.conf", "w") as f:
    f.write("guest {\n arch = x86_64\n cpu-state-from = regs.txt\n memory = [\n")
    for i in range(n):
        f.write(" { start = %d, size = 4096, file = ram.bin, file-offset = %d }\n" % (i * 8192, i * 4096))
    f.write(" ]\n}\n")
PY
JAVA_OPTS="$*" /usr/bin/time -f "blocks=$N rss_kib=%M wall_s=%e exit=%x" "$G" dump "snapshot:$W/g.conf" -o "$W/out.elf" \
    2>&1 >/dev/null | grep -E "^blocks=|guestdump:|Error" || true
