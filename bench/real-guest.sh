#!/usr/bin/env bash
# guestdump against QEMU's dump-guest-memory and makedumpfile on a multi-GiB guest running a real Debian kernel.
#
#   bench/real-guest.sh [WORK_DIR]   (after `mvn package`; SIZE=4GiB by default, THREADS=nproc, GUESTDUMP=launcher,
#                                     MD_THREADED=0 skips makedumpfile --num-threads, PMEMSAVE=0 the share=off guest)
#
# 1. Kernel and initramfs of bench/qemu-interop/prepare-kernel.sh amd64 (cached), booted under TCG (-M pc, 2 vCPUs,
#    -device vmcoreinfo) with SIZE of RAM in a memory-backend-file, share=on. Before the boot that file is filled
#    with real file content from /usr/lib, /usr/share and /usr/bin in 4 KiB-aligned pieces, interleaved with zero
#    runs (ZERO_SHARE, 35 % of the pages by default), so the dump is not mostly zero pages. A hash per page is kept
#    to tell afterwards how much of that content the running kernel left as it was.
# 2. Guest paused (QMP stop), everything from the page cache, no fsync:
#    - QEMU dump-guest-memory (ELF, paging=false; kdump-zlib/lzo/snappy where query-dump-guest-memory-capability
#      lists them) vs guestdump dump qmp: (ELF and the kdump codecs; RAM read from the shared file), JVM start
#      included; QEMU and guestdump each have their own QMP socket;
#    - cp of QEMU's ELF vs guestdump dump elf:QEMU.elf (re-dump);
#    - makedumpfile -c/-l/-p/-z -d 1 (single-threaded and --num-threads THREADS) vs guestdump dump elf:
#      --format kdump-* with zero pages excluded (the same dump level), both on guestdump's live ELF of the paused
#      guest (checked: the same notes and the same bytes at every physical address as QEMU's ELF). makedumpfile
#      1.7.2 cannot read QEMU 7.2's ELF: it reads the program headers right after the ELF header, ignoring e_phoff,
#      and QEMU puts its section headers there ("get_elf_info: Can't get the number of PT_LOAD").
# 3. The same guest booted again with RAM NOT readable as a file (the same file mapped share=off, i.e. private
#    copy-on-write memory that guestdump must not read): QEMU's ELF dump vs guestdump's, which streams QMP pmemsave
#    through a FIFO.
# Every guestdump kdump file is checked once, untimed: makedumpfile --dump-dmesg must print the kernel log (codecs
# makedumpfile was built with), and libkdumpfile (/usr/bin/python3 kdumpfile) must read 2,000 random pages equal
# to QEMU's ELF. QEMU is always quit and the big files removed on exit. Prints a Markdown table, also written to
# WORK_DIR/real-guest.md.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
G=${GUESTDUMP:-$ROOT/distribution/target/guestdump/bin/guestdump}
W=${1:-$(mktemp -d /tmp/guestdump-real.XXXXXX)}
SIZE=${SIZE:-4GiB}
THREADS=${THREADS:-$(nproc)}
MD_THREADED=${MD_THREADED:-1}   # 0 skips makedumpfile --num-threads (minutes per codec at 4 GiB on 2 cores)
ZERO_SHARE=${ZERO_SHARE:-0.35}
CACHE=${GUESTDUMP_CACHE:-$HOME/.cache/guestdump}/qemu/amd64
KDUMP_PY=${KDUMP_PY:-/usr/bin/python3}   # a python3 with libkdumpfile's bindings
mkdir -p "$W"
W=$(cd "$W" && pwd)
MD=$W/real-guest.md
QEMU_PID=
S=${SIZE%B}; BYTES=$(numfmt --from=iec "${S%i}")

