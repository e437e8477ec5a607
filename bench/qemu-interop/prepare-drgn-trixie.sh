#!/bin/sh
# Debian trixie's drgn (python3-drgn 0.0.31) next to the host's, for the checks bookworm's drgn 0.0.22 cannot make:
#   bench/qemu-interop/prepare-drgn-trixie.sh
# drgn 0.0.22 takes a CPU's registers from NT_PRSTATUS only when pr_pid is the running task's pid; QEMU (and so
# guestdump) writes cpu + 1 there, so only drgn >= 0.0.25 unwinds every CPU's current task (DebuggersIT).
# Leaves a private root $GUESTDUMP_CACHE/drgn-trixie/root with trixie's python3.13, python3-drgn and every library
# they need (libc6, libdw1t64, libelf1t64, libkdumpfile10, ...), and a runner $GUESTDUMP_CACHE/drgn-trixie/python
# that starts that python3.13 through the root's own dynamic loader, so nothing of the host's libc is used:
#   ~/.cache/guestdump/drgn-trixie/python -c 'import drgn; print(drgn.__version__)'
# ($GUESTDUMP_CACHE defaults to ~/.cache/guestdump). The packages come from Debian's archive through a private apt
# state with a trixie sources list (the host's apt configuration is not changed); the .debs are deleted after
# extraction. Needs apt-get, apt-cache, dpkg-deb; the host's architecture (dpkg --print-architecture).
set -eu
CACHE=${GUESTDUMP_CACHE:-$HOME/.cache/guestdump}
OUT=$CACHE/drgn-trixie
SUITE=trixie
if [ -x "$OUT/python" ] && "$OUT/python" -c 'import drgn' 2>/dev/null; then
  echo "$OUT: already prepared ($("$OUT/python" -c 'import drgn; print(drgn.__version__)'))"; exit 0
fi
ARCH=$(dpkg --print-architecture)
WORK=$CACHE/drgn-trixie-work
rm -rf "$WORK"; mkdir -p "$WORK/apt/lists/partial" "$WORK/apt/cache/archives/partial" "$WORK/apt/sources.list.d" \
  "$WORK/debs"
# the Debian mirror this machine's apt uses (deb822 URIs: or one-line deb), else deb.debian.org
MIRROR=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
  | grep -v '^ *#' | grep -o 'https\?://[^ ]*/debian/\?\( \|$\)' | head -1 | tr -d ' ')
MIRROR=${MIRROR:-http://deb.debian.org/debian}
echo "deb $MIRROR $SUITE main" > "$WORK/apt/sources.list"
# an empty dpkg status: the closure must not stop at what the host has installed (bookworm's versions)
: > "$WORK/status"
O="-oAPT::Architecture=$ARCH -oAPT::Architectures=$ARCH -oDir::State::Lists=$WORK/apt/lists"
O="$O -oDir::State::status=$WORK/status -oDir::Cache=$WORK/apt/cache -oDebug::NoLocking=1"
O="$O -oDir::Etc::SourceList=$WORK/apt/sources.list -oDir::Etc::SourceParts=$WORK/apt/sources.list.d"
apt-get $O -qq update || echo "warning: apt-get update reported errors; going on with the indexes it got" >&2
# python3-drgn and everything it depends on, recursively (python3.13, libpython3.13-*, libc6, libdw1t64, libelf1t64,
# libkdumpfile10, ...; the few non-library packages in the closure are small)
PKGS=$(apt-cache $O depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
  --no-enhances python3-drgn | grep -v '^ ' | grep -v '^<' | sort -u)
(cd "$WORK/debs" && apt-get $O -qq download $PKGS)
rm -rf "$OUT"; mkdir -p "$OUT/root"
for d in "$WORK"/debs/*.deb; do dpkg-deb -x "$d" "$OUT/root"; done
rm -rf "$WORK"
ROOT=$OUT/root
LOADER=$(cd "$ROOT" && ls usr/lib64/ld-linux-*.so.* usr/lib/ld-linux-*.so.* usr/lib/*/ld-linux-*.so.* 2>/dev/null | head -1)
[ -n "$LOADER" ] || { echo "no dynamic loader (ld-linux-*.so.*) in the extracted packages" >&2; exit 1; }
TRIPLET=$(cd "$ROOT/usr/lib" && ls -d *-linux-gnu* | head -1)
[ -x "$ROOT/usr/bin/python3.13" ] || { echo "no usr/bin/python3.13 in the extracted packages" >&2; exit 1; }
# the runner: the root's loader and libraries, the root's python home (Debian's site.py adds
# $PYTHONHOME/lib/python3/dist-packages, where python3-drgn lives); the root is found relative to the runner
cat > "$OUT/python" <<RUNNER
#!/bin/sh
# trixie's python3.13 with drgn, from the private root next to this file (bench/qemu-interop/prepare-drgn-trixie.sh)
R=\$(cd "\$(dirname "\$0")/root" && pwd)
PYTHONHOME=\$R/usr PYTHONNOUSERSITE=1 exec "\$R/$LOADER" --library-path "\$R/usr/lib/$TRIPLET:\$R/lib/$TRIPLET" \
  "\$R/usr/bin/python3.13" "\$@"
RUNNER
chmod +x "$OUT/python"
"$OUT/python" -c 'import drgn, sys; print("drgn", drgn.__version__, "python", sys.version.split()[0])' \
  || { echo "$OUT/python cannot import drgn" >&2; exit 1; }
echo "$OUT/python: ready"
