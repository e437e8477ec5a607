#!/usr/bin/env bash
# guestdump kdump and ELF benchmarks, each against its baseline in the same run on the same input.
#
#   bench/kdump.sh [WORK_DIR]        (after `mvn verify`; SIZE=2GiB by default, THREADS=nproc)
#
# 1. Sample guest of SIZE (synthetic: half zero pages, half pseudo-random, 1 MiB of page tables and text):
#    ELF dump vs `cp` of the same RAM bytes; the four kdump codecs; peak RSS of a small and a large guest.
# 2. Golden x86_64 guest (a real Debian kernel, 528 MiB), when the golden files are present: guestdump reads the
#    bytes of QEMU's dump (bench/elf-to-snapshot.py), writes an ELF, and makedumpfile -c/-l/-p/-z (single-threaded
#    and --num-threads) compresses that ELF, while guestdump compresses the same bytes; both exclude zero pages
#    (makedumpfile -d 1, guestdump.kdump.zero-pages = exclude). makedumpfile needs the kernel's VMCOREINFO to run
#    at all, which the synthetic sample does not provide in full, so it is measured on the golden guest only.
#
# Everything is read from the page cache (each input is read once before timing). Prints a Markdown table.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
G=${GUESTDUMP:-$ROOT/distribution/target/guestdump/bin/guestdump}
W=${1:-$(mktemp -d /tmp/guestdump-bench.XXXXXX)}
SIZE=${SIZE:-2GiB}
THREADS=${THREADS:-$(nproc)}
GOLDEN_XZ=${GOLDEN_XZ:-/work/shared/golden/x86_64/qemu-full.elf.xz}
GOLDEN_REGS=${GOLDEN_REGS:-/work/shared/golden/x86_64/info-registers-a.txt}
mkdir -p "$W"

# run LABEL OUTPUT CMD...: wall time, output size and the peak RSS of the command's process tree
run() {
  local label=$1 out=$2; shift 2
  rm -f "$out"
  python3 - "$label" "$out" "$@" <<'PY'
import os, resource, subprocess, sys, time
label, out, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
t = time.monotonic()
rc = subprocess.call(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
dt = time.monotonic() - t
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
size = os.path.getsize(out) / 2**20 if os.path.exists(out) else float('nan')
status = '' if rc == 0 else f' (exit {rc}: not supported by this build)'
print(f'| {label}{status} | {dt:.2f} | {size:.1f} | {rss:.0f} |', flush=True)
PY
}

echo "guestdump bench: $(nproc) processors, threads=$THREADS, $(uname -r), $(java -version 2>&1 | head -1)"
echo "makedumpfile: $(makedumpfile -v 2>&1 | head -1 || echo absent)"
echo
echo "| run | time (s) | output (MiB) | peak RSS (MiB) |"
echo "|---|---:|---:|---:|"

# 1. synthetic sample guest
"$G" sample-guest --output-dir "$W/sample" --size "$SIZE" >/dev/null
RAM="$W/sample/sample-x86_64-ram.bin"
cat "$RAM" >/dev/null
run "sample $SIZE: cp of the RAM bytes (baseline)" "$W/ram.copy" cp "$RAM" "$W/ram.copy"
rm -f "$W/ram.copy"
run "sample $SIZE: guestdump ELF" "$W/sample.elf" "$G" dump "$W/sample/sample-x86_64.conf" -o "$W/sample.elf" \
    -D guestdump.output.fsync=false
rm -f "$W/sample.elf"
for c in zlib lzo snappy zstd; do
  run "sample $SIZE: guestdump kdump-$c" "$W/sample.$c" "$G" dump "$W/sample/sample-x86_64.conf" \
      --format "kdump-$c" -o "$W/sample.$c" -D guestdump.output.fsync=false -D guestdump.kdump.threads="$THREADS"
  rm -f "$W/sample.$c"
done
"$G" sample-guest --output-dir "$W/small" >/dev/null
run "small sample (4 MiB): guestdump kdump-zlib (peak RSS)" "$W/small.kdump" "$G" dump \
    "$W/small/sample-x86_64.conf" --format kdump-zlib -o "$W/small.kdump" -D guestdump.output.fsync=false
rm -rf "$W/sample" "$W/small" "$W/small.kdump"

# 2. golden x86_64 guest: guestdump vs makedumpfile on the same bytes
if [ -f "$GOLDEN_XZ" ] && command -v makedumpfile >/dev/null; then
  GOLDEN="$W/qemu-full.elf"
  [ -f "$GOLDEN" ] || xz -dc "$GOLDEN_XZ" > "$GOLDEN"
  CONF=$(python3 "$ROOT/bench/elf-to-snapshot.py" "$GOLDEN" "$GOLDEN_REGS" "$W/golden")
  "$G" dump "$CONF" -o "$W/golden.elf" -D guestdump.output.fsync=false >/dev/null
  cat "$W/golden.elf" "$GOLDEN" >/dev/null
  run "golden 528 MiB: cp of guestdump's ELF (baseline)" "$W/golden.copy" cp "$W/golden.elf" "$W/golden.copy"
  rm -f "$W/golden.copy"
  run "golden 528 MiB: guestdump ELF" "$W/golden.elf2" "$G" dump "$CONF" -o "$W/golden.elf2" \
      -D guestdump.output.fsync=false
  rm -f "$W/golden.elf2"
  run "golden 528 MiB: guestdump ELF, guestdump.elf.sparse=true" "$W/golden.sparse" "$G" dump "$CONF" \
      -o "$W/golden.sparse" -D guestdump.output.fsync=false -D guestdump.elf.sparse=true
  echo "| golden: disk use of that sparse ELF (du) | | $(du -m "$W/golden.sparse" | cut -f1) | |"
  rm -f "$W/golden.sparse"
  for pair in zlib:-c lzo:-l snappy:-p zstd:-z; do
    c=${pair%%:*}; opt=${pair#*:}
    note=""
    if makedumpfile -v 2>&1 | grep -q "^$c[[:space:]]*disabled"; then
      note=" (built without $c: writes the pages uncompressed)"
    fi
    run "golden: makedumpfile $opt -d 1$note" "$W/md.$c" makedumpfile "$opt" -d 1 "$W/golden.elf" "$W/md.$c"
    rm -f "$W/md.$c"
    run "golden: makedumpfile $opt -d 1 --num-threads $THREADS$note" "$W/mdt.$c" makedumpfile "$opt" -d 1 \
        --num-threads "$THREADS" "$W/golden.elf" "$W/mdt.$c"
    rm -f "$W/mdt.$c"
    run "golden: guestdump kdump-$c, zero pages excluded" "$W/gd.$c" "$G" dump "$CONF" --format "kdump-$c" \
        -o "$W/gd.$c" -D guestdump.output.fsync=false -D guestdump.kdump.zero-pages=exclude \
        -D guestdump.kdump.threads="$THREADS"
    rm -f "$W/gd.$c"
  done
  rm -f "$W/golden.elf"
fi
