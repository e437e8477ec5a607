#!/usr/bin/env bash
# Builds guestdump_<version>_all.deb from the assembled distribution directory with dpkg-deb (no debhelper).
#
#   build-deb.sh DIST_DIR VERSION OUT_DIR
#
# Layout: the program in /usr/share/guestdump (bin/ lib/ plugins/), /usr/bin/guestdump a link to its launcher,
# the configuration in /etc/guestdump (its *.conf files are conffiles), man pages, bash completion, docs and
# the copyright file in their Debian places. The postinst builds the class-data archive for the installed Java
# in /var/cache/guestdump. Without dpkg-deb (not a Debian-like system) it says so and builds nothing.
set -euo pipefail
dist=$1 version=$2 out=$3
if ! command -v dpkg-deb >/dev/null; then
  echo "build-deb.sh: no dpkg-deb here; skipping guestdump_${version}_all.deb" >&2
  exit 0
fi
root="$out/deb-root"
rm -rf "$root"
share="$root/usr/share/guestdump"
mkdir -p "$share" "$root/usr/bin" "$root/etc" "$root/usr/share/man/man1" \
  "$root/usr/share/bash-completion/completions" "$root/usr/share/doc/guestdump" "$root/DEBIAN"
cp -a "$dist/bin" "$dist/lib" "$dist/plugins" "$share/"
rm -f "$share/lib/guestdump.jsa"
ln -s /var/cache/guestdump/guestdump.jsa "$share/lib/guestdump.jsa"
cp -a "$dist/config" "$root/etc/guestdump"
ln -s /etc/guestdump "$share/config"
ln -s ../share/guestdump/bin/guestdump "$root/usr/bin/guestdump"
for m in "$dist"/man/man1/*.1; do gzip -9n < "$m" > "$root/usr/share/man/man1/$(basename "$m").gz"; done
cp "$dist/completion/guestdump.bash" "$root/usr/share/bash-completion/completions/guestdump"
cp -a "$dist/README.md" "$dist/docs" "$root/usr/share/doc/guestdump/"
cat > "$root/usr/share/doc/guestdump/copyright" <<COPYRIGHT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: guestdump

Files: *
Copyright: 2026 guestdump developers
License: Apache-2.0
 On Debian systems the full text of the Apache License 2.0 is in /usr/share/common-licenses/Apache-2.0.

Files: usr/share/guestdump/lib/pf4j-*.jar usr/share/guestdump/lib/config-*.jar
 usr/share/guestdump/lib/picocli-*.jar usr/share/guestdump/lib/aircompressor-*.jar
Copyright: their authors (PF4J, Typesafe Config, picocli, aircompressor)
License: Apache-2.0

Files: usr/share/guestdump/lib/slf4j-*.jar usr/share/guestdump/lib/java-semver-*.jar
Copyright: QOS.ch (SLF4J); Zafar Khaja (Java SemVer)
License: MIT

Files: usr/share/guestdump/lib/zstd-jni-*.jar
Copyright: Luben Karavelov (zstd-jni); Meta Platforms (Zstandard)
License: BSD-2-Clause
COPYRIGHT
(cd "$root" && find etc -type f -name '*.conf' | sort | sed 's|^|/|') > "$root/DEBIAN/conffiles"
cat > "$root/DEBIAN/control" <<CONTROL
Package: guestdump
Version: $version
Architecture: all
Section: admin
Priority: optional
Maintainer: guestdump developers <dev@guestdump.invalid>
Depends: default-jre-headless (>= 2:1.17) | java17-runtime-headless
Suggests: crash, makedumpfile, gdb-multiarch
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Description: writes a virtual-machine guest's memory and CPU state into a vmcore
 guestdump is QEMU's dump-guest-memory rebuilt as a standalone command: it
 writes ELF or kdump-compressed vmcores of paused guests (QEMU over QMP,
 snapshots, existing vmcores) that crash, gdb, drgn, makedumpfile and
 libkdumpfile open. One plugin per guest architecture: x86_64, i386, ppc64,
 s390x, AArch64 and 32-bit ARM.
CONTROL
cat > "$root/DEBIAN/postinst" <<'POSTINST'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
  # the class-data archive for the Java now installed; guestdump runs without it when this fails
  mkdir -p /var/cache/guestdump
  GUESTDUMP_CDS=rebuild /usr/share/guestdump/bin/guestdump >/dev/null 2>&1 || true
fi
POSTINST
cat > "$root/DEBIAN/postrm" <<'POSTRM'
#!/bin/sh
set -e
if [ "$1" = remove ] || [ "$1" = purge ]; then
  rm -rf /var/cache/guestdump
fi
POSTRM
chmod 0755 "$root/DEBIAN/postinst" "$root/DEBIAN/postrm"
deb="$out/guestdump_${version}_all.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "built $deb"
