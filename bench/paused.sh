#!/usr/bin/env bash
# A paused guest with private RAM (no shared file): QEMU's dump-guest-memory against guestdump dump qmp: of the same
# paused guest, alternating, ROUNDS times each, wall time and CPU time (issue 14's paused path).
#
#   bench/paused.sh [WORK_DIR]   (after `mvn package`; SIZE=2G, ROUNDS=3, ARCH=amd64 (or arm64), FORMAT=elf,
#                                 GUESTDUMP=launcher, EXTRA="-D key=value ..." for guestdump, EXTRA2="..." adds a
#                                 third contender: guestdump with those options instead; JAVA_OPTS2 gives that
#                                 contender's JVM these options)
#
# The interop guest of bench/qemu-interop/prepare-kernel.sh ARCH boots under TCG with SIZE of private RAM, 2 vCPUs,
# -device vmcoreinfo and two QMP sockets, and is paused (QMP stop) once it is up. Then, ROUNDS times, QEMU first in
# odd rounds and guestdump first in even ones:
#   - QEMU dump-guest-memory (paging=false, ELF) into WORK_DIR, timed from the command to its reply;
#   - guestdump dump qmp: -o WORK_DIR/... (JVM start included), -D guestdump.output.fsync=false (QEMU does not fsync);
#   - with EXTRA2, guestdump with EXTRA2 instead of EXTRA; the order of the contenders rotates from round to round.
# CPU time: QEMU's (utime + stime from /proc/PID/stat, before and after) plus, for guestdump, the JVM's (its
# rusage). After each dump the guest must still be paused (query-status: running false, status paused). Each
# output is removed right after it is measured. Prints a Markdown table, also written to WORK_DIR/paused.md.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${1:-$(mktemp -d /var/tmp/guestdump-paused.XXXXXX)}
SIZE=${SIZE:-2G}
ROUNDS=${ROUNDS:-3}
ARCH=${ARCH:-amd64}
FORMAT=${FORMAT:-elf}
GUESTDUMP=${GUESTDUMP:-$ROOT/distribution/target/guestdump/bin/guestdump}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
trap 'rm -f "$WORK"/*.elf "$WORK"/*.kdump' EXIT
GUESTDUMP_BENCH="$ROOT/bench" /usr/bin/python3 - "$WORK" "$SIZE" "$ARCH" "$GUESTDUMP" "$ROUNDS" "$FORMAT" "${EXTRA:-}" "${EXTRA2:-}" "${JAVA_OPTS2:-}" <<'PY'
import json, os, resource, shlex, socket, subprocess, sys, time
work, size, arch, guestdump, rounds, fmt, extra, extra2, jopts2 = sys.argv[1:10]
rounds = int(rounds)
sys.path.insert(0, os.environ["GUESTDUMP_BENCH"])
from benchguest import boot, connect, load, qemu_cpu, wait_ready
p, sock, mine, serial = boot(work, size, arch)
rows = []
try:
    wait_ready(p, serial, 900)
    s, f = connect(mine)
    def ex(c, a=None):
        m = {"execute": c}
        if a:
            m["arguments"] = a
        f.write(json.dumps(m) + "\n"); f.flush()
        while True:
            r = json.loads(f.readline())
            if "event" not in r:
                break
        if "error" in r:
            sys.exit(c + ": " + str(r))
        return r["return"]
    ex("qmp_capabilities")
    ex("stop")
    def paused(name):
        st = ex("query-status")
        assert not st["running"] and st["status"] == "paused", name + " changed the guest's state: " + str(st)
    def qemu_dump(out):
        ex("dump-guest-memory", {"paging": False, "protocol": "file:" + out}
           | ({} if fmt == "elf" else {"format": fmt}))
        return None
    def gd(options, jopts=None):
        def run(out):
            env = dict(os.environ, JAVA_OPTS=jopts) if jopts else None
            r = subprocess.run([guestdump, "dump", "qmp:" + sock, "-o", out, "-f", "--format", fmt,
                                "-D", "guestdump.output.fsync=false"] + shlex.split(options),
                               capture_output=True, text=True, env=env)
            if r.returncode != 0:
                sys.exit("guestdump failed: " + r.stdout + r.stderr)
        return run
    runs = [("QEMU dump-guest-memory", qemu_dump), ("guestdump dump qmp: " + extra, gd(extra))]
    if extra2 or jopts2:
        runs.append(("guestdump dump qmp: " + extra2 + (" (JAVA_OPTS=%s)" % jopts2 if jopts2 else ""),
                     gd(extra2, jopts2)))
    for i in range(rounds):
        k = i % len(runs)
        for j, (name, run) in enumerate(runs[k:] + runs[:k]):
            out = "%s/%d-%d.%s" % (work, j, i, "elf" if fmt == "elf" else "kdump")
            l0 = load()
            c0, ch0 = qemu_cpu(p), resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.time()
            run(out)
            wall = time.time() - t
            ch1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            qcpu = qemu_cpu(p) - c0
            gcpu = (ch1.ru_utime - ch0.ru_utime) + (ch1.ru_stime - ch0.ru_stime)
            paused(name)
            rows.append((i + 1, name, wall, qcpu, gcpu, os.path.getsize(out), l0, load()))
            os.remove(out)
    ex("quit")
finally:
    if p.poll() is None:
        p.kill()
out = ["| %s guest, %s private RAM, paused, %s | round | wall (s) | CPU: QEMU (s) | CPU: guestdump (s) | bytes | load before/after |"
       % (arch, size, fmt), "|---|---:|---:|---:|---:|---:|---|"]
for r in rows:
    out.append("| %s | %d | %.2f | %.2f | %.2f | %d | %s / %s |" % (r[1], r[0], r[2], r[3], r[4], r[5], r[6], r[7]))
med = lambda v: v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2
text = "\n".join(out) + "\n\n"
for name, _ in runs:
    mine = [r for r in rows if r[1] == name]
    ratio = [r[2] / q[2] for r in mine for q in rows if q[0] == r[0] and q[1] == runs[0][0]]
    text += "%s: median wall %.2f s, median CPU %.2f s; wall / QEMU's in the same round: %s\n" % (
        name, med(sorted(r[2] for r in mine)), med(sorted(r[3] + r[4] for r in mine)),
        ", ".join("%.2f" % x for x in ratio))
print(text, end="")
open(work + "/paused.md", "w").write(text)
PY
