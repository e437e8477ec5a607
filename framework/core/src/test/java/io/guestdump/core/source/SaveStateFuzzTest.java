package io.guestdump.core.source;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.lists;

import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.memory.GuestBlock;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;

/**
 * Mutated migration streams ({@link TestMigration}, bare and behind a libvirt header, raw and compressed in each
 * format libvirt writes): opening one and reading every
 * block either works or throws {@link InvalidInputException}; never another exception, never a hang, never an
 * allocation out of proportion to the file.
 */
class SaveStateFuzzTest {
    private static final int EXAMPLES = 6_000;
    private static final Duration CASE_TIMEOUT = Duration.ofSeconds(10);
    private static final long ALLOC_FIXED = 16L << 20;
    private static final long ALLOC_PER_FILE_BYTE = 64;

    private static final List<byte[]> SEEDS = new ArrayList<>();

    @TempDir
    static Path dir;

    /** One change: a byte, a big-endian integer of 1/2/4/8 bytes, a truncation, or a run copied elsewhere. */
    record Mutation(int kind, int position, long value, int width) {
        byte[] apply(byte[] in) {
            if (in.length == 0) {
                return in;
            }
            byte[] b = in.clone();
            switch (kind) {
                case 0 -> b[Math.floorMod(position, b.length)] = (byte) value;
                case 1 -> {
                    if (b.length < width) {
                        return b;
                    }
                    int at = Math.floorMod(position, b.length - width + 1);
                    ByteBuffer w = ByteBuffer.wrap(b).order(ByteOrder.BIG_ENDIAN);
                    long v = interesting(value, b.length);
                    switch (width) {
                        case 1 -> w.put(at, (byte) v);
                        case 2 -> w.putShort(at, (short) v);
                        case 4 -> w.putInt(at, (int) v);
                        default -> w.putLong(at, v);
                    }
                }
                case 2 -> b = Arrays.copyOf(b, Math.floorMod(position, b.length));
                default -> {
                    int from = Math.floorMod(position, b.length);
                    int to = Math.floorMod(value, b.length);
                    int n = Math.min(64, Math.min(b.length - from, b.length - to));
                    System.arraycopy(in, from, b, to, n);
                }
            }
            return b;
        }

        private static long interesting(long pick, int fileLength) {
            long[] values = {0, 1, -1, 2, 3, 4, 5, 6, 7, 8, 0x10, 0x20, 0x22, 0x28, 0x40, 0x7e, 0x7f, 0x80, 0xff,
                    0x100, 0x1000, 0x1008, 0x1002, 0xffff, 0x7fff_ffffL, 0x8000_0000L, 0xffff_ffffL, Long.MAX_VALUE,
                    Long.MIN_VALUE, 1L << 40, fileLength, fileLength - 1L, fileLength + 1L};
            return values[(int) Math.floorMod(pick, (long) values.length)];
        }
    }

    record Case(int seed, List<Mutation> mutations) {}

