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
        String r = Dist.run(work, Map.of(), List.of("/usr/bin/python3", compare().toString(), ours.toString(),
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
    static Path compare() throws Exception {
        return Files.writeString(work.resolve("compare.py"), String.join("\n",
                "import struct, sys",
                "def kdump(path):",
                "    f = open(path, 'rb'); h = f.read(4096)",
                "    assert h[:8] == b'KDUMP   ', h[:8]",
                "    bs, sub, bb, maxmapnr = struct.unpack('<iiII', h[428:444])",
                "    f.seek(bs); level, = struct.unpack('<i', f.read(12)[8:12])",
                "    b1off = (1 + sub) * bs; blen = bb * bs // 2",
                "    f.seek(b1off); b1 = f.read(blen); b2 = f.read(blen)",
                "    kept = [p for p in range(min(maxmapnr, blen * 8)) if b2[p >> 3] >> (p & 7) & 1]",
                "    present = sum(bin(x).count('1') for x in b1)",
                "    f.seek(b1off + 2 * blen); d = f.read(24 * len(kept)); data = b1off + 2 * blen + 24 * len(kept)",
                "    zero = {p for i, p in enumerate(kept) if struct.unpack('<q', d[24*i:24*i+8])[0] == data}",
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
