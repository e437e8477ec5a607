#!/bin/sh
# Fetches the kernel debug symbols (vmlinux with DWARF) that match an interop guest's kernel exactly:
#   bench/qemu-interop/prepare-dbg.sh [amd64|i386|arm64|armhf|ppc64el|s390x]   (default amd64)
# Reads the version from $GUESTDUMP_CACHE/qemu/<arch>/kernel-version (written by prepare-kernel.sh) and
# leaves $GUESTDUMP_CACHE/dbg/<arch>/vmlinux-<version> plus a kernel-version file ($GUESTDUMP_CACHE defaults
# to ~/.cache/guestdump). Debian's linux-image-<version>-dbg package (about 1 GiB) is downloaded through a
# private apt state (no dpkg architecture is added), only vmlinux is extracted, and the .deb is deleted.
# Needs apt-get, dpkg-deb, tar.
set -eu
ARCH=${1:-amd64}
CACHE=${GUESTDUMP_CACHE:-$HOME/.cache/guestdump}
KVERFILE=$CACHE/qemu/$ARCH/kernel-version
[ -s "$KVERFILE" ] || { echo "$KVERFILE missing: run bench/qemu-interop/prepare-kernel.sh $ARCH first" >&2; exit 2; }
KVER=$(cat "$KVERFILE")
OUT=$CACHE/dbg/$ARCH
if [ -s "$OUT/vmlinux-$KVER" ] && [ "$(cat "$OUT/kernel-version" 2>/dev/null)" = "$KVER" ]; then
  echo "$OUT: already prepared ($KVER)"; exit 0
fi
WORK=$CACHE/dbg/work-$ARCH
rm -rf "$WORK"; mkdir -p "$WORK/apt/lists/partial" "$WORK/apt/cache/archives/partial" "$WORK/debs" "$WORK/root"
O="-oAPT::Architecture=$ARCH -oAPT::Architectures=$ARCH -oDir::State::Lists=$WORK/apt/lists -oDir::Cache=$WORK/apt/cache -oDebug::NoLocking=1"
apt-get $O -qq update || echo "warning: apt-get update reported errors; going on with the indexes it got" >&2
PKG=linux-image-$KVER-dbg
apt-cache $O show "$PKG" >/dev/null 2>&1 || { echo "$PKG is not in the archive any more; re-run prepare-kernel.sh $ARCH for a current kernel" >&2; exit 1; }
(cd "$WORK/debs" && apt-get $O -qq download "$PKG")
DEB=$(ls "$WORK"/debs/"$PKG"_*.deb | head -1)
# only the vmlinux: the module debug files are not needed by crash or drgn for the core kernel checks
dpkg-deb --fsys-tarfile "$DEB" | tar -x -C "$WORK/root" --wildcards "./usr/lib/debug/boot/vmlinux-$KVER" "./usr/lib/debug/vmlinux-$KVER" 2>/dev/null || true
rm -f "$DEB"
VMLINUX=$(ls "$WORK"/root/usr/lib/debug/boot/vmlinux-"$KVER" "$WORK"/root/usr/lib/debug/vmlinux-"$KVER" 2>/dev/null | head -1)
[ -n "$VMLINUX" ] || { echo "no vmlinux-$KVER in $PKG" >&2; exit 1; }
mkdir -p "$OUT"
rm -f "$OUT"/vmlinux-*
mv "$VMLINUX" "$OUT/vmlinux-$KVER"
echo "$KVER" > "$OUT/kernel-version"
rm -rf "$WORK"
echo "$OUT: vmlinux-$KVER"
