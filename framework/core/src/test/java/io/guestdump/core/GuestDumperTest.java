package io.guestdump.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.arch.api.InvalidInputException;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The library facade: plugins from the class path (the toy architecture), every kind of output, cancellation. */
class GuestDumperTest {
    @TempDir
    Path dir;

    private Path snapshot() throws Exception {
        return TestGuests.snapshot(dir, "toy64", List.of(new TestGuests.Block(0x1000, 3 << 20)), 2);
    }

    @Test
    void findsClassPathPluginsAndDumpsToAFile() throws Exception {
        Path snap = snapshot();
        try (GuestDumper dumper = GuestDumper.builder().build()) {
            assertTrue(dumper.architectures().contains("toy64"), dumper.architectures().toString());
            assertTrue(dumper.formats().containsAll(List.of("elf", "kdump-zstd")), dumper.formats().toString());
            List<long[]> progress = new ArrayList<>();
            DumpResult r = dumper.dump("snapshot:" + snap).output(dir.resolve("a.vmcore"))
                    .progress((done, total) -> progress.add(new long[] {done, total})).run();
            assertEquals(dir.resolve("a.vmcore"), r.output());
            assertEquals(Files.size(dir.resolve("a.vmcore")), r.fileSize());
            assertEquals(2, r.cpus());
            assertFalse(progress.isEmpty(), "the progress listener is told");
            long[] last = progress.get(progress.size() - 1);
            assertEquals(last[1], last[0], "the last progress call reports the whole dump");
        }
    }

    @Test
    void aChannelGetsTheSameBytesAsAFile() throws Exception {
        Path snap = snapshot();
        try (GuestDumper dumper = GuestDumper.builder().build()) {
            dumper.dump("snapshot:" + snap).output(dir.resolve("a.vmcore")).run();
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DumpResult r = dumper.dump("snapshot:" + snap).output(Channels.newChannel(bytes)).run();
            assertNull(r.output());
            assertArrayEquals(Files.readAllBytes(dir.resolve("a.vmcore")), bytes.toByteArray());
            // the seekable kdump form goes to a FileChannel the caller opened; a stream needs the flattened form
            try (FileChannel fc = FileChannel.open(dir.resolve("k.kdump"), StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE)) {
                dumper.dump("snapshot:" + snap).output(fc).format("kdump-zlib").run();
            }
            assertEquals("KDUMP   ", new String(Files.readAllBytes(dir.resolve("k.kdump")), 0, 8,
                    java.nio.charset.StandardCharsets.US_ASCII));
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> dumper.dump("snapshot:" + snap)
                    .output(Channels.newChannel(new ByteArrayOutputStream())).format("kdump-zlib").run());
            assertTrue(e.getMessage().contains("flattened"), e.getMessage());
            ByteArrayOutputStream flat = new ByteArrayOutputStream();
            dumper.dump("snapshot:" + snap).output(Channels.newChannel(flat)).format("kdump-zlib").flattened(true)
                    .run();
            assertEquals("makedumpfile", new String(flat.toByteArray(), 0, 12,
                    java.nio.charset.StandardCharsets.US_ASCII));
        }
    }

    /**
     * A FileChannel with old bytes in it (or a block device) gets every byte: sparse ELF output leaves zero blocks
     * unwritten only in an empty file, where they read as zeros, never where old bytes would show through.
     */
    @Test
    void aFileChannelWithOldBytesGetsEveryByte() throws Exception {
        Path snap = snapshot();
        try (FileChannel b0 = FileChannel.open(dir.resolve("b0.bin"), StandardOpenOption.WRITE)) {
            b0.write(ByteBuffer.allocate(1 << 20), 1 << 20); // a zero MiB in the guest
        }
        try (GuestDumper dumper = GuestDumper.builder().build()) {
            dumper.dump("snapshot:" + snap).output(dir.resolve("a.vmcore")).run();
            byte[] expected = Files.readAllBytes(dir.resolve("a.vmcore"));
            byte[] old = new byte[expected.length + 4096];
            Arrays.fill(old, (byte) 0xA5);
            Path used = Files.write(dir.resolve("used"), old);
            try (FileChannel fc = FileChannel.open(used, StandardOpenOption.WRITE)) {
                DumpResult r = dumper.dump("snapshot:" + snap).output(fc).run();
                assertEquals(expected.length, r.fileSize());
                InvalidInputException e = assertThrows(InvalidInputException.class,
                        () -> dumper.dump("snapshot:" + snap).output(fc).format("kdump-zlib").run());
                assertTrue(e.getMessage().contains("not an empty FileChannel"), e.getMessage());
            }
            assertArrayEquals(expected, Arrays.copyOf(Files.readAllBytes(used), expected.length));
        }
    }

    @Test
    void filterAndSettingsApply() throws Exception {
        Path snap = snapshot();
        try (GuestDumper dumper = GuestDumper.builder().setting("guestdump.notes.vmcoreinfo", false).build()) {
            DumpResult r = dumper.dump("snapshot:" + snap).output(dir.resolve("f.vmcore")).filter(0x2000, 0x3000)
                    .run();
            assertEquals(0x3000, r.memoryBytes());
        }
    }

    @Test
    void cancellationStopsTheDumpAndLeavesNoFile() throws Exception {
        Path snap = snapshot();
        try (GuestDumper dumper = GuestDumper.builder().build()) {
            AtomicInteger asked = new AtomicInteger();
            // false before the dump starts, true at the first progress report: the dump is under way
            assertThrows(DumpCancelledException.class, () -> dumper.dump("snapshot:" + snap)
                    .output(dir.resolve("c.vmcore")).cancelWhen(() -> asked.incrementAndGet() > 1).run());
            assertTrue(asked.get() >= 2);
            assertThrows(DumpCancelledException.class, () -> dumper.dump("snapshot:" + snap)
                    .output(dir.resolve("c.vmcore")).format("kdump-lzo").cancelWhen(() -> true).run());
            try (Stream<Path> files = Files.list(dir)) {
                assertTrue(files.noneMatch(p -> p.getFileName().toString().contains("c.vmcore")),
                        "no output and no temporary file");
            }
        }
    }

    @Test
    void aJobWithoutOutputIsAnError() throws Exception {
        Path snap = snapshot();
        try (GuestDumper dumper = GuestDumper.builder().build()) {
            InvalidInputException e = assertThrows(InvalidInputException.class,
                    () -> dumper.dump("snapshot:" + snap).run());
            assertTrue(e.getMessage().contains("output(Path)"), e.getMessage());
        }
    }
}
