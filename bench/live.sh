#!/usr/bin/env bash
# Live dumps: the guest's downtime and the total time of guestdump's live dump (QEMU's background snapshot) against
# QEMU's own dump-guest-memory and guestdump's stop-dump-resume (--live=never), on one running guest.
#
#   bench/live.sh [WORK_DIR]   (after `mvn package`; SIZE=2G by default, ARCH=amd64 (or arm64), GUESTDUMP=launcher,
#                               ROUNDS=1: the three dumps ROUNDS times, the order rotating from round to round)
#
# The interop guest of bench/qemu-interop/prepare-kernel.sh ARCH booted under TCG with SIZE of private RAM, 2 vCPUs,
# -device vmcoreinfo, two QMP sockets (guestdump uses one, this script the other). Each dump writes an ELF to
# WORK_DIR (page cache, no fsync) while the guest runs:
#   - QEMU dump-guest-memory (paging=false): it stops the guest for the whole dump;
#   - guestdump --live=never: stop, dump, resume;
#   - guestdump (--live=auto, the default): background snapshot, the guest stopped only at its start.
# Downtime is the time between QEMU's STOP and RESUME events (their timestamps) as seen on this script's QMP
# connection; total is the wall time of the command (guestdump's JVM start included); CPU is QEMU's (utime + stime
# from /proc/PID/stat, before and after: its vCPUs run during a live dump) plus guestdump's (the JVM's rusage), and
# the load average is read before and after each dump. Prints a Markdown table,
# also written to WORK_DIR/live.md; QEMU is quit and the dumps removed on exit.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${1:-$(mktemp -d /var/tmp/guestdump-live.XXXXXX)}
SIZE=${SIZE:-2G}
ARCH=${ARCH:-amd64}
GUESTDUMP=${GUESTDUMP:-$ROOT/distribution/target/guestdump/bin/guestdump}
mkdir -p "$WORK"
trap 'rm -f "$WORK"/*.elf' EXIT
GUESTDUMP_BENCH="$ROOT/bench" /usr/bin/python3 - "$WORK" "$SIZE" "$ARCH" "$GUESTDUMP" "${ROUNDS:-1}" <<'PY'
import json, os, re, resource, socket, subprocess, sys, threading, time
work, size, arch, guestdump, rounds = sys.argv[1:6]
sys.path.insert(0, os.environ["GUESTDUMP_BENCH"])
from benchguest import boot, connect, load, qemu_cpu, wait_ready
p, sock, mine, serial = boot(work, size, arch)
events, replies, lock = [], [], threading.Condition()
try:
    wait_ready(p, serial, 600)
    s, f = connect(mine)
    def reader():
        for line in f:
            m = json.loads(line)
            with lock:
                (events if "event" in m else replies).append(m)
                lock.notify_all()
    threading.Thread(target=reader, daemon=True).start()
    def ex(c, a=None):
        m = {"execute": c}
        if a:
            m["arguments"] = a
        with lock:
            n = len(replies)
            f.write(json.dumps(m) + "\n"); f.flush()
            while len(replies) == n:
                lock.wait()
            r = replies[n]
        if "error" in r:
            sys.exit(c + ": " + str(r))
        return r["return"]
    ex("qmp_capabilities")
    def downtime(mark):
        with lock:
            ev = [e for e in events[mark:] if e["event"] in ("STOP", "RESUME")]
        ts = lambda e: e["timestamp"]["seconds"] + e["timestamp"]["microseconds"] / 1e6
        stop = next((ts(e) for e in ev if e["event"] == "STOP"), None)
        res = next((ts(e) for e in ev if e["event"] == "RESUME" and stop is not None and ts(e) >= stop), None)
        return None if stop is None or res is None else res - stop
    rows = []
    def measure(name, run, out, rnd):
        with lock:
            mark = len(events)
        l0, c0, ch0 = load(), qemu_cpu(p), resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.time()
        extra = run()
        total = time.time() - t
        ch1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (qemu_cpu(p) - c0, ch1.ru_utime - ch0.ru_utime + ch1.ru_stime - ch0.ru_stime)
        time.sleep(0.5)  # the RESUME event may trail the command's reply
        assert ex("query-status")["running"], name + " left the guest stopped"
        rows.append((name, downtime(mark), total, os.path.getsize(out), extra, rnd, cpu, l0 + " / " + load()))
        print("measured:", rows[-1], file=sys.stderr, flush=True)
        os.remove(out)
    qemu_elf = work + "/qemu.elf"
    def gd(live, out):
        def run():
            r = subprocess.run([guestdump, "dump", "qmp:" + sock, "-o", out, "-f", "--live=" + live],
                               capture_output=True, text=True)
            if r.returncode != 0:
                sys.exit("guestdump --live=%s failed (exit %d): %s%s" % (live, r.returncode, r.stdout, r.stderr))
            m = re.search(r"guest: (.*)", r.stdout + r.stderr)
            return m.group(1) if m else ""
        return run
    runs = [("QEMU dump-guest-memory (ELF)", lambda: ex("dump-guest-memory",
             {"paging": False, "protocol": "file:" + qemu_elf}) and "", qemu_elf),
            ("guestdump --live=never (stop, dump, resume)", gd("never", work + "/never.elf"), work + "/never.elf"),
            ("guestdump, live (background snapshot)", gd("auto", work + "/live.elf"), work + "/live.elf")]
    for i in range(int(rounds)):
        k = i % len(runs)
        for name, run, out in runs[k:] + runs[:k]:
            measure(name, run, out, i + 1)
    ex("quit")
finally:
    if p.poll() is None:
        p.kill()
out = ["| %s guest, %s, 2 vCPUs, TCG | round | downtime | vs QEMU | total | vs QEMU | CPU: QEMU + guestdump | "
       "bytes written | load before / after |" % (arch, size), "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
for name, down, total, size_, extra, rnd, cpu, loads in rows:
    base = next(r for r in rows if r[5] == rnd and r[0].startswith("QEMU"))
    base_down, base_total = base[1], base[2]
    d = "—" if down is None else "%.1f ms" % (down * 1000)
    dr = "—" if down is None or not base_down else "%.4f×" % (down / base_down)
    out.append("| %s | %d | %s | %s | %.2f s | %.2f× | %.2f + %.2f s | %d | %s |" % (
        name, rnd, d, dr, total, total / base_total, cpu[0], cpu[1], size_, loads))
text = "\n".join(out) + "\n"
print(text, end="")
for name, down, total, size_, extra, rnd, cpu, loads in rows:
    if extra:
        print("  %s: %s" % (name, extra))
open(work + "/live.md", "w").write(text)
PY
