#!/usr/bin/env bash
# guestdump --dump-level 31 against makedumpfile -d 31 on a real Debian guest, ratios from one run.
#
#   bench/dump-level.sh [WORK_DIR]   (after `mvn package`; SIZE=2G by default, GUESTDUMP=launcher)
#
# The amd64 interop guest (bench/qemu-interop/prepare-kernel.sh amd64: Debian 6.1, busybox /init with page cache
# and three shells' user memory) boots under TCG with SIZE of RAM and -device vmcoreinfo, and is paused (QMP stop).
# Then, everything from the page cache, no fsync:
#   A. guestdump dump qmp: --dump-level 31 --format kdump-lzo           (straight from the paused guest)
#   B. QEMU dump-guest-memory (ELF) + makedumpfile -l -d 31 on an ELF of that guest (makedumpfile 1.7.2 cannot
#      read QEMU 7.2's ELF, so it reads guestdump's level-0 re-dump of it, which holds the same bytes; the
#      re-dump itself is not timed)
#   B2. QEMU dump-guest-memory again, right after the first (the first one is QEMU's first read of RAM the guest
#      never wrote, which costs it page faults: both are shown)
#   C. guestdump dump elf:X --dump-level 31 --format kdump-lzo  vs  D. makedumpfile -l -d 31 X
# CPU time (user + system) beside each wall time: guestdump's and makedumpfile's from /usr/bin/time, QEMU's from
# /proc/PID/stat before and after (for A, QEMU's share is added to guestdump's).
# BEFORE=/path/to/another/bin/guestdump adds A and C with that build (A0, C0) in the same run, and checks that both
# builds write the same files.
# The kept pages of A, C and D are compared (bitmaps). QEMU is quit and the big files removed on exit.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
G=${GUESTDUMP:-$ROOT/distribution/target/guestdump/bin/guestdump}
W=${1:-$(mktemp -d /tmp/guestdump-levels.XXXXXX)}
SIZE=${SIZE:-2G}
CACHE=${GUESTDUMP_CACHE:-$HOME/.cache/guestdump}/qemu/amd64
mkdir -p "$W"; W=$(cd "$W" && pwd)
QPID=
cleanup() { [ -n "$QPID" ] && kill "$QPID" 2>/dev/null; rm -f "$W"/*.elf "$W"/*.lzo; }
trap cleanup EXIT
now() { date +%s.%N; }
TICK=$(getconf CLK_TCK)
qcpu() { awk -v t="$TICK" '{print ($14 + $15) / t}' "/proc/$QPID/stat"; }
timed() { /usr/bin/time -f '%U %S' -o "$W/cpu.txt" "$@"; }
cpu() { awk '{print $1 + $2}' "$W/cpu.txt"; }
qmp() {
  /usr/bin/python3 - "$W/test.sock" "$1" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile('rw')
f.readline(); f.write('{"execute":"qmp_capabilities"}\n'); f.flush(); f.readline()
f.write(sys.argv[2] + '\n'); f.flush()
while True:
    line = f.readline()
    if not line or line.startswith('{"return"') or line.startswith('{"error"'):
        print(line.strip()); break
PY
}
qemu-system-x86_64 -M pc -cpu qemu64 -accel tcg -m "$SIZE" -smp 2 -display none -monitor none -nic none \
  -serial file:"$W/serial.log" -qmp unix:"$W/qmp.sock",server=on,wait=off -qmp unix:"$W/test.sock",server=on,wait=off \
  -kernel "$CACHE/vmlinuz" -initrd "$CACHE/initrd.cpio.gz" -append "console=ttyS0 panic=0" -no-reboot \
  -device vmcoreinfo > "$W/qemu.out" 2>&1 &
QPID=$!
for _ in $(seq 600); do grep -q GUESTDUMP-READY "$W/serial.log" 2>/dev/null && break; sleep 1; done
grep -q GUESTDUMP-READY "$W/serial.log"
qmp '{"execute":"stop"}' >/dev/null
load0=$(cut -d' ' -f1-3 /proc/loadavg)
q0=$(qcpu); t0=$(now); timed "$G" dump "qmp:$W/qmp.sock" --dump-level 31 --format kdump-lzo -D guestdump.output.fsync=false \
  -o "$W/A.lzo" >/dev/null; tA=$(echo "$(now) - $t0" | bc); cA=$(echo "$(cpu) + $(qcpu) - $q0" | bc)
if [ -n "${BEFORE:-}" ]; then # the same runs with another build (an older one), for before/after figures
  q0=$(qcpu); t0=$(now); timed "$BEFORE" dump "qmp:$W/qmp.sock" --dump-level 31 --format kdump-lzo -D guestdump.output.fsync=false \
    -o "$W/A0.lzo" >/dev/null; tA0=$(echo "$(now) - $t0" | bc); cA0=$(echo "$(cpu) + $(qcpu) - $q0" | bc)
fi
q0=$(qcpu); t0=$(now); qmp "{\"execute\":\"dump-guest-memory\",\"arguments\":{\"paging\":false,\"protocol\":\"file:$W/qemu.elf\"}}" >/dev/null
tQ=$(echo "$(now) - $t0" | bc); cQ=$(echo "$(qcpu) - $q0" | bc)
rm -f "$W/qemu2.elf"
q0=$(qcpu); t0=$(now); qmp "{\"execute\":\"dump-guest-memory\",\"arguments\":{\"paging\":false,\"protocol\":\"file:$W/qemu2.elf\"}}" >/dev/null
tQ2=$(echo "$(now) - $t0" | bc); cQ2=$(echo "$(qcpu) - $q0" | bc)
rm -f "$W/qemu2.elf"
kill "$QPID"; QPID=
"$G" dump "elf:$W/qemu.elf" -D guestdump.output.fsync=false -o "$W/X.elf" >/dev/null
rm -f "$W/qemu.elf"
t0=$(now); timed makedumpfile -l -d 31 "$W/X.elf" "$W/D.lzo" >/dev/null 2>&1; tD=$(echo "$(now) - $t0" | bc); cD=$(cpu)
t0=$(now); timed "$G" dump "elf:$W/X.elf" --dump-level 31 --format kdump-lzo -D guestdump.output.fsync=false \
  -o "$W/C.lzo" >/dev/null; tC=$(echo "$(now) - $t0" | bc); cC=$(cpu)
if [ -n "${BEFORE:-}" ]; then
  t0=$(now); timed "$BEFORE" dump "elf:$W/X.elf" --dump-level 31 --format kdump-lzo -D guestdump.output.fsync=false \
    -o "$W/C0.lzo" >/dev/null; tC0=$(echo "$(now) - $t0" | bc); cC0=$(cpu)
  cmp -s "$W/A0.lzo" "$W/A.lzo" && cmp -s "$W/C0.lzo" "$W/C.lzo" || { echo "the two builds wrote different files" >&2; exit 1; }
fi
load1=$(cut -d' ' -f1-3 /proc/loadavg)
same=$(/usr/bin/python3 - "$W/A.lzo" "$W/C.lzo" "$W/D.lzo" <<'PY'
import struct, sys
def kept(p):
    f = open(p, 'rb'); h = f.read(4096)
    bs, sub, bb, m = struct.unpack('<iiII', h[428:444])
    f.seek((1 + sub) * bs); f.read(bb * bs // 2); b2 = f.read(bb * bs // 2)
    return {x for x in range(m) if b2[x >> 3] >> (x & 7) & 1}
a, c, d = (kept(p) for p in sys.argv[1:])
print('equal (%d pages)' % len(d) if a == c == d else 'DIFFER: qmp %d, elf %d, makedumpfile %d' % (len(a), len(c), len(d)))
PY
)
sA=$(stat -c %s "$W/A.lzo"); sC=$(stat -c %s "$W/C.lzo"); sD=$(stat -c %s "$W/D.lzo"); sX=$(stat -c %s "$W/X.elf")
{
echo "| $SIZE guest, level 31, kdump-lzo | time (s) | CPU (s) | file (MiB) |"
echo "|---|---|---|---|"
printf '| A. guestdump dump qmp: --dump-level 31 | %.2f | %.2f | %.1f |\n' "$tA" "$cA" "$(echo "$sA / 1048576" | bc -l)"
printf '| B. QEMU dump-guest-memory + makedumpfile -l -d 31 | %.2f (%.2f + %.2f) | %.2f (%.2f + %.2f) | %.1f (ELF %.1f written first) |\n' \
  "$(echo "$tQ + $tD" | bc)" "$tQ" "$tD" "$(echo "$cQ + $cD" | bc)" "$cQ" "$cD" "$(echo "$sD / 1048576" | bc -l)" "$(echo "$sX / 1048576" | bc -l)"
printf '| B2. B with QEMU'"'"'s second dump of the guest | %.2f (%.2f + %.2f) | %.2f (%.2f + %.2f) | |\n' \
  "$(echo "$tQ2 + $tD" | bc)" "$tQ2" "$tD" "$(echo "$cQ2 + $cD" | bc)" "$cQ2" "$cD"
printf '| C. guestdump dump elf:X --dump-level 31 | %.2f | %.2f | %.1f |\n' "$tC" "$cC" "$(echo "$sC / 1048576" | bc -l)"
printf '| D. makedumpfile -l -d 31 X | %.2f | %.2f | %.1f |\n' "$tD" "$cD" "$(echo "$sD / 1048576" | bc -l)"
if [ -n "${BEFORE:-}" ]; then
  printf '| A0. A with %s | %.2f | %.2f | same file |\n' "$BEFORE" "$tA0" "$cA0"
  printf '| C0. C with %s | %.2f | %.2f | same file |\n' "$BEFORE" "$tC0" "$cC0"
  printf '\nbefore: B/A0 = %.2f, D/C0 = %.2f\n' "$(echo "($tQ + $tD) / $tA0" | bc -l)" "$(echo "$tD / $tC0" | bc -l)"
fi
printf '\nB2/A = %.2f; CPU: B/A = %.2f, B2/A = %.2f\n' "$(echo "($tQ2 + $tD) / $tA" | bc -l)" \
  "$(echo "($cQ + $cD) / $cA" | bc -l)" "$(echo "($cQ2 + $cD) / $cA" | bc -l)"
printf '\nB/A = %.2f, D/C = %.2f; kept pages: %s; load average %s before, %s after\n' \
  "$(echo "($tQ + $tD) / $tA" | bc -l)" "$(echo "$tD / $tC" | bc -l)" "$same" "$load0" "$load1"
} | tee "$W/dump-level.md"
