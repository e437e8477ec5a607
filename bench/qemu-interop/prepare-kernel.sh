#!/bin/sh
# Prepares a Debian bookworm kernel and a tiny busybox initramfs for the QEMU interop tests:
#   bench/qemu-interop/prepare-kernel.sh [amd64|i386|arm64|armhf|ppc64el|s390x|riscv64]   (default amd64)
# riscv64 has no bookworm port: its kernel and busybox come from trixie, through a private sources list
# naming the same mirror as this machine's apt sources (the host's apt configuration is not changed).
# Result (cached, reused on later runs): $GUESTDUMP_CACHE/qemu/<arch>/{vmlinuz,initrd.cpio.gz}
# ($GUESTDUMP_CACHE defaults to ~/.cache/guestdump). The initramfs /init mounts proc and sys, loads
# qemu_fw_cfg.ko so that the kernel publishes VMCOREINFO to QEMU's -device vmcoreinfo, prints
# GUESTDUMP-READY on the console and sleeps. Kernels of other architectures come from Debian's archive
# through a private apt state (no dpkg architecture is added). Needs apt-get, dpkg-deb, cpio, gzip.
# Before GUESTDUMP-READY the /init also gives the dump-level tests every page class: 8 MiB of file data in
# the initramfs (page cache), 4 MiB read from a RAM disk (page cache with buffer heads: private data) and three shells holding ~4 MiB strings each (user pages); the rest stays free.
# INITRD_VERSION below is written next to the files; a cache from an older /init is rebuilt.
set -eu
ARCH=${1:-amd64}
CACHE=${GUESTDUMP_CACHE:-$HOME/.cache/guestdump}
OUT=$CACHE/qemu/$ARCH
INITRD_VERSION=3
if [ -s "$OUT/vmlinuz" ] && [ -s "$OUT/initrd.cpio.gz" ] \
    && [ "$(cat "$OUT/initrd-version" 2>/dev/null)" = "$INITRD_VERSION" ]; then
  echo "$OUT: already prepared"; exit 0
fi
case $ARCH in
  amd64) META=linux-image-cloud-amd64 ;;
  i386) META=linux-image-686 ;;
  arm64) META=linux-image-cloud-arm64 ;;
  armhf) META=linux-image-armmp-lpae ;;
  ppc64el) META=linux-image-powerpc64le ;;
  s390x) META=linux-image-s390x ;;
  riscv64) META=linux-image-riscv64; SUITE=trixie ;;
  *) echo "unknown arch $ARCH" >&2; exit 2 ;;