    @BeforeAll
    static void seeds() throws IOException {
        byte[] typical = TestMigration.typical().finish();
        SEEDS.add(typical);
        TestMigration small = new TestMigration().header("toy-2.0", true).ramSetup(1);
        small.u8(0x03).u32(1).page("toy.ram", 0, false, TestMigration.pattern(7))
                .zero("toy.rom", TestMigration.PAGE, false, 0).u64(0x10).footer(1);
        small.cpu(2, 0, 0x42);
        byte[] stream = small.finish();
        byte[] xml = "<domain/>\0".getBytes(StandardCharsets.UTF_8);
        ByteBuffer h = ByteBuffer.allocate(SaveStateSource.LIBVIRT_HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        h.put(SaveStateSource.LIBVIRT_MAGIC.getBytes(StandardCharsets.ISO_8859_1)).putInt(2).putInt(xml.length);
        ByteArrayOutputStream f = new ByteArrayOutputStream();
        f.writeBytes(h.array());
        f.writeBytes(xml);
        f.writeBytes(stream);
        SEEDS.add(stream);
        SEEDS.add(f.toByteArray());
        // libvirt images compressed in every format libvirt writes: the decoders must refuse, not hang or balloon
        for (LibvirtSaveImage.SaveFormat format : List.of(LibvirtSaveImage.SaveFormat.GZIP,
                LibvirtSaveImage.SaveFormat.BZIP2, LibvirtSaveImage.SaveFormat.XZ, LibvirtSaveImage.SaveFormat.LZOP,
                LibvirtSaveImage.SaveFormat.ZSTD)) {
            SEEDS.add(LibvirtSaveImageTest.image(ByteOrder.LITTLE_ENDIAN, format, "<domain/>",
                    LibvirtSaveImageTest.compressInJvm(format, stream), 0));
        }
        for (byte[] s : SEEDS) {
            assertTrue(openAndRead(s) >= 0, "seeds open unmutated");
        }
    }

    private static Gen<Mutation> mutations() {
        return Generate.range(0, 3).zip(Generate.range(0, Integer.MAX_VALUE),
                Generate.longRange(Long.MIN_VALUE, Long.MAX_VALUE), Generate.pick(List.of(1, 2, 4, 8)), Mutation::new);
    }

    @Test
    void mutatedStreamsOpenOrFailWithInvalidInputOnly() {
        AtomicLong tried = new AtomicLong();
        AtomicLong opened = new AtomicLong();
        AtomicLong worst = new AtomicLong();
        Gen<Case> cases = Generate.range(0, SEEDS.size() - 1).zip(lists().of(mutations()).ofSizeBetween(1, 4),
                Case::new);
        qt().withExamples(EXAMPLES).withShrinkCycles(200).forAll(cases).checkAssert(c -> {
            byte[] bytes = SEEDS.get(c.seed());
            for (Mutation m : c.mutations()) {
                bytes = m.apply(bytes);
            }
            byte[] file = bytes;
            long[] allocated = new long[1];
            boolean ok = assertTimeoutPreemptively(CASE_TIMEOUT, () -> {
                com.sun.management.ThreadMXBean mx =
                        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
                long before = mx.getCurrentThreadAllocatedBytes();
                long r = openAndRead(file);
                allocated[0] = mx.getCurrentThreadAllocatedBytes() - before;
                return r >= 0;
            }, () -> "hang with " + c.mutations());
            tried.incrementAndGet();
            if (ok) {
                opened.incrementAndGet();
            }
            long limit = ALLOC_FIXED + ALLOC_PER_FILE_BYTE * file.length;
            worst.accumulateAndGet(allocated[0], Math::max);
            assertTrue(allocated[0] <= limit, "seed " + c.seed() + " with " + c.mutations() + " allocated "
                    + allocated[0] + " bytes for a " + file.length + "-byte file (limit " + limit + ")");
        });
        System.err.printf("SaveStateFuzzTest: %d mutated streams, %d opened, %d refused; largest allocation %d "
                + "bytes%n", tried.get(), opened.get(), tried.get() - opened.get(), worst.get());
        assertTrue(opened.get() > 0 && opened.get() < tried.get(), "both outcomes must be reached");
    }

    /**
     * Found by the fuzzer in a CI run: one byte of an lzop block's dst_len raised to 16 MiB made the reader size its
     * output by the lie (16.9 MB for a 1,062-byte image); LZO1X cannot expand 255 times, so it is refused first.
     */
    @Test
    void anLzopBlockLengthNoLzoDataCanReachIsRefusedBeforeItSizesTheOutput() throws Exception {
        byte[] lzop = SEEDS.get(6); // the libvirt image compressed with lzop (seeds(): GZIP, BZIP2, XZ, LZOP, ZSTD)
        byte[] file = new Mutation(0, 1322583120, -11780622527362565L, 1).apply(lzop);
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = mx.getCurrentThreadAllocatedBytes();
        assertEquals(-1, openAndRead(file), "refused");
        long allocated = mx.getCurrentThreadAllocatedBytes() - before;
        assertTrue(allocated < 4L << 20, allocated + " bytes allocated");
    }

    /** Opens the file and reads every block; -1 when refused with InvalidInputException; any other error fails. */
    private static long openAndRead(byte[] file) throws IOException {
        Path p = dir.resolve("fuzz.mig");
        Files.write(p, file);
        try (LoadedGuest g = new SaveStateSource(p).open(List.of(TestMigration.TOY))) {
            long n = 0;
            ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
            for (GuestBlock b : g.state().memory().blocks()) {
                long size = b.range().length();
                for (long at = 0; at < size; at += buf.capacity()) {
                    buf.clear().limit((int) Math.min(buf.capacity(), size - at));
                    b.data().read(at, buf);
                    n += buf.position();
                }
                b.data().transferTo(0, size, DISCARD);
            }
            return n;
        } catch (InvalidInputException e) {
            if (e.getMessage() == null || e.getMessage().isBlank()) {
                fail("refusal without a message", e);
            }
            return -1;
        }
    }

    private static final WritableByteChannel DISCARD = new WritableByteChannel() {
        @Override
        public int write(ByteBuffer src) {
            int n = src.remaining();
            src.position(src.limit());
            return n;
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {}
    };
}
