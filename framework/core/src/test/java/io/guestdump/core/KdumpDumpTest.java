package io.guestdump.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.core.inspect.VmcoreFile;
import io.guestdump.core.kdump.KdumpCodec;
import io.guestdump.core.kdump.KdumpReader;
import io.guestdump.core.kdump.KdumpReader.PageState;
import io.guestdump.core.plugins.ArchitectureRegistry;
import io.guestdump.core.vmcore.ProgressListener;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfData;
import io.guestdump.elf.NoteEncoder;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Snapshot in, kdump file out, read back with an independent reader. */
class KdumpDumpTest {
    static final List<String> FORMATS = List.of("kdump-zlib", "kdump-lzo", "kdump-snappy", "kdump-zstd");

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

    private GuestDump guestDump(Map<String, String> overrides) {
        return new GuestDump(TestGuests.settings(dir, overrides), registry);
    }

    private byte[] dump(GuestDump gd, Path snap, String format, boolean flattened, String name, Long begin,
            Long length) throws IOException {
        Path out = dir.resolve(name);
        gd.dump(new DumpRequest(Optional.of("snapshot:" + snap), out.toString(), Optional.ofNullable(begin),
                Optional.ofNullable(length), false, false, format, flattened), ProgressListener.NONE);
        return Files.readAllBytes(out);
    }

