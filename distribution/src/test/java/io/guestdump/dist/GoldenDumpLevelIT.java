package io.guestdump.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.testkit.GoldenFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code --dump-level} against makedumpfile 1.7.2 itself, on the golden x86_64 guest (Debian 6.1 kernel, paused
 * by QEMU 7.2). makedumpfile cannot read QEMU 7.2's ELF (section headers first), so the input both tools read is
 * guestdump's level-0 re-dump of it, {@code base.elf}. At each level, the kdump file guestdump writes and the one
 * {@code makedumpfile -d N} writes have the same 1st and 2nd bitmaps (the same pages kept), the same
 * {@code dump_level}, and, where the level has bit 1, the same pages pointing at the shared zero page.
 */
class GoldenDumpLevelIT {
    @TempDir
    static Path work;

    static Path base;

    @BeforeAll
    static void baseElf() throws Exception {
        Path qemu = GoldenFiles.unpackedFull("x86_64");
        base = work.resolve("base.elf");
        Dist.guestdump(work, "dump", "elf:" + qemu, "-o", base.toString()).expect(0);
    }

    @ParameterizedTest(name = "-d {0}")
    @ValueSource(ints = {1, 2, 8, 16, 31})
    void keepsTheSamePagesAsMakedumpfile(int level) throws Exception {
        Tools.require("makedumpfile");
        Path ours = work.resolve("gd" + level + ".kdump");
        Path theirs = work.resolve("mdf" + level + ".kdump");
        Dist.guestdump(work, "dump", "elf:" + base, "--dump-level", Integer.toString(level), "--format",
                "kdump-zlib", "-o", ours.toString()).expect(0);
        Dist.run(work, Map.of(), List.of("makedumpfile", "-c", "-d", Integer.toString(level), base.toString(),
                theirs.toString())).expect(0);
        String r = Dist.run(work, Map.of(), List.of("/usr/bin/python3", compare(work).toString(), ours.toString(),
                theirs.toString())).expect(0).out();
        assertTrue(r.startsWith("same "), r);
        Matcher m = Pattern.compile("same level=(\\d+) kept=(\\d+) zero=(\\d+) present=(\\d+)").matcher(r);
        assertTrue(m.find(), r);
        assertEquals(level, Integer.parseInt(m.group(1)));
        long kept = Long.parseLong(m.group(2));
        long present = Long.parseLong(m.group(4));
        assertTrue(kept < present || level == 1, "level " + level + " leaves something out: " + r);
        if (level == 31) {
            assertTrue(kept * 4 < present, "level 31 keeps a fraction of the guest: " + r);
        }
        Files.delete(theirs);
        if (level != 31) {
            Files.delete(ours);
        }
    }

    /**
     * Other arches against Debian bookworm's makedumpfile 1.7.2 for that arch, run under qemu-user from the root
     * bench/qemu-interop/prepare-makedumpfile.sh extracts: arm64 and ppc64el (a hash-MMU guest: its struct pages
     * are read through the kernel's vmemmap_list, as makedumpfile reads them) and s390x (big-endian) at every
     * level. Where it cannot run: i386 and armhf, whose makedumpfile runs but fails on these dumps (i386:
     * "Can't convert a virtual address(dad45da0) to physical address" reading system_utsname; armhf: "Can't get the
     * kernel version").
     */
    @ParameterizedTest(name = "{0} -d {3}")
    @CsvSource({
        "aarch64, arm64, aarch64, 1", "aarch64, arm64, aarch64, 2", "aarch64, arm64, aarch64, 8",
        "aarch64, arm64, aarch64, 16", "aarch64, arm64, aarch64, 31",
        "ppc64le, ppc64el, ppc64le, 1", "ppc64le, ppc64el, ppc64le, 2", "ppc64le, ppc64el, ppc64le, 8",
        "ppc64le, ppc64el, ppc64le, 16", "ppc64le, ppc64el, ppc64le, 31",
        "s390x, s390x, s390x, 1", "s390x, s390x, s390x, 2", "s390x, s390x, s390x, 8",
        "s390x, s390x, s390x, 16", "s390x, s390x, s390x, 31"})
    void keepsTheSamePagesAsDebiansMakedumpfileForTheArchUnderQemuUser(String arch, String debArch,
            String qemuUser, int level) throws Exception {
        Path root = Path.of(System.getenv().getOrDefault("GUESTDUMP_CACHE",
                System.getProperty("user.home") + "/.cache/guestdump"), "makedumpfile", debArch, "root");
        Path mdf = root.resolve("usr/bin/makedumpfile");
        String why = "makedumpfile for " + debArch + " at " + mdf + " (bench/qemu-interop/prepare-makedumpfile.sh "
                + debArch + ")";
        if (!Files.isExecutable(mdf) && "1".equals(System.getenv("GUESTDUMP_REQUIRE_TOOLS"))) {
            throw new AssertionError("GUESTDUMP_REQUIRE_TOOLS=1 but there is no " + why);
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(mdf), "skipped: needs " + why);
        Tools.require("qemu-" + qemuUser + "-static");
        Path in = work.resolve(arch + "-base.elf");
        if (!Files.exists(in)) {
            Dist.guestdump(work, "dump", "elf:" + GoldenFiles.unpackedFull(arch), "-o", in.toString()).expect(0);
        }
        Path ours = work.resolve(arch + "-gd" + level + ".kdump");
        Path theirs = work.resolve(arch + "-mdf" + level + ".kdump");
        Dist.guestdump(work, "dump", "elf:" + in, "--dump-level", Integer.toString(level), "--format",
                "kdump-zlib", "-o", ours.toString()).expect(0);
        Dist.run(work, Map.of(), List.of("qemu-" + qemuUser + "-static", "-L", root.toString(), mdf.toString(), "-c",
                "-d", Integer.toString(level), in.toString(), theirs.toString())).expect(0);
        String r = Dist.run(work, Map.of(), List.of("/usr/bin/python3", compare(work).toString(), ours.toString(),
                theirs.toString())).expect(0).out();
        assertTrue(r.startsWith("same level=" + level + " "), arch + " -d " + level + ": " + r);
        Files.delete(ours);
        Files.delete(theirs);
    }

