#!/bin/sh
# Adds gdb's symbol index (.gdb_index) to the kernel debug symbols prepare-dbg.sh fetched, for crash:
#   bench/qemu-interop/prepare-dbg-index.sh [amd64|arm64|ppc64el|s390x]   (default amd64)
# Leaves $GUESTDUMP_CACHE/dbg/<arch>/vmlinux-<version>-indexed: the same vmlinux, byte for byte in every section,
# plus a .gdb_index section. crash's embedded gdb otherwise builds partial symbol tables for every compilation unit
# of the 200-600 MB DWARF each time it starts, which is most of a crash run under qemu-user (bench figures in
# docs/consumers.md); with the index it reads only the units a command needs. drgn reads the plain vmlinux.
# The index is written by the host's gdb-multiarch (`save gdb-index`), the section added by objcopy of the vmlinux's
# arch: the host's for amd64, else the binutils in Debian's crash root of that arch (prepare-crash.sh) under
# qemu-user, since the host's objcopy knows x86 only.
set -eu
ARCH=${1:-amd64}
CACHE=${GUESTDUMP_CACHE:-$HOME/.cache/guestdump}
OUT=$CACHE/dbg/$ARCH
KVER=$(cat "$OUT/kernel-version" 2>/dev/null) || { echo "$OUT/kernel-version missing: run bench/qemu-interop/prepare-dbg.sh $ARCH first" >&2; exit 2; }
IN=$OUT/vmlinux-$KVER
DEST=$OUT/vmlinux-$KVER-indexed
if [ -s "$DEST" ] && [ "$DEST" -nt "$IN" ]; then
  echo "$DEST: already prepared"; exit 0
fi
case $ARCH in
  amd64) OBJCOPY=objcopy ;;
  arm64|ppc64el|s390x)
    ROOT=$CACHE/crash/$ARCH/root
    [ -x "$ROOT/usr/bin/objcopy" ] || { echo "$ROOT/usr/bin/objcopy missing: run bench/qemu-interop/prepare-crash.sh $ARCH first" >&2; exit 2; }
    QEMU=qemu-$(case $ARCH in arm64) echo aarch64 ;; ppc64el) echo ppc64le ;; s390x) echo s390x ;; esac)-static
    OBJCOPY="$QEMU -L $ROOT $ROOT/usr/bin/objcopy" ;;
  *) echo "arch $ARCH: one of amd64 arm64 ppc64el s390x" >&2; exit 2 ;;
esac
WORK=$OUT/index-work
rm -rf "$WORK"; mkdir -p "$WORK"
gdb-multiarch -batch -nx -ex "save gdb-index $WORK" "$IN" >/dev/null
[ -s "$WORK/vmlinux-$KVER.gdb-index" ] || { echo "gdb-multiarch wrote no index for $IN" >&2; exit 1; }
$OBJCOPY --add-section .gdb_index="$WORK/vmlinux-$KVER.gdb-index" --set-section-flags .gdb_index=readonly "$IN" "$WORK/vmlinux"
mv "$WORK/vmlinux" "$DEST"
rm -rf "$WORK"
echo "$DEST"