    /** Overwrites [offset, offset + len) of a block file with zeros. */
    private void zero(String file, int offset, int len) throws IOException {
        try (FileChannel ch = FileChannel.open(dir.resolve(file), StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[len]), offset);
        }
    }

    private static void assertPagesEqualSnapshot(KdumpReader r, List<TestGuests.Block> blocks) {
        for (TestGuests.Block b : blocks) {
            long cached = -1;
            byte[] page = null;
            for (long a = b.start(); a < b.start() + b.size(); a++) {
                long pfn = a / r.blockSize;
                if (pfn != cached) {
                    page = r.page(pfn);
                    cached = pfn;
                }
                assertEquals(TestGuests.byteAt(a), page[(int) (a % r.blockSize)], "paddr 0x" + Long.toHexString(a));
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"kdump-zlib, toy64", "kdump-lzo, toy64", "kdump-snappy, toy64", "kdump-zstd, toy64",
            "kdump-zlib, toy32", "kdump-zstd, toy32", "kdump-lzo, toybe", "kdump-snappy, toybe"})
    void everyPageReadsBackInBothFormsAndTheFlattenedFormRearrangesToTheSeekableFile(String format,
            String machine) throws IOException {
        List<TestGuests.Block> blocks = List.of(new TestGuests.Block(0x0, 0xa0000),
                new TestGuests.Block(0x100000, 0x40000));
        Path snap = TestGuests.snapshot(dir, machine, blocks, 3);
        GuestDump gd = guestDump(Map.of());
        byte[] seekable = dump(gd, snap, format, false, "seekable", null, null);
        byte[] flat = dump(gd, snap, format, true, "flat", null, null);
        assertArrayEquals(seekable, KdumpReader.rearrange(flat), "makedumpfile -R of the flattened form");

        ElfClass c = machine.equals("toy32") ? ElfClass.ELF32 : ElfClass.ELF64;
        ElfData d = machine.equals("toybe") ? ElfData.MSB : ElfData.LSB;
        KdumpReader r = new KdumpReader(seekable, c, d);
        assertEquals(4096, r.blockSize);
        assertEquals(3, r.nrCpus);
        assertEquals(ToyArchitecture.UTS_MACHINE, r.machine, "the plugin names utsname.machine");
        assertEquals("6.1.0-toy", r.release);
        assertEquals(0x140, r.maxMapnr);
        assertEquals(0, r.dumpLevel);
        assertEquals(4096 + (c == ElfClass.ELF64 ? 104 : 80), r.offsetNote, "notes right after the sub-header");
        assertPagesEqualSnapshot(r, blocks);
        assertEquals(PageState.ABSENT, r.state(0xa0), "the hole between the blocks");
        assertNull(r.page(0x140));

        byte[] elf = dump(gd, snap, "elf", false, "vmcore.elf", null, null);
        try (VmcoreFile f = VmcoreFile.open(dir.resolve("vmcore.elf"))) {
            assertEquals(f.notes(), NoteEncoder.decode(r.notes(), d), "the same notes as the ELF dump");
        }
        assertTrue(elf.length > 0);
        assertEquals("OSRELEASE=6.1.0-toy\nPAGESIZE=4096\n", new String(seekable, (int) r.offsetVmcoreinfo,
                (int) r.sizeVmcoreinfo, StandardCharsets.UTF_8), "offset_vmcoreinfo points at the note text");
    }

    @Test
    void unalignedBlocksGivePartialPagesFilledWithZeros() throws IOException {
        // a block starting mid-page (QEMU's tpm-crb-cmd at 0xfed40080) and two sharing a page
        List<TestGuests.Block> blocks = List.of(new TestGuests.Block(0x1080, 0x1f00),
                new TestGuests.Block(0x2f80, 0x100), new TestGuests.Block(0x5000, 0x123));
        Path snap = TestGuests.snapshot(dir, "toy64", blocks, 1);
        for (String format : FORMATS) {
            byte[] file = dump(guestDump(Map.of()), snap, format, false, format, null, null);
            KdumpReader r = new KdumpReader(file, ElfClass.ELF64, ElfData.LSB);
            assertEquals(6, r.maxMapnr, "the partial last page counts");
            assertPagesEqualSnapshot(r, blocks);
            assertEquals(0, r.page(1)[0x7f], "before the first block");
            assertEquals(0, r.page(3)[0x80], "after the third block, in its page");
            assertEquals(0, r.page(5)[0x123]);
            assertEquals(PageState.ABSENT, r.state(4));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"share", "exclude"})
    void allZeroPagesAreSharedOrExcluded(String mode) throws IOException {
        List<TestGuests.Block> blocks = List.of(new TestGuests.Block(0x0, 0x10000));
        Path snap = TestGuests.snapshot(dir, "toy64", blocks, 1);
        zero("b0.bin", 0x2000, 0x3000); // pages 2, 3, 4
        byte[] file = dump(guestDump(Map.of("guestdump.kdump.zero-pages", mode)), snap, "kdump-zlib", false, "k",
                null, null);
        KdumpReader r = new KdumpReader(file, ElfClass.ELF64, ElfData.LSB);
        for (long pfn = 0; pfn < 16; pfn++) {
            boolean zero = pfn >= 2 && pfn <= 4;
            assertEquals(zero && mode.equals("exclude") ? PageState.EXCLUDED : PageState.DUMPED, r.state(pfn));
            byte[] page = r.page(pfn);
            for (int i = 0; i < 4096; i++) {
                assertEquals(zero ? 0 : TestGuests.byteAt(pfn * 4096 + i), page[i]);
            }
        }
        assertEquals(mode.equals("exclude") ? 1 : 0, r.dumpLevel, "dump_level 1 = zero pages excluded");
    }

    @Test
    void theOutputDoesNotDependOnThreadsOrBatchSize() throws IOException {
        List<TestGuests.Block> blocks = List.of(new TestGuests.Block(0x0, 0x9f000), new TestGuests.Block(0x100000,
                0x80800));
        Path snap = TestGuests.snapshot(dir, "toy64", blocks, 2);
        zero("b1.bin", 0x4000, 0x8000);
        for (String format : FORMATS) {
            byte[] one = dump(guestDump(Map.of("guestdump.kdump.threads", "1")), snap, format, true, format + "1",
                    null, null);
            byte[] many = dump(guestDump(Map.of("guestdump.kdump.threads", "5", "guestdump.kdump.batch-size", "4096")),
                    snap, format, true, format + "5", null, null);
            assertArrayEquals(KdumpReader.rearrange(one), KdumpReader.rearrange(many), format);
            assertTrue(KdumpReader.records(many) > KdumpReader.records(one), "smaller batches, more records");
        }
    }

    @Test
    void aFilterWorksWithKdumpToo() throws IOException {
        List<TestGuests.Block> blocks = List.of(new TestGuests.Block(0x0, 0x10000));
        Path snap = TestGuests.snapshot(dir, "toy64", blocks, 1);
        byte[] file = dump(guestDump(Map.of()), snap, "kdump-lzo", false, "k", 0x3100L, 0x2000L);
        KdumpReader r = new KdumpReader(file, ElfClass.ELF64, ElfData.LSB);
        assertEquals(6, r.maxMapnr);
        assertEquals(PageState.ABSENT, r.state(2));
        assertPagesEqualSnapshot(r, List.of(new TestGuests.Block(0x3100, 0x2000)));
        assertEquals(0, r.page(3)[0xff], "outside the window reads as zeros");
    }

    @Test
    void theSeekableFormCannotGoToStandardOutputAndElfHasNoFlattenedForm() throws IOException {
        Path snap = TestGuests.snapshot(dir, "toy64", List.of(new TestGuests.Block(0, 4096)), 1);
        GuestDump gd = guestDump(Map.of());
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> gd.dump(new DumpRequest(
                Optional.of("snapshot:" + snap), "-", Optional.empty(), Optional.empty(), false, false, "kdump-zstd",
                false), ProgressListener.NONE));
        assertTrue(e.getMessage().contains("--flattened"), e.getMessage());
        e = assertThrows(InvalidInputException.class, () -> gd.dump(new DumpRequest(Optional.of("snapshot:" + snap),
                dir.resolve("x").toString(), Optional.empty(), Optional.empty(), false, false, "elf", true),
                ProgressListener.NONE));
        assertTrue(e.getMessage().contains("kdump formats only"), e.getMessage());
        assertEquals(List.of("elf", "kdump-zlib", "kdump-lzo", "kdump-snappy", "kdump-zstd"), gd.formatNames());
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aFailureWhileCompressingLeavesNothingAtTheTarget(boolean flattened) throws IOException {
        Path snap = TestGuests.snapshot(dir, "toy64", List.of(new TestGuests.Block(0x1000, 1 << 20)), 1);
        Path out = dir.resolve("vmcore");
        ProgressListener shrink = (done, total) -> {
            try (FileChannel ch = FileChannel.open(dir.resolve("b0.bin"), StandardOpenOption.WRITE)) {
                ch.truncate(1000);
            } catch (IOException ex) {
                throw new AssertionError(ex);
            }
        };
        RuntimeException e = assertThrows(RuntimeException.class, () -> guestDump(Map.of()).dump(new DumpRequest(
                Optional.of("snapshot:" + snap), out.toString(), Optional.empty(), Optional.empty(), false, false,
                "kdump-zlib", flattened), shrink));
        assertTrue(e.getMessage().contains(out.toString()), e.getMessage());
        assertFalse(Files.exists(out));
        try (Stream<Path> s = Files.list(dir)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".partial")));
        }
    }

    @Test
    void aCancelledDumpLeavesNothingAtTheTarget() throws IOException {
        Path snap = TestGuests.snapshot(dir, "toy64", List.of(new TestGuests.Block(0, 1 << 20)), 1);
        Path out = dir.resolve("vmcore");
        ProgressListener cancel = (done, total) -> {
            if (done > 0) {
                throw new IllegalStateException("cancelled");
            }
        };
        assertThrows(IllegalStateException.class, () -> guestDump(Map.of("guestdump.kdump.batch-size", "8192"))
                .dump(new DumpRequest(Optional.of("snapshot:" + snap), out.toString(), Optional.empty(),
                        Optional.empty(), false, false, "kdump-snappy", false), cancel));
        assertFalse(Files.exists(out));
    }

    @Test
    void badSettingsAreNamed() {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> guestDump(Map.of("guestdump.kdump.zero-pages", "drop")));
        assertTrue(e.getMessage().contains("guestdump.kdump.zero-pages"), e.getMessage());
        e = assertThrows(InvalidInputException.class, () -> guestDump(Map.of("guestdump.kdump.zstd-level", "22")));
        assertTrue(e.getMessage().contains("guestdump.kdump.zstd-level = 22"), e.getMessage());
    }

    @Test
    void zstdUsesLibzstdWithOneContextPerThreadWhereZstdJniHasANativeLibrary() {
        String arch = System.getProperty("os.arch");
        assumeTrue(System.getProperty("os.name").equals("Linux") && (arch.equals("amd64") || arch.equals("aarch64")),
                "zstd-jni's native library is checked on Linux amd64 and aarch64 only, not " + arch);
        assertTrue(KdumpCodec.nativeZstd(), "zstd-jni did not load on Linux " + arch);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 19})
    void everyZstdLevelGivesFramesThatDecodeAloneFromOneReusedContext(int level) throws IOException {
        byte[] page = new byte[4096];
        for (int i = 0; i < page.length; i++) {
            page[i] = (byte) ("guestdump ".charAt(i % 10) + (i / 512));
        }
        try (KdumpCodec.PageCompressor c = KdumpCodec.ZSTD.newCompressor(4096, 1, level)) {
            for (int round = 0; round < 3; round++) {   // the context is reused: every frame stands alone
                int n = c.compress(page, 0);
                assertTrue(n > 0 && n < 4096, "level " + level + " gave " + n + " bytes");
                byte[] back = new byte[4096];
                int m = new io.airlift.compress.zstd.ZstdDecompressor().decompress(c.output(), 0, n, back, 0, 4096);
                assertEquals(4096, m);
                assertArrayEquals(page, back);
            }
        }
    }
}
