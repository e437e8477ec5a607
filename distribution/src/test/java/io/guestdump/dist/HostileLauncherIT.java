package io.guestdump.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15's hostile sources through the assembled launcher, as a user meets them: each is exit 2 with one line
 * and nothing at the target (no vmcore, no {@code .partial}), or a dump whose cost follows the bytes the source
 * holds, not the memory it claims.
 */
class HostileLauncherIT {
    private static final int PT_LOAD = 1;

    @TempDir
    Path work;

    private void assertNothingAt(Path out) throws IOException {
        assertFalse(Files.exists(out), out + " exists");
        try (Stream<Path> s = Files.list(out.getParent())) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".partial")), "a .partial was left");
        }
    }

    private static void oneLine(Dist.Run r) {
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
        assertFalse(r.err().contains("\tat ") || r.err().contains("Exception"), r.err());
    }

    @Test
    void twoHundredThousandVcpusAreRefusedBeforeTheFirstByteIsWritten() throws Exception {
        Files.write(work.resolve("ram.bin"), new byte[1 << 20]);
        StringBuilder conf = new StringBuilder("guest {\n  arch = aarch64\n"
                + "  memory = [ { start = 0, size = 1048576, file = ram.bin } ]\n  cpus = [\n");
        for (int i = 0; i < 200_000; i++) {
            conf.append("    { pc = 4096 }\n");
        }
        Files.writeString(work.resolve("g.conf"), conf.append("  ]\n}\n"));
        Path out = work.resolve("vmcore");
        Dist.Run r = Dist.guestdump(work, "dump", "snapshot:g.conf", "-o", "vmcore").expect(2);
        assertTrue(r.err().contains("the notes of 200000 vCPUs would take"), r.err());
        oneLine(r);
        assertNothingAt(out);
        // the same through standard output: not one byte goes out
        Dist.Run s = Dist.run(work, java.util.Map.of(), java.util.List.of("sh", "-c",
                "'" + Dist.launcher() + "' dump snapshot:g.conf -o - > piped"));
        assertEquals(2, s.exit(), s.err());
        assertEquals(0, Files.size(work.resolve("piped")), "bytes written to standard output before the refusal");
    }

    /** The highest PT_LOAD of an ELF64 LSB file: where its header is, its p_paddr and p_filesz. */
    private record Load(long headerOffset, long paddr, long filesz) {}

    private static Load highestLoad(Path elf) throws IOException {
        try (FileChannel ch = FileChannel.open(elf, StandardOpenOption.READ)) {
            ByteBuffer eh = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(eh, 0);
            long phoff = eh.getLong(32);
            int phentsize = eh.getShort(54) & 0xffff;
            int phnum = eh.getShort(56) & 0xffff;
            Load best = null;
            for (int i = 0; i < phnum; i++) {
                ByteBuffer ph = ByteBuffer.allocate(56).order(ByteOrder.LITTLE_ENDIAN);
                ch.read(ph, phoff + (long) i * phentsize);
                if (ph.getInt(0) == PT_LOAD && (best == null || ph.getLong(24) > best.paddr())) {
                    best = new Load(phoff + (long) i * phentsize, ph.getLong(24), ph.getLong(32));
                }
            }
            assertTrue(best != null, "no PT_LOAD in " + elf);
            return best;
        }
    }

    /** The sample guest dumped to ELF as {@code name}, with its highest PT_LOAD's p_memsz set by {@code memsz}. */
    private Path sampleWithTail(String name, java.util.function.ToLongFunction<Load> memsz) throws Exception {
        Dist.guestdump(work, "dump", "sample:", "-o", name).expect(0);
        Path p = work.resolve(name);
        Load load = highestLoad(p);
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, memsz.applyAsLong(load)),
                    load.headerOffset() + 40);
        }
        return p;
    }

    @Test
    void aKdumpOfAHugeZeroTailIsRefusedWhenSharedAndWrittenRunByRunWhenExcluded() throws Exception {
        Path src = sampleWithTail("tail.elf", l -> l.filesz() + (1L << 40));
        Path out = work.resolve("out.kdump");
        Dist.Run r = Dist.guestdump(work, "dump", "elf:" + src, "--format", "kdump-zlib", "-o", "out.kdump")
                .expect(2);
        assertTrue(r.err().contains("zeros it does not hold"), r.err());
        oneLine(r);
        assertNothingAt(out);

        // zero pages excluded: 512 GiB of declared zeros cost their bitmap bits, not a page loop over them
        Path half = sampleWithTail("half.elf", l -> l.filesz() + (512L << 30));
        Dist.guestdump(work, "dump", "elf:" + half, "--format", "kdump-zlib", "-o", "out.kdump",
                "-D", "guestdump.kdump.zero-pages=exclude", "-D", "guestdump.output.fsync=false").expect(0);
        long size = Files.size(out);
        assertTrue(size < (48L << 20), "a kdump of a 4 MiB guest with a 512 GiB hole: " + size + " bytes");
        Dist.Run info = Dist.guestdump(work, "info", "out.kdump").expect(0);
        assertTrue(info.out().contains("kdump"), info.out());
    }

    @Test
    void aZeroTailNearTwoToTheSixtyThreeIsExitTwoAlsoWithTheLimitRaised() throws Exception {
        // the block ends 4 KiB below 2^63
        Path src = sampleWithTail("huge.elf", l -> Long.MAX_VALUE - 0xfff - l.paddr());
        Path out = work.resolve("out.elf");
        Dist.Run r = Dist.guestdump(work, "dump", "elf:" + src, "-o", "out.elf").expect(2);
        assertTrue(r.err().contains("guestdump.source.max-guest-memory"), r.err());
        oneLine(r);
        assertNothingAt(out);
        // the limit lifted: a file that large is refused before writing where the file system cannot hold it
        // (ext4: 16 TiB), not a failed write (exit 1) or an overflow (exit 70)
        Dist.Run raised = Dist.guestdump(work, "dump", "elf:" + src, "-o", "out.elf",
                "-D", "guestdump.source.max-guest-memory=" + Long.MAX_VALUE, "-D", "guestdump.output.fsync=false");
        if (raised.exit() == 0) {
            // a file system whose files may reach 2^63 bytes (XFS, btrfs): the zeros are a hole
            Dist.Run du = Dist.run(work, java.util.Map.of(), java.util.List.of("du", "-B1", "--", out.toString()))
                    .expect(0);
            long allocated = Long.parseLong(du.out().trim().split("\\s+")[0]);
            assertTrue(allocated < (64L << 20), "allocated " + allocated);
            Files.delete(out);
            return;
        }
        raised.expect(2);
        assertTrue(raised.err().contains("more than the file system of"), raised.err());
        oneLine(raised);
        assertNothingAt(out);
    }
}
