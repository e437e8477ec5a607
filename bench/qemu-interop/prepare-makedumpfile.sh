#!/bin/sh
# Extracts Debian bookworm's makedumpfile for another architecture, with the libraries it loads, into a
# private root, to be run under qemu-user (qemu-<arch>-static -L ROOT ROOT/usr/bin/makedumpfile):
#   bench/qemu-interop/prepare-makedumpfile.sh [arm64|armhf|i386|ppc64el|s390x]   (default arm64)
# Result (cached): $GUESTDUMP_CACHE/makedumpfile/<arch>/root ($GUESTDUMP_CACHE defaults to ~/.cache/guestdump).
# Uses a private apt state like prepare-kernel.sh: no dpkg architecture is added, nothing is installed.
set -eu
ARCH=${1:-arm64}
CACHE=${GUESTDUMP_CACHE:-$HOME/.cache/guestdump}
OUT=$CACHE/makedumpfile/$ARCH
if [ -x "$OUT/root/usr/bin/makedumpfile" ]; then
  echo "$OUT: already prepared"; exit 0
fi
WORK=$CACHE/makedumpfile/work-$ARCH
rm -rf "$WORK"; mkdir -p "$WORK/apt/lists/partial" "$WORK/apt/cache/archives/partial" "$WORK/debs"
O="-oAPT::Architecture=$ARCH -oAPT::Architectures=$ARCH -oDir::State::Lists=$WORK/apt/lists -oDir::Cache=$WORK/apt/cache -oDebug::NoLocking=1"
apt-get $O -qq update || echo "warning: apt-get update reported errors; going on with the indexes it got" >&2
# makedumpfile and its shared libraries (libdw1's own dependencies included)
(cd "$WORK/debs" && apt-get $O -qq download makedumpfile libc6 libdw1 libelf1 liblzo2-2 zlib1g libbz2-1.0 \
  liblzma5 libzstd1 libgcc-s1)
rm -rf "$OUT"; mkdir -p "$OUT/root"
for d in "$WORK"/debs/*.deb; do dpkg-deb -x "$d" "$OUT/root"; done
# absolute symlinks (ppc64el's /lib64/ld64.so.2 -> /lib/powerpc64le-linux-gnu/ld64.so.2) would resolve on the host
# under qemu-user -L: point them inside the root
find "$OUT/root" -type l | while read -r l; do
  t=$(readlink "$l")
  case $t in /*) ln -sf "$OUT/root$t" "$l" ;; esac
done
rm -rf "$WORK"
echo "$OUT: makedumpfile for $ARCH"