    /** With --begin/--length, the kept pages are makedumpfile's kept pages inside the window. */
    @Test
    void aWindowKeepsMakedumpfilesPagesInsideIt() throws Exception {
        Tools.require("makedumpfile");
        Path ours = work.resolve("window31.kdump");
        Path theirs = work.resolve("mdf-window31.kdump");
        Dist.guestdump(work, "dump", "elf:" + base, "--dump-level", "31", "--begin", "0x1000000", "--length",
                "0x4000000", "--format", "kdump-zlib", "-o", ours.toString()).expect(0);
        Dist.run(work, Map.of(), List.of("makedumpfile", "-c", "-d", "31", base.toString(), theirs.toString()))
                .expect(0);
        Path py = Files.writeString(work.resolve("window.py"), String.join("\n",
                "import struct, sys",
                "def kept(p):",
                "    f = open(p, 'rb'); h = f.read(4096)",
                "    bs, sub, bb, m = struct.unpack('<iiII', h[428:444])",
                "    f.seek((1 + sub) * bs); b1 = f.read(bb * bs // 2); b2 = f.read(bb * bs // 2)",
                "    return {x for x in range(m) if b2[x >> 3] >> (x & 7) & 1}",
                "w = kept(sys.argv[1]); a = {x for x in kept(sys.argv[2]) if 0x1000 <= x < 0x5000}",
                "print('same' if w == a else 'differ', len(w), len(a))", ""));
        String r = Dist.run(work, Map.of(), List.of("/usr/bin/python3", py.toString(), ours.toString(),
                theirs.toString())).expect(0).out();
        assertTrue(r.startsWith("same "), r);
        Files.delete(theirs);
    }

    @Test
    void makedumpfileAndCrashReadTheLevel31Kdump() throws Exception {
        Tools.require("makedumpfile");
        Path ours = work.resolve("gd31-dmesg.kdump");
        Dist.guestdump(work, "dump", "elf:" + base, "--dump-level", "31", "--format", "kdump-lzo", "-o",
                ours.toString()).expect(0);
        Path dmesg = work.resolve("dmesg.txt");
        Dist.run(work, Map.of(), List.of("makedumpfile", "--dump-dmesg", ours.toString(), dmesg.toString()))
                .expect(0);
        String log = Files.readString(dmesg);
        assertTrue(log.contains("Linux version 6.1.0-56-cloud-amd64"), log.substring(0, Math.min(400, log.length())));
        Tools.require("crash");
        Dist.Run c = Dist.run(work, Map.of(), List.of("crash", "--osrelease", ours.toString())).expect(0);
        assertEquals("6.1.0-56-cloud-amd64", c.out().trim(), c.err());
    }