esac
WORK=$CACHE/qemu/work-$ARCH
rm -rf "$WORK"; mkdir -p "$WORK/apt/lists/partial" "$WORK/apt/cache/archives/partial" "$WORK/debs" "$WORK/root" "$WORK/initrd"
O="-oAPT::Architecture=$ARCH -oAPT::Architectures=$ARCH -oDir::State::Lists=$WORK/apt/lists -oDir::Cache=$WORK/apt/cache -oDebug::NoLocking=1"
if [ -n "${SUITE:-}" ]; then
  # the Debian mirror this machine's apt uses (deb822 URIs: or one-line deb), else deb.debian.org
  MIRROR=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
    | grep -v '^ *#' | grep -o 'https\?://[^ ]*/debian/\?\( \|$\)' | head -1 | tr -d ' ')
  MIRROR=${MIRROR:-http://deb.debian.org/debian}
  mkdir -p "$WORK/apt/sources.list.d"
  echo "deb $MIRROR $SUITE main" > "$WORK/apt/sources.list"
  O="$O -oDir::Etc::SourceList=$WORK/apt/sources.list -oDir::Etc::SourceParts=$WORK/apt/sources.list.d"
fi
apt-get $O -qq update || echo "warning: apt-get update reported errors; going on with the indexes it got" >&2
IMAGE=$(apt-cache $O depends "$META" | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\).*/\1/p' | head -1)
[ -n "$IMAGE" ] || { echo "cannot resolve $META" >&2; exit 1; }
(cd "$WORK/debs" && apt-get $O -qq download "$IMAGE" busybox-static)
dpkg-deb -x "$WORK"/debs/linux-image-*.deb "$WORK/root"
dpkg-deb -x "$WORK"/debs/busybox-static_*.deb "$WORK/bb"
KVER=${IMAGE#linux-image-}
KERNEL=$(ls "$WORK"/root/boot/vmlinu[xz]-"$KVER" | head -1)
# merged-/usr releases (trixie) keep modules and busybox under /usr
FWCFG=$(find "$WORK/root/lib/modules/$KVER" "$WORK/root/usr/lib/modules/$KVER" -name 'qemu_fw_cfg.ko*' 2>/dev/null | head -1)
# the RAM disk driver: reading its block device through the page cache gives pages with buffer heads
# (page cache with private data, dump level 4)
BRD=$(find "$WORK/root/lib/modules/$KVER" "$WORK/root/usr/lib/modules/$KVER" -name 'brd.ko*' 2>/dev/null | head -1)
BUSYBOX=$(ls "$WORK/bb/bin/busybox" "$WORK/bb/usr/bin/busybox" 2>/dev/null | head -1)
I=$WORK/initrd
mkdir -p "$I/bin" "$I/proc" "$I/sys" "$I/dev"
cp "$BUSYBOX" "$I/bin/busybox"
for t in sh mount insmod sleep echo cat xz; do ln -s busybox "$I/bin/$t"; done
for t in dd head tr mkdir; do ln -s busybox "$I/bin/$t"; done
if [ -n "$FWCFG" ]; then
  case $FWCFG in
    *.xz) xz -dc "$FWCFG" > "$I/qemu_fw_cfg.ko" ;;
    *) cp "$FWCFG" "$I/qemu_fw_cfg.ko" ;;
  esac
fi
if [ -n "$BRD" ]; then
  case $BRD in
    *.xz) xz -dc "$BRD" > "$I/brd.ko" ;;
    *) cp "$BRD" "$I/brd.ko" ;;
  esac
fi
cat > "$I/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
[ -f /qemu_fw_cfg.ko ] && insmod /qemu_fw_cfg.ko
echo "vmcoreinfo: $(cat /sys/kernel/vmcoreinfo 2>/dev/null)"
# page classes for the dump-level tests: page cache, user pages (three shells), free memory
mount -t devtmpfs dev /dev 2>/dev/null
mkdir -p /work
dd if=/dev/urandom of=/work/cache.bin bs=4096 count=2048 2>/dev/null
# 4 MiB of a RAM disk read through the block device's page cache: pages with buffer heads. The kernel drops a
# block device's page cache at its last close, so /init keeps it open (fd 3) for the rest of its life.
if [ -f /brd.ko ] && insmod /brd.ko rd_nr=1 rd_size=4096 && [ -b /dev/ram0 ]; then
  exec 3</dev/ram0
  dd if=/dev/urandom of=/dev/ram0 bs=4096 count=1024 2>/dev/null
  dd if=/dev/ram0 of=/dev/null bs=4096 count=1024 2>/dev/null
fi
for i in 1 2 3; do
  sh -c 'x=$(head -c 4194304 /dev/urandom | tr "\000" "\001"); echo "$x" | head -c 1 > /work/user.'$i'; while true; do sleep 3600; done' &
done
for i in 1 2 3; do while [ ! -s /work/user.$i ]; do sleep 1; done; done
echo GUESTDUMP-READY
while true; do sleep 3600; done
INIT
chmod +x "$I/init"
mkdir -p "$OUT"
(cd "$I" && find . | cpio -o -H newc --quiet | gzip -1) > "$OUT/initrd.cpio.gz"
cp "$KERNEL" "$OUT/vmlinuz"
echo "$KVER" > "$OUT/kernel-version"
echo "$INITRD_VERSION" > "$OUT/initrd-version"
rm -rf "$WORK"
echo "$OUT: $(cat "$OUT/kernel-version")"
