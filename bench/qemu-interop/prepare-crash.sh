#!/bin/sh
# Debian's crash utility for a foreign architecture, to run under qemu-user (qemu-user-static):
#   bench/qemu-interop/prepare-crash.sh [arm64|armhf|ppc64el|s390x|i386]   (default arm64)
# Leaves a private root $GUESTDUMP_CACHE/crash/<arch>/root with usr/bin/crash and the shared libraries it needs
# ($GUESTDUMP_CACHE defaults to ~/.cache/guestdump); run it as
#   qemu-aarch64-static -L $ROOT $ROOT/usr/bin/crash ...
# The packages come from Debian's archive through a private apt state (no dpkg architecture is added); the .debs
# are deleted after extraction. Needs apt-get, apt-cache, dpkg-deb.
set -eu
ARCH=${1:-arm64}
CACHE=${GUESTDUMP_CACHE:-$HOME/.cache/guestdump}
OUT=$CACHE/crash/$ARCH
# Absolute symlinks in the root (ppc64el's /lib64/ld64.so.2 -> /lib/powerpc64le-linux-gnu/ld64.so.2) would point
# into the host under qemu-user's -L: each is made relative, within the root (also in a root prepared before this).
relative_links() {
  find "$1" -type l -lname '/*' | while read -r l; do
    ln -sfn "$(realpath -m --relative-to="$(dirname "$l")" "$1$(readlink "$l")")" "$l"
  done
}
if [ -x "$OUT/root/usr/bin/crash" ]; then
  relative_links "$OUT/root"
  echo "$OUT: already prepared"; exit 0
fi
WORK=$CACHE/crash/work-$ARCH
rm -rf "$WORK"; mkdir -p "$WORK/apt/lists/partial" "$WORK/apt/cache/archives/partial" "$WORK/debs"
O="-oAPT::Architecture=$ARCH -oAPT::Architectures=$ARCH -oDir::State::Lists=$WORK/apt/lists -oDir::Cache=$WORK/apt/cache -oDebug::NoLocking=1"
apt-get $O -qq update || echo "warning: apt-get update reported errors; going on with the indexes it got" >&2
# crash and everything it depends on, recursively (libraries only matter, but the set is small)
PKGS=$(apt-cache $O depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
  --no-enhances --no-pre-depends crash | grep -v '^ ' | grep -v '^<' | sort -u)
(cd "$WORK/debs" && apt-get $O -qq download $PKGS)
rm -rf "$OUT"; mkdir -p "$OUT/root"
for d in "$WORK"/debs/*.deb; do dpkg-deb -x "$d" "$OUT/root"; done
rm -rf "$WORK"
relative_links "$OUT/root"
[ -x "$OUT/root/usr/bin/crash" ] || { echo "no usr/bin/crash in the extracted packages" >&2; exit 1; }
echo "$OUT/root: $(ls "$OUT"/root/usr/bin/crash)"