    /** makedumpfile -E -d 31 cuts the RAM PT_LOADs where guestdump does, with the same sizes. */
    @Test
    void elfLayoutIsMakedumpfiles() throws Exception {
        Tools.require("makedumpfile");
        Tools.require("readelf");
        Path ours = work.resolve("gd31.elf");
        Path theirs = work.resolve("mdf31.elf");
        Dist.guestdump(work, "dump", "elf:" + base, "--dump-level", "31", "-o", ours.toString()).expect(0);
        Dist.run(work, Map.of(), List.of("makedumpfile", "-E", "-d", "31", base.toString(), theirs.toString()))
                .expect(0);
        List<String> a = loads(ours);
        List<String> b = loads(theirs);
        // makedumpfile 1.7.2 also writes PT_LOADs for what lies above the kernel's struct page arrays (QEMU's
        // framebuffer at 0xfd000000 and BIOS at 0xfffc0000), with bytes it reads past the end of its bitmap;
        // guestdump leaves that memory out of a level dump altogether, as the kdump format of both does
        List<String> ram = b.stream().filter(l -> Long.parseUnsignedLong(l.split(" ")[0].substring(2), 16)
                < 0x20000000L).toList();
        assertEquals(ram, a);
        assertTrue(a.size() > 4, "cut into pieces: " + a);
        Files.delete(theirs);
    }

    /**
     * Kernel text is kept at level 31: gdb disassembles each vCPU's PC and reads the release through the virtual
     * addresses of a level-31 {@code --paging} ELF of every golden guest. ppc64le's guest runs the hash MMU: its
     * vmemmap (where the struct pages are) is translated through the kernel's vmemmap_list. arm's Debian kernel is FLATMEM with {@code mem_map} starting at
     * {@code ARCH_PFN_OFFSET} (RAM at 1 GiB), which makedumpfile 1.7.2 reads from pfn 0 and guestdump reads as it
     * does, so no page is classed there and everything is kept.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "x86_64,  i386:x86-64,      1 2, ret;ret",
        "i386,    i386,             1 2, pop %ebp;pop %ebp",
        "aarch64, aarch64,          1 2, autiasp;autiasp",
        "ppc64le, powerpc:common64, 1 2, 'li r4,0;li r4,0'",
        "arm,     arm,              1 2, bx lr;bx lr",
        "s390x,   s390:64-bit,      1 2, 'agr %r1,%r6;br %r14'"})
    void gdbStillDisassemblesEachPcInALevel31PagingDump(String arch, String gdbArch, String threads,
            String instructions) throws Exception {
        Path qemu = GoldenFiles.unpackedFull(arch);
        Path ours = work.resolve(arch + "-31.vmcore");
        Dist.guestdump(work, "dump", "elf:" + qemu, "--paging", "--dump-level", "31", "-o", ours.toString())
                .expect(0);
        Path full = work.resolve(arch + "-0.vmcore");
        Dist.guestdump(work, "dump", "elf:" + qemu, "--paging", "-o", full.toString()).expect(0);
        assertTrue(Files.size(ours) < Files.size(full) || arch.equals("arm"), "level 31 is smaller");
        Files.delete(full);
        Map<String, String> vmcoreinfo = GoldenPagingIT.vmcoreinfo(ours);
        long utsname = Long.parseUnsignedLong(vmcoreinfo.get("SYMBOL(init_uts_ns)"), 16)
                + Long.parseLong(vmcoreinfo.get("OFFSET(uts_namespace.name)"));
        Tools.require("gdb-multiarch");
        GoldenPagingIT gdb = new GoldenPagingIT();
        gdb.work = work;
        GoldenPagingIT.Reading r = gdb.read(ours, gdbArch, threads, utsname);
        assertEquals(List.of(instructions.split(";")), r.mnemonics(), r.gdb());
        assertEquals(vmcoreinfo.get("OSRELEASE"), r.release(), r.gdb());
        Files.delete(ours);
    }

    /** The --dry-run report: classes like makedumpfile --mem-usage, its level-31 count equal to the kdump's. */
    @Test
    void dryRunReportsEveryClassAndWritesNothing() throws Exception {
        Path out = work.resolve("never.vmcore");
        String r = Dist.guestdump(work, "dump", "elf:" + base, "--dump-level", "31", "--dry-run", "-o",
                out.toString()).expect(0).out();
        assertFalse(Files.exists(out), "a dry run writes nothing");
        for (String t : List.of("ZERO", "NON_PRI_CACHE", "PRI_CACHE", "USER", "FREE", "KERN_DATA")) {
            assertTrue(Pattern.compile("(?m)^" + t + " +\\d+ ").matcher(r).find(), t + " in\n" + r);
        }
        Matcher m = Pattern.compile("level 31 keeps (\\d+) pages").matcher(r);
        assertTrue(m.find(), r);
        Matcher row = Pattern.compile("(?m)^31 +(\\d+) ").matcher(r);
        assertTrue(row.find(), r);
        assertEquals(m.group(1), row.group(1), "the table's level-31 row is the exact count");
        Matcher all = Pattern.compile("(?m)^0 +(\\d+) ").matcher(r);
        assertTrue(all.find(), r);
        assertTrue(Long.parseLong(m.group(1)) * 4 < Long.parseLong(all.group(1)), r);
        Matcher elf = Pattern.compile("the ELF file would be (\\d+) bytes").matcher(r);
        assertTrue(elf.find(), r);
        Path written = work.resolve("dry-check.elf");
        Dist.guestdump(work, "dump", "elf:" + base, "--dump-level", "31", "-o", written.toString()).expect(0);
        assertEquals(Files.size(written), Long.parseLong(elf.group(1)), "the dry run's ELF size is the file's");
        Files.delete(written);
    }

