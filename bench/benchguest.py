"""The interop guest the QEMU benches boot (bench/live.sh, paused.sh, savestate.sh), and what they measure it by.

The guest is bench/qemu-interop/prepare-kernel.sh ARCH's kernel and initramfs under TCG with SIZE of RAM that is
not a shared file, two vCPUs, its serial console in WORK/serial.log and QMP on WORK/qmp.sock (for guestdump);
with second_qmp, a second QMP socket WORK/bench.sock for the bench's own commands.
"""
import os
import socket
import subprocess
import sys
import time

BOARDS = {"amd64": ("qemu-system-x86_64", ["-M", "pc", "-cpu", "qemu64"], "ttyS0"),
          "arm64": ("qemu-system-aarch64", ["-M", "virt", "-cpu", "cortex-a57"], "ttyAMA0")}


def boot(work, size, arch, second_qmp=True):
    """Starts the guest; returns (process, guestdump's QMP socket, the bench's QMP socket or None, serial log)."""
    cache = os.path.expanduser("~/.cache/guestdump/qemu/" + arch)
    qemu, machine, console = BOARDS[arch]
    sock, mine, serial = work + "/qmp.sock", work + "/bench.sock", work + "/serial.log"
    for f in (sock, mine, serial):
        if os.path.exists(f):
            os.remove(f)
    cmd = [qemu] + machine + ["-accel", "tcg", "-m", size, "-smp", "2", "-display", "none", "-monitor", "none",
                              "-nic", "none", "-serial", "file:" + serial,
                              "-qmp", "unix:" + sock + ",server=on,wait=off"]
    if second_qmp:
        cmd += ["-qmp", "unix:" + mine + ",server=on,wait=off"]
    cmd += ["-kernel", cache + "/vmlinuz", "-initrd", cache + "/initrd.cpio.gz",
            "-append", "console=" + console + " panic=0", "-no-reboot", "-device", "vmcoreinfo"]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    return p, sock, (mine if second_qmp else None), serial


def qemu_cpu(p):
    """User plus system CPU seconds the QEMU process has used so far."""
    fields = open("/proc/%d/stat" % p.pid).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load():
    """The one-minute load average."""
    return open("/proc/loadavg").read().split()[0]


def wait_ready(p, serial, timeout):
    """Waits for GUESTDUMP-READY on the guest's console; exits the bench when QEMU ends or timeout seconds pass."""
    t0 = time.time()
    while not (os.path.exists(serial) and "GUESTDUMP-READY" in open(serial, errors="replace").read()):
        if time.time() - t0 > timeout or p.poll() is not None:
            sys.exit("the guest did not boot")
        time.sleep(1)


def connect(path):
    """A QMP connection on path, its greeting read: (socket, its text file)."""
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    f = s.makefile("rw")
    f.readline()
    return s, f
