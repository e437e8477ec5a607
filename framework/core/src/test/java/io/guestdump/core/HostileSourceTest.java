package io.guestdump.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestDumpException;
import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.VmcoreWriteException;
import io.guestdump.core.inspect.VmcoreFile;
import io.guestdump.core.plugins.ArchitectureRegistry;
import io.guestdump.core.source.TestElf;
import io.guestdump.core.source.TestElf.Load;
import io.guestdump.core.vmcore.ProgressListener;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfData;
import io.guestdump.elf.ProgramHeader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sources that claim more than they hold, or are not files at all (issue 15, "Bounded work for any input", and
 * issue 13's binary sources): each is refused with {@link InvalidInputException} (exit 2) and one line, or
 * dumped in time proportional to the bytes it really holds, never left hanging.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HostileSourceTest {
    @TempDir
    Path dir;

    ArchitectureRegistry registry;

    @BeforeEach
    void setUp() {
        registry = TestGuests.registry();
    }

    @AfterEach
    void tearDown() {
        registry.close();
    }

    private DumpResult dump(String source, Path out, Map<String, String> settings) {
        GuestDump gd = new GuestDump(TestGuests.settings(dir, settings), registry);
        return gd.dump(new DumpRequest(Optional.of(source), out.toString(), Optional.empty(), Optional.empty(),
                false), ProgressListener.NONE);
    }

    /** A toy64 vmcore of one PT_LOAD: 4 KiB in the file, {@code memsz} in memory. */
    private Path hugeTail(long filesz, long memsz, boolean vmcoreinfo) throws IOException {
        DumpTarget t = TestElf.toyTarget(ElfClass.ELF64, ElfData.LSB);
        byte[] data = TestElf.pattern(0x100000, (int) filesz);
        Path p = dir.resolve("tail-" + Long.toHexString(memsz) + ".elf");
        Files.write(p, TestElf.build(t, TestElf.toyNotes(t, 1, vmcoreinfo ? "OSRELEASE=6.1\nPAGESIZE=4096\n" : null,
                List.of()), List.of(new Load(0, 0x100000, filesz, memsz)), data, false));
        return p;
    }

    private static void oneLine(String message) {
        assertFalse(message.contains("\n") || message.contains("\0") || message.contains("\tat "), message);
    }

    private void assertNoOutput(Path out) throws IOException {
        assertFalse(Files.exists(out));
        try (Stream<Path> s = Files.list(out.getParent())) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".partial")));
        }
    }

    @Test
    void aZeroTailOfTwoToTheSixtySecondIsRefusedByTheMemoryLimit() throws IOException {
        Path out = dir.resolve("out");
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> dump("elf:" + hugeTail(4096, 1L << 62, true), out, Map.of()));
        assertTrue(e.getMessage().contains("guestdump.source.max-guest-memory"), e.getMessage());
        oneLine(e.getMessage());
        assertNoOutput(out);
    }

    @Test
    void aZeroTailNearTwoToTheSixtyThreeIsExitTwoNotAnOverflow() throws IOException {
        Path out = dir.resolve("out");
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> dump("elf:" + hugeTail(4096, Long.MAX_VALUE - 0xfff, true), out, Map.of()));
        oneLine(e.getMessage());
        assertNoOutput(out);
    }

    @Test
    void aZeroTailNearTwoToTheSixtyThreeWithoutTheLimitIsExitTwoBeforeWriting() throws IOException {
        // the user lifted the limit: the file system cannot hold a file that large (ext4: 16 TiB); that is known
        // before the first byte is written, so it is bad input (exit 2), not a failed write (exit 1)
        Path out = dir.resolve("out");
        Path src = hugeTail(4096, Long.MAX_VALUE - 0xfff, true);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> dump("elf:" + src, out, Map.of(
                "guestdump.source.max-guest-memory", Long.toString(Long.MAX_VALUE))));
        assertTrue(e.getMessage().contains("more than the file system of") || e.getMessage().contains("p_memsz"),
                e.getMessage());
        oneLine(e.getMessage());
        assertNoOutput(out);
    }

    @Test
    void aTebibyteZeroTailIsWrittenAsAHoleInBothModesAndWithoutVmcoreinfo() throws IOException {
        for (String sparse : List.of("false", "true")) {
            Path out = dir.resolve("out-" + sparse);
            // no VMCOREINFO note: the memory scan runs, and must skip the zeros rather than read them
            DumpResult r = dump("elf:" + hugeTail(0, 1L << 40, false), out, Map.of("guestdump.elf.sparse", sparse,
                    "guestdump.output.fsync", "false"));
            assertEquals(1L << 40, r.memoryBytes());
            long allocated = (Long) Files.getAttribute(out, "unix:size") > 0
                    ? allocatedBytes(out) : 0;
            assertTrue(allocated < (64L << 20), "a hole, not a TiB of zeros: " + allocated + " bytes allocated");
            try (VmcoreFile f = VmcoreFile.open(out)) {
                ProgramHeader p = f.loads().get(0);
                assertEquals(1L << 40, p.filesz());
                assertEquals(f.channel().size(), p.offset() + p.filesz());
            }
            Files.delete(out);
        }
    }

    private DumpResult kdump(Path source, Path out, String zeroPages, ProgressListener progress) {
        GuestDump gd = new GuestDump(TestGuests.settings(dir, Map.of("guestdump.kdump.zero-pages", zeroPages,
                "guestdump.output.fsync", "false")), registry);
        return gd.dump(new DumpRequest(Optional.of("elf:" + source), out.toString(), Optional.empty(),
                Optional.empty(), false, false, "kdump-zlib", false), progress);
    }

    @Test
    void aKdumpOfATebibyteZeroTailWithSharedZeroPagesIsRefusedBeforeWriting() throws IOException {
        // 2^28 unbacked pages would need 6 GiB of page descriptors pointing at the shared zero page
        Path out = dir.resolve("out.kdump");
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> kdump(hugeTail(4096, 1L << 40, true), out, "share", ProgressListener.NONE));
        assertTrue(e.getMessage().contains("zeros it does not hold")
                && e.getMessage().contains("guestdump.kdump.zero-pages=exclude"), e.getMessage());
        oneLine(e.getMessage());
        assertNoOutput(out);
    }

    @Test
    void aKdumpOfAHugeZeroTailExcludesItRunByRunWithoutReadingItOrReservingDescriptors() throws IOException {
        long tail = 512L << 30;
        Path out = dir.resolve("out.kdump");
        long[] total = {-1};
        DumpResult r = kdump(hugeTail(4096, 4096 + tail, true), out, "exclude", (done, all) -> total[0] = all);
        // the pages the writer goes through are the one page the file holds, not 2^27 pages of zeros
        assertEquals(4096, total[0], "bytes the page loop visits");
        assertEquals(4096 + tail, r.memoryBytes());
        long size = Files.size(out);
        // two bitmaps of 2^27 + 2^8 bits (16 MiB each) and one page; no descriptor slots for the tail (3 GiB)
        assertTrue(size < (40L << 20), "file size " + size);
        io.guestdump.core.kdump.KdumpReader k = new io.guestdump.core.kdump.KdumpReader(Files.readAllBytes(out),
                ElfClass.ELF64, ElfData.LSB);
        long first = 0x100000 / 4096;
        assertEquals(io.guestdump.core.kdump.KdumpReader.PageState.DUMPED, k.state(first));
        assertEquals(io.guestdump.core.kdump.KdumpReader.PageState.EXCLUDED, k.state(first + 1));
        assertEquals(io.guestdump.core.kdump.KdumpReader.PageState.EXCLUDED, k.state(first + (tail >> 12)));
        assertEquals(io.guestdump.core.kdump.KdumpReader.PageState.ABSENT, k.state(first + (tail >> 12) + 1));
        assertArrayEquals(TestElf.pattern(0x100000, 4096), k.page(first));
    }

    @Test
    void aKdumpOfASmallZeroTailSharesItsZeroPagesWithoutReadingThem() throws IOException {
        Path out = dir.resolve("out.kdump");
        DumpResult r = kdump(hugeTail(4096, 4096 + (64L << 20), true), out, "share", ProgressListener.NONE);
        assertEquals(4096 + (64L << 20), r.memoryBytes());
        io.guestdump.core.kdump.KdumpReader k = new io.guestdump.core.kdump.KdumpReader(Files.readAllBytes(out),
                ElfClass.ELF64, ElfData.LSB);
        long first = 0x100000 / 4096;
        assertArrayEquals(TestElf.pattern(0x100000, 4096), k.page(first));
        for (long p : new long[] {first + 1, first + 4096, first + (64L << 20 >> 12)}) {
            assertEquals(io.guestdump.core.kdump.KdumpReader.PageState.DUMPED, k.state(p));
            assertArrayEquals(new byte[4096], k.page(p), "pfn 0x" + Long.toHexString(p));
        }
    }

    // ---- FIFOs and devices where a regular file is required: refused, never opened (an open would block)

    private Path fifo(String name) throws IOException, InterruptedException {
        Path p = dir.resolve(name);
        assertEquals(0, new ProcessBuilder("mkfifo", p.toString()).start().waitFor());
        return p;
    }

    @Test
    void aFifoAsAnElfSourceIsRefused() throws Exception {
        Path f = fifo("vmcore.fifo");
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> dump("elf:" + f, dir.resolve("out"), Map.of()));
        assertTrue(e.getMessage().contains("is a FIFO (named pipe), not a regular file"), e.getMessage());
    }

    @Test
    void aFifoGivenToInfoIsRefused() throws Exception {
        Path f = fifo("info.fifo");
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> VmcoreFile.open(f));
        assertTrue(e.getMessage().contains("FIFO"), e.getMessage());
    }

    @Test
    void aFifoAsABareSourceIsRefused() throws Exception {
        Path f = fifo("bare.fifo");
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> dump(f.toString(), dir.resolve("out"), Map.of()));
        assertTrue(e.getMessage().contains("FIFO"), e.getMessage());
    }

    @Test
    void aFifoAsASnapshotsBlockFileIsRefused() throws Exception {
        fifo("ram.fifo");
        Files.writeString(dir.resolve("regs.txt"), "CPU#0\nPC=1000 SP=2000\n");
        Path conf = Files.writeString(dir.resolve("g.conf"), "guest {\n arch = toy64\n memory = [ { start = 0, "
                + "size = 4096, file = ram.fifo } ]\n cpu-state-from = regs.txt\n}\n");
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> dump("snapshot:" + conf, dir.resolve("out"), Map.of()));
        assertTrue(e.getMessage().contains("guest.memory[0]: file") && e.getMessage().contains("FIFO"),
                e.getMessage());
    }

    @Test
    void aFifoAsASnapshotsRegisterFileIsRefused() throws Exception {
        fifo("regs.fifo");
        Files.write(dir.resolve("ram.bin"), new byte[4096]);
        Path conf = Files.writeString(dir.resolve("g.conf"), "guest {\n arch = toy64\n memory = [ { start = 0, "
                + "size = 4096, file = ram.bin } ]\n cpu-state-from = regs.fifo\n}\n");
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> dump("snapshot:" + conf, dir.resolve("out"), Map.of()));
        assertTrue(e.getMessage().contains("guest.cpu-state-from") && e.getMessage().contains("FIFO"),
                e.getMessage());
    }

    @Test
    void aCharacterDeviceAsASnapshotIsNamedForWhatItIs() {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> dump("snapshot:/dev/null", dir.resolve("out"), Map.of()));
        assertTrue(e.getMessage().contains("is a character device"), e.getMessage());
    }

    // ---- binary files given as a source

    @Test
    void aKdumpFileAsASourceIsRecognisedInOneLine() throws IOException {
        byte[] kdump = new byte[8192];
        System.arraycopy("KDUMP   ".getBytes(java.nio.charset.StandardCharsets.US_ASCII), 0, kdump, 0, 8);
        Path p = Files.write(dir.resolve("vmcore.kdump"), kdump);
        for (String source : List.of(p.toString(), "snapshot:" + p)) {
            InvalidInputException e = assertThrows(InvalidInputException.class,
                    () -> dump(source, dir.resolve("out"), Map.of()));
            assertTrue(e.getMessage().contains("is a kdump-compressed vmcore (seekable)"), e.getMessage());
            oneLine(e.getMessage());
        }
    }

    @Test
    void anyBinaryFileAsASourceIsRefusedWithoutItsBytes() throws IOException {
        byte[] junk = new byte[4096];
        new java.util.Random(15).nextBytes(junk);
        junk[7] = 0;
        Path p = Files.write(dir.resolve("image.png"), junk);
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> dump(p.toString(), dir.resolve("out"), Map.of()));
        assertTrue(e.getMessage().contains("is a binary file"), e.getMessage());
        oneLine(e.getMessage());
    }

    // ---- snapshots are data, not programs

    private InvalidInputException snapshotError(String text) throws IOException {
        Files.write(dir.resolve("ram.bin"), new byte[4096]);
        Files.writeString(dir.resolve("regs.txt"), "CPU#0\nPC=1000 SP=2000\n");
        Path conf = Files.writeString(dir.resolve("g.conf"), text);
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> dump("snapshot:" + conf, dir.resolve("out"), Map.of()));
        oneLine(e.getMessage());
        return e;
    }

    private static final String GUEST = "guest {\n arch = toy64\n memory = [ { start = 0, size = 4096, file = "
            + "ram.bin } ]\n cpu-state-from = regs.txt\n}\n";

    @Test
    void aSnapshotNestedThousandsDeepIsExitTwoNotStackOverflow() throws IOException {
        InvalidInputException e = snapshotError(GUEST + "x = " + "[".repeat(20_000) + "]".repeat(20_000) + "\n");
        assertTrue(e.getMessage().contains("nested more than 64 levels"), e.getMessage());
        InvalidInputException o = snapshotError(GUEST + "x = " + "{a:".repeat(20_000) + "1" + "}".repeat(20_000));
        assertTrue(o.getMessage().contains("nested more than 64 levels"), o.getMessage());
    }

    @Test
    void aGiganticRegisterFileIsRefusedBeforeItIsRead() throws IOException {
        Files.write(dir.resolve("ram.bin"), new byte[4096]);
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(dir.resolve("big-regs.txt").toFile(), "rw")) {
            f.setLength(1L << 30); // sparse: 1 GiB that takes no disk
        }
        Path conf = Files.writeString(dir.resolve("g.conf"), "guest {\n arch = toy64\n memory = [ { start = 0, "
                + "size = 4096, file = ram.bin } ]\n cpu-state-from = big-regs.txt\n}\n");
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> dump("snapshot:" + conf, dir.resolve("out"), Map.of()));
        assertTrue(e.getMessage().contains("1073741824 bytes, more than"), e.getMessage());
    }

    @Test
    void aGuestThatIsTextIsExitTwo() throws IOException {
        InvalidInputException e = snapshotError("guest = \"text\"\n");
        assertTrue(e.getMessage().contains("guest must be a block"), e.getMessage());
    }

    @Test
    void aUrlIncludeIsRefusedAndNothingIsFetched() throws Exception {
        try (java.net.ServerSocket server = new java.net.ServerSocket(0, 1,
                java.net.InetAddress.getLoopbackAddress())) {
            server.setSoTimeout(1);
            InvalidInputException e = snapshotError("include url(\"http://127.0.0.1:" + server.getLocalPort()
                    + "/x.conf\")\n" + GUEST);
            assertTrue(e.getMessage().contains("include url(") && e.getMessage().contains("is refused"),
                    e.getMessage());
            assertThrows(java.net.SocketTimeoutException.class, server::accept, "nobody connected");
        }
    }

    @Test
    void environmentVariablesAreNotExpanded() throws IOException {
        assertTrue(System.getenv("PATH") != null);
        InvalidInputException e = snapshotError(GUEST + "guest.machine-type = ${PATH}\n");
        assertTrue(e.getMessage().contains("never from the environment"), e.getMessage());
        assertFalse(e.getMessage().contains(System.getenv("PATH")), e.getMessage());
    }

    @Test
    void includesThatLeaveTheSnapshotDirectoryAreRefused() throws IOException {
        Path outside = Files.writeString(dir.getParent().resolve("guestdump-outside-" + ProcessHandle.current().pid()
                + ".conf"), "x = 1\n");
        try {
            for (String inc : List.of("include \"../" + outside.getFileName() + "\"", "include file(\"" + outside
                    + "\")", "include \"/etc/hostname\"")) {
                InvalidInputException e = snapshotError(inc + "\n" + GUEST);
                assertTrue(e.getMessage().contains("leaves the snapshot's directory"), inc + ": " + e.getMessage());
            }
        } finally {
            Files.deleteIfExists(outside);
        }
    }

    @Test
    void anIncludeBesideTheSnapshotWorks() throws IOException {
        Files.write(dir.resolve("ram.bin"), new byte[4096]);
        Files.writeString(dir.resolve("regs.txt"), "CPU#0\nPC=1000 SP=2000\n");
        Files.createDirectories(dir.resolve("parts"));
        Files.writeString(dir.resolve("parts/mem.conf"), "guest.memory = [ { start = 0, size = 4096, file = ram.bin "
                + "} ]\n");
        Path conf = Files.writeString(dir.resolve("g.conf"), "include \"parts/mem.conf\"\nguest {\n arch = toy64\n"
                + " cpu-state-from = regs.txt\n}\n");
        DumpResult r = dump("snapshot:" + conf, dir.resolve("out"), Map.of());
        assertEquals(4096, r.memoryBytes());
    }

    private static long allocatedBytes(Path p) throws IOException {
        try {
            Process du = new ProcessBuilder("du", "-B1", "--", p.toString()).redirectErrorStream(true).start();
            String o = new String(du.getInputStream().readAllBytes()).trim();
            du.waitFor();
            return Long.parseLong(o.split("\\s+")[0]);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }
}