    /** Missing VMCOREINFO entries: the error names them and the levels still possible. */
    @Test
    void aLevelTheGuestCannotHaveIsRefusedByName() throws Exception {
        Path stripped = work.resolve("stripped.elf");
        Files.copy(base, stripped);
        // rename the entry in the note: the key is no longer what the kernel prints
        byte[] bytes = new byte[1 << 20];
        try (var in = Files.newInputStream(base)) {
            in.readNBytes(bytes, 0, bytes.length);
        }
        int at = indexOf(bytes, "NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)".getBytes());
        assertTrue(at > 0);
        try (var ch = java.nio.channels.FileChannel.open(stripped, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap("X".getBytes()), at);
        }
        Dist.Run r = Dist.guestdump(work, "dump", "elf:" + stripped, "--dump-level", "16", "-o",
                work.resolve("no.vmcore").toString());
        assertEquals(2, r.exit(), r.out() + r.err());
        assertTrue(r.err().contains("lacks NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)"), r.err());
        assertTrue(r.err().contains("levels this guest allows: 0-15"), r.err());
        Dist.guestdump(work, "dump", "elf:" + stripped, "--dump-level", "15", "--format", "kdump-zlib", "-o",
                work.resolve("fifteen.kdump").toString()).expect(0);
        Files.delete(stripped);
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length && i < (1 << 20); i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** The PT_LOADs as "paddr filesz memsz". */
    private static List<String> loads(Path elf) throws Exception {
        String out = Dist.run(work, Map.of(), List.of("readelf", "-lW", elf.toString())).expect(0).out();
        return out.lines().filter(l -> l.trim().startsWith("LOAD")).map(l -> {
            String[] f = l.trim().split("\\s+");
            return f[3] + " " + f[4] + " " + f[5];
        }).toList();
    }

    /**
     * argv: two kdump files. Compares bitmap 1, bitmap 2 and (when the level has bit 1) which pages use the shared
     * zero page, whose descriptor points at the start of the page data. Prints
     * {@code same level=N kept=K zero=Z present=P} or what differs.
     */
    static Path compare(Path dir) throws Exception {
        return Files.writeString(dir.resolve("compare.py"), String.join("\n",
                "import struct, sys",
                "def kdump(path):",
                "    f = open(path, 'rb'); h = f.read(4096)",
                "    assert h[:8] == b'KDUMP   ', h[:8]",
                "    e = '<' if struct.unpack('<i', h[8:12])[0] < 256 else '>'",
                "    bs, sub, bb, maxmapnr = struct.unpack(e + 'iiII', h[428:444])",
                "    f.seek(bs); level, = struct.unpack(e + 'i', f.read(12)[8:12])",
                "    b1off = (1 + sub) * bs; blen = bb * bs // 2",
                "    f.seek(b1off); b1 = f.read(blen); b2 = f.read(blen)",
                "    kept = [p for p in range(min(maxmapnr, blen * 8)) if b2[p >> 3] >> (p & 7) & 1]",
                "    present = sum(bin(x).count('1') for x in b1)",
                "    f.seek(b1off + 2 * blen); d = f.read(24 * len(kept)); data = b1off + 2 * blen + 24 * len(kept)",
                "    zero = {p for i, p in enumerate(kept) if struct.unpack(e + 'q', d[24*i:24*i+8])[0] == data}",
                "    return level, maxmapnr, b1, kept, zero, present",
                "a = kdump(sys.argv[1]); b = kdump(sys.argv[2])",
                "bad = []",
                "if a[0] != b[0]: bad.append('dump_level %d %d' % (a[0], b[0]))",
                "if a[1] != b[1]: bad.append('max_mapnr %x %x' % (a[1], b[1]))",
                "if a[2] != b[2]: bad.append('bitmap 1 differs')",
                "ka, kb = set(a[3]), set(b[3])",
                "if ka != kb: bad.append('kept only by guestdump: %s; only by makedumpfile: %s' % ("
                        + "[hex(p) for p in sorted(ka - kb)[:20]], [hex(p) for p in sorted(kb - ka)[:20]]))",
                "if a[0] & 1 and a[4] != b[4]: bad.append('zero pages differ: %d %d' % (len(a[4]), len(b[4])))",
                "print('differ: ' + '; '.join(bad) if bad else 'same level=%d kept=%d zero=%d present=%d' % ("
                        + "a[0], len(ka), len(a[4]), a[5]))",
                ""));
    }
}