cleanup() {
  local rc=$?
  stop_qemu
  rm -f "$W"/guest-ram "$W"/*.elf "$W"/*.kdump* "$W"/*.copy "$W"/*.partial "$W"/prefill.hashes
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# qmp SOCK COMMAND [ARGUMENTS-JSON]: one QMP command on a fresh connection; prints the "return" value as JSON
qmp() {
  python3 - "$@" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile('rw')
json.loads(f.readline())
def cmd(c, a=None):
    f.write(json.dumps({'execute': c, **({'arguments': a} if a else {})}) + '\n'); f.flush()
    while True:
        m = json.loads(f.readline())
        if 'return' in m: return m['return']
        if 'error' in m: sys.exit(f'QMP {c}: {m["error"]}')
cmd('qmp_capabilities')
r = cmd(sys.argv[2], json.loads(sys.argv[3]) if len(sys.argv) > 3 else None)
print(r if isinstance(r, str) else json.dumps(r))
PY
}

# row LABEL TIME OUTPUT RSS: one table row, on screen and in the Markdown file
row() { printf '| %s | %s | %s | %s |\n' "$@" | tee -a "$MD"; }
note() { printf '%s\n' "$*" | tee -a "$MD.notes"; }

# run LABEL OUTPUT CMD...: wall time, output size and the peak RSS of the command's process tree (as bench/kdump.sh)
run() {
  local label=$1 out=$2; shift 2
  rm -f "$out"
  sync
  python3 - "$label" "$out" "$@" <<'PY' | tee -a "$MD"
import os, resource, subprocess, sys, time
label, out, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
t = time.monotonic()
r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
dt = time.monotonic() - t
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
size = os.path.getsize(out) / 2**20 if os.path.exists(out) else float('nan')
status = '' if r.returncode == 0 else f' (exit {r.returncode}: {r.stderr.decode(errors="replace").strip()[-200:]})'
print(f'| {label}{status} | {dt:.2f} | {size:.1f} | {rss:.0f} |', flush=True)
PY
}

# qemu_dump LABEL OUTPUT FORMAT: QEMU's dump-guest-memory (detach, then the DUMP_COMPLETED event) on the paused
# guest; the time runs from sending the command to the event. The peak RSS column gives the growth of QEMU's VmHWM.
qemu_dump() {
  local label=$1 out=$2 format=$3
  rm -f "$out"
  sync
  python3 - "$W/ctl.sock" "$label" "$out" "$format" "$QEMU_PID" <<'PY' | tee -a "$MD"
import json, os, socket, sys, time
sock, label, out, fmt, pid = sys.argv[1:]
def hwm():
    for l in open(f'/proc/{pid}/status'):
        if l.startswith('VmHWM'): return int(l.split()[1]) / 1024
s = socket.socket(socket.AF_UNIX); s.connect(sock); f = s.makefile('rw')
json.loads(f.readline())
def send(c, a=None):
    f.write(json.dumps({'execute': c, **({'arguments': a} if a else {})}) + '\n'); f.flush()
send('qmp_capabilities'); json.loads(f.readline())
h0 = hwm()
t = time.monotonic()
send('dump-guest-memory', {'paging': False, 'protocol': 'file:' + out, 'format': fmt, 'detach': True})
err = None
while True:
    m = json.loads(f.readline())
    if 'error' in m: err = m['error']['desc']; break
    if m.get('event') == 'DUMP_COMPLETED':
        err = m['data'].get('error'); break
dt = time.monotonic() - t
size = os.path.getsize(out) / 2**20 if os.path.exists(out) else float('nan')
status = f' (failed: {err})' if err else ''
print(f'| {label}{status} | {dt:.2f} | {size:.1f} | QEMU +{hwm() - h0:.0f} |', flush=True)
PY
}

# boot SHARE: QEMU with SIZE of RAM in $W/guest-ram (share=on or off), two QMP sockets, until GUESTDUMP-READY
boot() {
  rm -f "$W"/ctl.sock "$W"/gd.sock "$W"/serial.log
  qemu-system-x86_64 -M pc -cpu qemu64 -accel tcg -smp 2 -m "$((BYTES >> 20))M" \
      -object "memory-backend-file,id=ram0,size=$BYTES,mem-path=$W/guest-ram,share=$1" -machine memory-backend=ram0 \
      -display none -monitor none -nic none -serial "file:$W/serial.log" \
      -qmp "unix:$W/ctl.sock,server=on,wait=off" -qmp "unix:$W/gd.sock,server=on,wait=off" \
      -kernel "$CACHE/vmlinuz" -initrd "$CACHE/initrd.cpio.gz" -append "console=ttyS0 panic=0" -no-reboot \
      -device vmcoreinfo >"$W/qemu.out" 2>&1 &
  QEMU_PID=$!
  local t0=$SECONDS
  until grep -q GUESTDUMP-READY "$W/serial.log" 2>/dev/null; do
    kill -0 "$QEMU_PID" 2>/dev/null || { echo "QEMU exited: $(cat "$W/qemu.out")" >&2; exit 1; }
    [ $((SECONDS - t0)) -lt 600 ] || { echo "no GUESTDUMP-READY after 600 s" >&2; exit 1; }
    sleep 0.5
  done
  note "- boot (share=$1) to GUESTDUMP-READY: $((SECONDS - t0)) s"
}

stop_qemu() {
  if [ -n "$QEMU_PID" ] && kill -0 "$QEMU_PID" 2>/dev/null; then
    qmp "$W/ctl.sock" cont >/dev/null 2>&1 || true
    qmp "$W/ctl.sock" quit >/dev/null 2>&1 || kill "$QEMU_PID" 2>/dev/null || true
    wait "$QEMU_PID" 2>/dev/null || true
  fi
  QEMU_PID=
}

# check_kdump FILE share|excluded: untimed; makedumpfile --dump-dmesg, then libkdumpfile against QEMU's ELF
check_kdump() {
  local f=$1 zero=$2 c=${1##*.} msg
  rm -f "$W/dmesg.txt"
  if makedumpfile --dump-dmesg "$f" "$W/dmesg.txt" >"$W/dmesg.out" 2>&1 && grep -q "Linux version" "$W/dmesg.txt"; then
    msg="makedumpfile --dump-dmesg: $(wc -l <"$W/dmesg.txt") lines, $(grep -m1 -o 'Linux version [^ ]*' "$W/dmesg.txt")"
  else
    msg="makedumpfile --dump-dmesg failed: $(grep -v '^$' "$W/dmesg.out" | head -2 | paste -sd' ' || true)"
  fi
  msg="$msg; libkdumpfile: $("$KDUMP_PY" - "$f" "$W/qemu.elf" "$zero" <<'PY' 2>&1 | tail -1
import kdumpfile, random, struct, sys
k = kdumpfile.kdumpfile(sys.argv[1])
if sys.argv[3] == 'excluded': k.attr['file.zero_excluded'] = 1
f = open(sys.argv[2], 'rb'); h = f.read(64)
phoff, = struct.unpack('<Q', h[32:40]); ent, num = struct.unpack('<HH', h[54:58])
loads = []
for i in range(num):
    f.seek(phoff + i * ent); t, _, off, _, pa, fs, _, _ = struct.unpack('<IIQQQQQQ', f.read(ent))
    if t == 1 and fs: loads.append((pa, off, fs))
rnd = random.Random(7); n = 0
for _ in range(2000):
    pa, off, fs = rnd.choice(loads); i = rnd.randrange(fs // 4096) * 4096
    f.seek(off + i); want = f.read(4096)
    try:
        got = k.read(kdumpfile.KDUMP_MACHPHYSADDR, pa + i, 4096)
    except kdumpfile.NoDataError:
        got = bytes(4096) if sys.argv[3] == 'excluded' else None
    assert got == want, hex(pa + i); n += 1
print(f'{n} random pages equal to QEMU ELF')
PY
)" || true
  note "- check $(basename "$f") (zero pages $zero): $msg"
}

# 0. kernel and environment
"$ROOT/bench/qemu-interop/prepare-kernel.sh" amd64 >/dev/null
: >"$MD"; : >"$MD.notes"
{
  echo "real-guest bench: $(nproc) processors, threads=$THREADS, host $(uname -r), $(java -version 2>&1 | head -1)"
  echo "$(qemu-system-x86_64 --version | head -1); makedumpfile: $(makedumpfile -v 2>&1 | head -1)"
  echo "guest: Debian $(cat "$CACHE/kernel-version"), $SIZE, -M pc, 2 vCPUs, TCG; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  echo "| run | time (s) | output (MiB) | peak RSS (MiB) |"
  echo "|---|---:|---:|---:|"
} | tee "$MD"

# 1. guest RAM file: real file content in 4 KiB-aligned pieces (at most 2 MiB of one file), zero runs between
python3 "$ROOT/bench/prefill.py" "$W/guest-ram" "$BYTES" "$ZERO_SHARE" "$W/prefill.hashes" | tee -a "$MD.notes"
sync

# 2. file-backed guest (share=on), paused
boot on
qmp "$W/ctl.sock" stop >/dev/null
qmp "$W/ctl.sock" human-monitor-command '{"command-line":"info mtree -f"}' >"$W/mtree.txt"
CAPS=$(qmp "$W/ctl.sock" query-dump-guest-memory-capability)
note "- QEMU dump formats (query-dump-guest-memory-capability): $CAPS"
ram_load=$(cut -d' ' -f1 /proc/loadavg)

qemu_dump "QEMU dump-guest-memory, ELF" "$W/qemu.elf" elf
cat "$W/qemu.elf" >/dev/null
run "guestdump dump qmp: (RAM read from the shared file), ELF" "$W/live.elf" "$G" dump "qmp:$W/gd.sock" \
    -o "$W/live.elf" -D guestdump.output.fsync=false

# what the guest's memory holds: zero pages, and pages still as prefilled (RAM offsets from info mtree -f)
python3 - "$W/qemu.elf" "$W/live.elf" "$W/mtree.txt" "$W/prefill.hashes" <<'PY' | tee -a "$MD.notes"
import hashlib, json, mmap, re, struct, sys
import numpy as np
def loads(p):
    f = open(p, 'rb'); h = f.read(64)
    phoff, = struct.unpack('<Q', h[32:40]); ent, num = struct.unpack('<HH', h[54:58]); out = []
    for i in range(num):
        f.seek(phoff + i * ent); t, _, off, _, pa, fs, _, _ = struct.unpack('<IIQQQQQQ', f.read(ent))
        if t == 1: out.append((pa, off, fs))
    return sorted(out), mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
(lq, mq), (ll, ml) = loads(sys.argv[1]), loads(sys.argv[2])
C = 64 << 20
same = [(pa, n) for pa, _, n in lq] == [(pa, n) for pa, _, n in ll] and all(
    mq[o + i:o + min(i + C, n)] == ml[p + i:p + min(i + C, n)] for (_, o, n), (_, p, _) in zip(lq, ll)
    for i in range(0, n, C))
print(f'- guestdump qmp: ELF vs QEMU ELF: {len(ll)} vs {len(lq)} PT_LOADs, bytes at every paddr '
      + ('equal' if same else 'DIFFERENT'))
# flat view of the memory address space: "paddr-end (prio, ram): ram0 @offset"
mt = next(v for v in open(sys.argv[3]).read().split('FlatView #') if 'AS "memory"' in v)
ram = []
for m in re.finditer(r'([0-9a-f]{16})-([0-9a-f]{16}) \(prio \d+, ram\): ram0(?: @([0-9a-f]{16}))?', mt):
    ram.append((int(m[1], 16), int(m[2], 16) + 1, int(m[3] or '0', 16)))
hs = np.fromfile(sys.argv[4], dtype='<u8')
tot = zero = unchanged = was_zero_now_data = 0
for pa, off, fs in lq:
    a = np.frombuffer(mq, dtype='<u8', count=fs // 8, offset=off).reshape(-1, 512)
    nz = a.any(axis=1); tot += len(nz); zero += int((~nz).sum())
    for start, end, roff in ram:
        lo, hi = max(pa, start), min(pa + fs, end)
        for x in range(lo, hi, 4096):
            pg = mq[off + x - pa: off + x - pa + 4096]
            d = int.from_bytes(hashlib.blake2b(pg, digest_size=8).digest(), 'little')
            idx = (x - start + roff) // 4096
            unchanged += d == int(hs[idx])
zero_pre = int((hs == int.from_bytes(hashlib.blake2b(bytes(4096), digest_size=8).digest(), 'little')).sum())
print(f'- QEMU ELF: {tot} pages, {zero} all-zero ({100 * zero / tot:.1f} %), {tot - zero} non-zero; '
      f'{unchanged} of the {len(hs)} RAM pages ({100 * unchanged / len(hs):.1f} %) still hold the prefilled bytes '
      f'(prefill had {zero_pre} zero pages); RAM blocks (paddr, end, offset): '
      + ', '.join(f'{s:#x}-{e:#x}@{o:#x}' for s, e, o in ram))
PY

for c in zlib lzo snappy zstd; do
  if grep -q "\"kdump-$c\"" <<<"$CAPS"; then
    qemu_dump "QEMU dump-guest-memory, kdump-$c" "$W/qemu.kdump-$c" "kdump-$c"
    rm -f "$W/qemu.kdump-$c"
  else
    row "QEMU dump-guest-memory, kdump-$c (not offered by this QEMU)" "" "" ""
  fi
  run "guestdump dump qmp:, kdump-$c (zero pages shared, as QEMU)" "$W/live.kdump-$c" "$G" dump "qmp:$W/gd.sock" \
      --format "kdump-$c" -o "$W/live.kdump-$c" -D guestdump.output.fsync=false -D guestdump.kdump.threads="$THREADS"
  check_kdump "$W/live.kdump-$c" share
  rm -f "$W/live.kdump-$c"
done
QEMU_STATUS=$(grep -E 'VmHWM|RssAnon|RssFile|RssShmem' "/proc/$QEMU_PID/status" | tr -s ' \t' ' ' | paste -sd, -)
note "- QEMU process after its dumps: $QEMU_STATUS (the shared RAM file's pages count as RssFile/RssShmem)"
stop_qemu

# 3. re-dump of QEMU's ELF; makedumpfile and guestdump on guestdump's live ELF (same bytes); from the page cache
cat "$W/qemu.elf" >/dev/null
run "cp of QEMU's ELF (baseline)" "$W/qemu.copy" cp "$W/qemu.elf" "$W/qemu.copy"
rm -f "$W/qemu.copy"
run "guestdump dump elf:QEMU.elf, ELF (re-dump)" "$W/redump.elf" "$G" dump "elf:$W/qemu.elf" -o "$W/redump.elf" \
    -D guestdump.output.fsync=false
rm -f "$W/redump.elf"
run "makedumpfile -l -d 1 on QEMU's own ELF" "$W/md.kdump" makedumpfile -l -d 1 "$W/qemu.elf" "$W/md.kdump"
rm -f "$W/md.kdump"
cat "$W/live.elf" >/dev/null
for pair in zlib:-c lzo:-l snappy:-p zstd:-z; do
  c=${pair%%:*}; opt=${pair#*:}
  off=""
  if makedumpfile -v 2>&1 | grep -q "^$c[[:space:]]*disabled"; then
    off=" (built without $c: writes the pages uncompressed)"
  fi
  run "makedumpfile $opt -d 1$off" "$W/md.kdump" makedumpfile "$opt" -d 1 "$W/live.elf" "$W/md.kdump"
  rm -f "$W/md.kdump"
  if [ "$MD_THREADED" = 1 ]; then
    run "makedumpfile $opt -d 1 --num-threads $THREADS$off" "$W/md.kdump" makedumpfile "$opt" -d 1 \
        --num-threads "$THREADS" "$W/live.elf" "$W/md.kdump"
    rm -f "$W/md.kdump"
  fi
  run "guestdump dump elf:LIVE.elf, kdump-$c, zero pages excluded" "$W/gd.kdump-$c" "$G" dump "elf:$W/live.elf" \
      --format "kdump-$c" -o "$W/gd.kdump-$c" -D guestdump.output.fsync=false -D guestdump.kdump.zero-pages=exclude \
      -D guestdump.kdump.threads="$THREADS"
  check_kdump "$W/gd.kdump-$c" excluded
  rm -f "$W/gd.kdump-$c"
done
rm -f "$W/live.elf" "$W/qemu.elf"

# 4. the same RAM file mapped share=off: private memory, so guestdump streams QMP pmemsave through a FIFO
if [ "${PMEMSAVE:-1}" = 1 ]; then
  boot off
  qmp "$W/ctl.sock" stop >/dev/null
  qemu_dump "share=off guest: QEMU dump-guest-memory, ELF" "$W/qemu2.elf" elf
  rm -f "$W/qemu2.elf"
  run "share=off guest: guestdump dump qmp: (QMP pmemsave through a FIFO), ELF" "$W/live2.elf" "$G" dump \
      "qmp:$W/gd.sock" -o "$W/live2.elf" -D guestdump.output.fsync=false
  rm -f "$W/live2.elf"
  run "share=off guest: guestdump dump qmp: (pmemsave), kdump-lzo" "$W/live2.kdump-lzo" "$G" dump \
      "qmp:$W/gd.sock" --format kdump-lzo -o "$W/live2.kdump-lzo" -D guestdump.output.fsync=false \
      -D guestdump.kdump.threads="$THREADS"
  rm -f "$W/live2.kdump-lzo"
  stop_qemu
fi

note "- load average at the first dump: $ram_load; after the last: $(cut -d' ' -f1-3 /proc/loadavg)"
echo | tee -a "$MD"
cat "$MD.notes" >>"$MD"
rm -f "$MD.notes"
