#!/usr/bin/env bash
# Saved VM state: what a paused guest's migration stream costs against QEMU's own dump, and guestdump's re-dump of it.
#
#   bench/savestate.sh [WORK_DIR]   (after `mvn package`; SIZE=2G by default, ARCH=amd64 (or arm64), GUESTDUMP=launcher)
#
# The interop guest of bench/qemu-interop/prepare-kernel.sh ARCH booted under TCG with SIZE of RAM (not a shared
# file), 2 vCPUs, -device vmcoreinfo; the busybox guest leaves most of its RAM zero, so the stream is small (zero
# pages cost 9 bytes) while QEMU's ELF holds every byte. Then, paused, everything to WORK_DIR (page cache, no fsync):
#   - QEMU dump-guest-memory (ELF, paging=false): wall time of the QMP command;
#   - QEMU migrate "exec:cat > FILE" of the paused guest: wall time until query-migrate says completed;
#   - guestdump dump savestate:FILE (JVM start included).
# (One migration per boot: QEMU 7.2 refuses to migrate a guest "paused due to previous migration" again.)
# QEMU is quit and the big files removed on exit. Prints a Markdown table, also written to WORK_DIR/savestate.md.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${1:-$(mktemp -d /var/tmp/guestdump-savestate.XXXXXX)}
SIZE=${SIZE:-2G}
ARCH=${ARCH:-amd64}
GUESTDUMP=${GUESTDUMP:-$ROOT/distribution/target/guestdump/bin/guestdump}
mkdir -p "$WORK"
trap 'rm -f "$WORK"/*.elf "$WORK"/*.mig' EXIT
GUESTDUMP_BENCH="$ROOT/bench" /usr/bin/python3 - "$WORK" "$SIZE" "$ARCH" "$GUESTDUMP" <<'PY'
import json, os, socket, subprocess, sys, time
work, size, arch, guestdump = sys.argv[1:5]
sys.path.insert(0, os.environ["GUESTDUMP_BENCH"])
from benchguest import boot, wait_ready
p, sock, _, serial = boot(work, size, arch, second_qmp=False)
try:
    wait_ready(p, serial, 600)
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock)
    f = s.makefile("rw")
    def rd():
        while True:
            m = json.loads(f.readline())
            if "event" not in m:
                return m
    def ex(c, a=None):
        m = {"execute": c}
        if a:
            m["arguments"] = a
        f.write(json.dumps(m) + "\n"); f.flush()
        r = rd()
        if "error" in r:
            sys.exit(c + ": " + str(r))
        return r["return"]
    rd(); ex("qmp_capabilities")
    rows = []
    ex("stop")
    t = time.time(); ex("dump-guest-memory", {"paging": False, "protocol": "file:" + work + "/qemu.elf"})
    rows.append(("QEMU dump-guest-memory (ELF)", time.time() - t, os.path.getsize(work + "/qemu.elf")))
    def migrate(uri):
        t = time.time()
        ex("migrate", {"uri": uri})
        while ex("query-migrate").get("status") not in ("completed", "failed"):
            time.sleep(0.05)
        return time.time() - t
    d = migrate("exec:cat > " + work + "/state.mig")
    rows.append(("QEMU migrate of the paused guest to a file", d, os.path.getsize(work + "/state.mig")))
    t = time.time()
    subprocess.run([guestdump, "dump", "savestate:" + work + "/state.mig", "-o", work + "/ours.elf", "-f"],
                   check=True, stdout=subprocess.DEVNULL)
    rows.append(("guestdump dump savestate:FILE (JVM start included)", time.time() - t,
                 os.path.getsize(work + "/ours.elf")))
    ex("quit")
finally:
    if p.poll() is None:
        p.kill()
out = ["| %s guest, %s, 2 vCPUs, TCG | seconds | bytes written |" % (arch, size), "|---|---:|---:|"]
out += ["| %s | %.2f | %d |" % r for r in rows]
text = "\n".join(out) + "\n"
print(text, end="")
open(work + "/savestate.md", "w").write(text)
PY
