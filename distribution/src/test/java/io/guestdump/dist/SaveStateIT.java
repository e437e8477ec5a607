package io.guestdump.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Saved VM state against QEMU itself: boots the interop guest (as {@link QemuInteropIT} does), pauses it, lets QEMU
 * dump it ({@code dump-guest-memory}) and save it ({@code migrate "exec:cat > FILE"}), then re-dumps the saved
 * state with {@code guestdump dump savestate:FILE}: the PT_NOTE must equal QEMU's byte for byte (registers decoded
 * from the stream's CPU sections, VMCOREINFO from the vmcoreinfo device; on s390x and ppc64el, where QEMU 7.2 writes
 * some registers wrongly, the decoded registers are compared as {@link QemuInteropIT} does) and every guest-physical
 * byte guestdump writes must equal QEMU's. QEMU's dump may hold one range more on amd64: the VGA framebuffer, a PCI BAR the stream
 * does not place (docs/savestate-source.md). A truncated copy of the file is refused with exit 2.
 *
 * <p>riscv64 (no {@code -device vmcoreinfo} on QEMU 7.2's riscv virt): guestdump's PT_NOTE is QEMU's two
 * NT_PRSTATUS notes byte for byte, then the VMCOREINFO it found by search; RAM at 0x80000000 and the boot ROM at
 * 0x1000, as in QEMU's dump; a copy whose vCPU 0 section claims version 12 is refused with exit 2.
 *
 * <p>{@code GUESTDUMP_SAVESTATE_ARCHES} lists the arches (default: the seven interop arches); skipped when QEMU or the
 * kernel is absent, unless {@code GUESTDUMP_REQUIRE_QEMU=1}.
 */
class SaveStateIT {
    @TempDir
    Path dir;

    @Test
    void savedStateRedumpsLikeQemusOwnDump() throws Exception {
        String arches = System.getenv().getOrDefault("GUESTDUMP_SAVESTATE_ARCHES",
                "amd64 i386 arm64 armhf s390x ppc64el riscv64");
        for (String arch : arches.trim().split("[ ,]+")) {
            run(QemuInteropIT.GUESTS.get(arch));
        }
    }

    private void run(QemuInteropIT.Guest g) throws Exception {
        boolean required = "1".equals(System.getenv("GUESTDUMP_REQUIRE_QEMU"));
        Path cache = Path.of(System.getenv().getOrDefault("GUESTDUMP_CACHE",
                System.getProperty("user.home") + "/.cache/guestdump"), "qemu", g.arch());
        boolean ready = Files.isRegularFile(cache.resolve("vmlinuz")) && onPath(g.qemu());
        String why = "skipped: needs " + g.qemu() + " on PATH and " + cache + "/{vmlinuz,initrd.cpio.gz} (run "
                + "bench/qemu-interop/prepare-kernel.sh " + g.arch() + ")";
        if (required) {
            assertTrue(ready, why.replace("skipped: ", "GUESTDUMP_REQUIRE_QEMU=1 but the test "));
        }
        assumeTrue(ready, why);

        Path run = Files.createDirectories(dir.resolve(g.arch()));
        Path sock = run.resolve("qmp.sock");
        Path serial = run.resolve("serial.log");
        List<String> cmd = new ArrayList<>(List.of(g.qemu()));
        cmd.addAll(g.machine());
        cmd.addAll(List.of("-accel", "tcg", "-m", "512M", "-smp", "2", "-display", "none", "-monitor", "none",
                "-nic", "none", "-serial", "file:" + serial, "-qmp", "unix:" + sock + ",server=on,wait=off",
                "-kernel", cache.resolve("vmlinuz").toString(), "-initrd", cache.resolve("initrd.cpio.gz").toString(),
                "-append", "console=" + g.console() + " panic=0", "-no-reboot"));
        if (g.vmcoreinfo()) {
            cmd.addAll(List.of("-device", "vmcoreinfo"));
        }
        Process qemu = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(run.resolve("qemu.out")
                .toFile()).start();
        Path qemuElf = run.resolve("qemu.elf");
        Path state = run.resolve("state.mig");
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
            while (!(Files.exists(serial) && Files.readString(serial).contains("GUESTDUMP-READY"))) {
                assertTrue(qemu.isAlive() && System.nanoTime() < deadline, "the guest's ready marker in " + serial
                        + "; QEMU said: " + Files.readString(run.resolve("qemu.out")));
                Thread.sleep(500);
            }
            try (QemuInteropIT.Qmp q = new QemuInteropIT.Qmp(sock)) {
                q.execute("stop");
                q.execute("dump-guest-memory", "{\"paging\":false,\"protocol\":\"file:" + qemuElf + "\"}");
                q.execute("migrate", "{\"uri\":\"exec:cat > " + state + "\"}");
                while (true) {
                    String r = q.execute("query-migrate");
                    if (r.contains("\"completed\"")) {
                        break;
                    }
                    assertTrue(!r.contains("\"failed\"") && System.nanoTime() < deadline + 120_000_000_000L, r);
                    Thread.sleep(200);
                }
            }
        } finally {
            qemu.destroy();
            if (!qemu.waitFor(10, TimeUnit.SECONDS)) {
                qemu.destroyForcibly();
            }
        }

        Path ours = run.resolve("guestdump.elf");
        // amd64 by content (a bare path), the others with the explicit kind
        String source = g.arch().equals("amd64") ? state.toString() : "savestate:" + state;
        long t0 = System.nanoTime();
        Dist.Run r = Dist.guestdump(run, "dump", source, "-o", ours.toString()).expect(0);
        double secs = (System.nanoTime() - t0) / 1e9;
        assertTrue(r.out().contains("savestate:") || r.err().contains("savestate:"), r.out() + r.err());
        String compared = compare(g, run, qemuElf, ours);
        System.out.printf("savestate %s: %s; guestdump %.2f s (JVM start included), stream %d bytes%n", g.arch(),
                compared, secs, Files.size(state));

        Path cut = run.resolve("cut.mig");
        try (FileChannel in = FileChannel.open(state, StandardOpenOption.READ);
                FileChannel out = FileChannel.open(cut, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            in.transferTo(0, Files.size(state) / 3, out);
        }
        Dist.Run bad = Dist.guestdump(run, "dump", "savestate:" + cut, "-o", run.resolve("cut.elf").toString());
        assertEquals(2, bad.exit(), bad.err());
        assertTrue(bad.err().contains("truncated"), bad.err());
        if (g.arch().equals("riscv64")) {
            unknownCpuVersion(run, state);
        }
        Files.delete(qemuElf);
        Files.delete(ours);
        Files.delete(state);
        Files.delete(cut);
    }

    /**
     * riscv64: vCPU 0's {@code cpu} section header (QEMU_VM_SECTION_FULL · u32 id · u8 3 "cpu" · u32 instance 0 ·
     * u32 version 5) given version 12, a layout the plugin does not know: exit 2 naming the version, no file.
     */
    private static void unknownCpuVersion(Path run, Path state) throws Exception {
        byte[] b = Files.readAllBytes(state);
        byte[] header = {3, 'c', 'p', 'u', 0, 0, 0, 0, 0, 0, 0, 5};
        int at = -1;
        for (int i = 5; i + header.length <= b.length && at < 0; i++) {
            if (b[i - 5] == 4 && Arrays.equals(b, i, i + header.length, header, 0, header.length)) {
                at = i;
            }
        }
        assertTrue(at > 0, "vCPU 0's cpu section (version 5, QEMU 7.2) in the stream");
        b[at + header.length - 1] = 12;
        Path bad = Files.write(run.resolve("version12.mig"), b);
        Path out = run.resolve("version12.elf");
        Dist.Run r = Dist.guestdump(run, "dump", "savestate:" + bad, "-o", out.toString());
        assertEquals(2, r.exit(), r.out() + r.err());
        assertTrue(r.err().contains("version 12") && r.err().contains("riscv"), r.err());
        assertTrue(!Files.exists(out), "no vmcore from an unknown cpu section");
        Files.delete(bad);
    }

    /** PT_NOTE equal; every PT_LOAD byte of ours equal to QEMU's at the same address; what only QEMU has. */
    static String compare(QemuInteropIT.Guest g, Path run, Path qemu, Path ours) throws Exception {
        try (FileChannel a = FileChannel.open(qemu, StandardOpenOption.READ);
                FileChannel b = FileChannel.open(ours, StandardOpenOption.READ)) {
            List<long[]> pa = phdrs(a);
            List<long[]> pb = phdrs(b);
            byte[] notesA = segment(a, pa, 4);
            byte[] notesB = segment(b, pb, 4);
            if (g.differs() != null) {
                // QEMU 7.2 writes some registers wrongly here (QemuInteropIT.GUESTS): compare the decoded registers
                Map<String, String> notes = new LinkedHashMap<>();
                QemuInteropIT.compareRegisters(run, qemu, ours, g.differs(), notes);
                return notes + ", " + memory(a, b, pa, pb);
            }
            // QEMU's notes, byte for byte; a guest without -device vmcoreinfo gets guestdump's VMCOREINFO (found by
            // search) after them, which QEMU's dump lacks
            assertTrue(notesB.length >= notesA.length, "guestdump's PT_NOTE is shorter than QEMU's");
            assertArrayEquals(notesA, Arrays.copyOf(notesB, notesA.length), "PT_NOTE contents (registers, VMCOREINFO)");
            if (notesB.length > notesA.length) {
                String owner = new String(notesB, notesA.length + 12, 10, StandardCharsets.US_ASCII);
                assertEquals("VMCOREINFO", owner, "the one note guestdump may add");
                assertTrue(new String(notesA, StandardCharsets.ISO_8859_1).indexOf("VMCOREINFO") < 0,
                        "a second VMCOREINFO");
            }
            return "notes equal, " + memory(a, b, pa, pb);
        }
    }

    /** Every PT_LOAD byte of ours equal to QEMU's at the same address; what only QEMU has. */
    private static String memory(FileChannel a, FileChannel b, List<long[]> pa, List<long[]> pb) throws IOException {
        {
            long equal = 0;
            for (long[] y : pb) {
                if (y[0] != 1) {
                    continue;
                }
                for (long done = 0; done < y[3]; ) {
                    long addr = y[2] + done;
                    long[] x = holding(pa, addr);
                    assertTrue(x != null, "guestdump wrote paddr 0x" + Long.toHexString(addr) + ", QEMU did not");
                    int n = (int) Math.min(Math.min(1 << 20, y[3] - done), x[2] + x[3] - addr);
                    ByteBuffer bx = ByteBuffer.allocate(n);
                    ByteBuffer by = ByteBuffer.allocate(n);
                    read(a, bx, x[1] + addr - x[2]);
                    read(b, by, y[1] + done);
                    if (!bx.flip().equals(by.flip())) {
                        throw new AssertionError("bytes differ in paddr 0x" + Long.toHexString(addr) + "+" + n);
                    }
                    equal += n;
                    done += n;
                }
            }
            long onlyQemu = 0;
            for (long[] x : pa) {
                if (x[0] != 1) {
                    continue;
                }
                for (long at = x[2]; at < x[2] + x[3]; at += 4096) {
                    if (holding(pb, at) == null) {
                        onlyQemu += Math.min(4096, x[2] + x[3] - at);
                        assertTrue(Long.compareUnsigned(at, 0xc000_0000L) >= 0, "QEMU dumped RAM at 0x"
                                + Long.toHexString(at) + " that guestdump left out");
                    }
                }
            }
            assertTrue(onlyQemu <= 16L << 20, onlyQemu + " bytes only in QEMU's dump (the VGA framebuffer has 16 MiB)");
            return equal + " bytes equal, " + onlyQemu + " bytes of PCI memory only in QEMU's";
        }
    }

    private static long[] holding(List<long[]> phdrs, long addr) {
        for (long[] p : phdrs) {
            if (p[0] == 1 && Long.compareUnsigned(addr, p[2]) >= 0 && Long.compareUnsigned(addr, p[2] + p[3]) < 0) {
                return p;
            }
        }
        return null;
    }

    /** {type, offset, paddr, filesz} of each program header of an ELF64 or ELF32 file of either byte order. */
    private static List<long[]> phdrs(FileChannel ch) throws IOException {
        ByteBuffer eh = ByteBuffer.allocate(64);
        read(ch, eh, 0);
        boolean is64 = eh.get(4) == 2;
        eh.order(eh.get(5) == 1 ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN);
        long phoff = is64 ? eh.getLong(32) : Integer.toUnsignedLong(eh.getInt(28));
        int entsize = Short.toUnsignedInt(eh.getShort(is64 ? 54 : 42));
        int num = Short.toUnsignedInt(eh.getShort(is64 ? 56 : 44));
        ByteBuffer t = ByteBuffer.allocate(entsize * num).order(eh.order());
        read(ch, t, phoff);
        List<long[]> out = new ArrayList<>();
        for (int i = 0; i < num; i++) {
            int o = i * entsize;
            if (is64) {
                out.add(new long[] {t.getInt(o), t.getLong(o + 8), t.getLong(o + 24), t.getLong(o + 32)});
            } else {
                out.add(new long[] {t.getInt(o), Integer.toUnsignedLong(t.getInt(o + 4)),
                        Integer.toUnsignedLong(t.getInt(o + 12)), Integer.toUnsignedLong(t.getInt(o + 16))});
            }
        }
        return out;
    }

    private static byte[] segment(FileChannel ch, List<long[]> phdrs, int type) throws IOException {
        for (long[] p : phdrs) {
            if (p[0] == type) {
                ByteBuffer b = ByteBuffer.allocate((int) p[3]);
                read(ch, b, p[1]);
                return b.array();
            }
        }
        return new byte[0];
    }

    private static void read(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        while (b.hasRemaining()) {
            if (ch.read(b, pos + b.position()) < 0) {
                throw new IOException("short file");
            }
        }
    }

    private static boolean onPath(String exe) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(d, exe))) {
                return true;
            }
        }
        return false;
    }
}
