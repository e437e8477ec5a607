package io.guestdump.core.vmcore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.arch.api.DumpTarget;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfData;
import io.guestdump.core.TestMachines;
import io.guestdump.memory.BlockData;
import io.guestdump.memory.ByteArrayData;
import io.guestdump.memory.FileRegion;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.PhysRange;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sparse ELF output has the same bytes as the dense file, ends at its planned size even when memory ends in zeros,
 * and (where {@code stat} reports it) takes fewer disk blocks; a non-file channel gets every byte.
 */
class SparseElfTest {
    @TempDir
    Path dir;

    /** Mostly zero, a few scattered non-zero bytes. */
    static byte[] mostlyZero(long seed, int size, boolean zeroTail) {
        byte[] b = new byte[size];
        Random r = new Random(seed);
        for (int i = 0; i < 40; i++) {
            b[r.nextInt(zeroTail ? size / 2 : size)] = (byte) (1 + r.nextInt(255));
        }
        b[0] = 1;
        if (!zeroTail) {
            b[size - 1] = 2; // last byte non-zero: a non-zero piece shorter than the hole grain
        }
        return b;
    }

    /** Block a crosses the writer's chunks and ends oddly; block b ends in zeros. */
    static final int FIRST = Math.max(3 << 20, 2 * VmcoreWriter.SPARSE_CHUNK) + 100;
    static final int LAST = Math.max(2 << 20, VmcoreWriter.SPARSE_CHUNK / 2) + 4096 * 3;

    VmcoreLayout layout() {
        byte[] first = mostlyZero(1, FIRST, false);
        byte[] last = mostlyZero(2, LAST, true);
        return layout(new ByteArrayData(first), new ByteArrayData(last));
    }

    static VmcoreLayout layout(BlockData first, BlockData last) {
        List<GuestBlock> blocks = List.of(
                new GuestBlock(PhysRange.ofLength(0x100000, first.size()), first, "a"),
                new GuestBlock(PhysRange.ofLength(0x1000000, last.size()), last, "b"));
        DumpTarget target = new DumpTarget(TestMachines.EM_X86_64, ElfClass.ELF64, ElfData.LSB, 4096);
        return VmcoreLayout.plan(target, 0, MappingPlanner.simple(blocks), blocks);
    }

    @Test
    void sparseFileHasTheDenseBytesAndItsPlannedSize() throws Exception {
        VmcoreLayout layout = layout();
        ByteArrayOutputStream dense = new ByteArrayOutputStream();
        VmcoreWriter.write(layout, new byte[0], Channels.newChannel(dense), ProgressListener.NONE);
        Path sparse = dir.resolve("sparse.vmcore");
        try (FileChannel ch = FileChannel.open(sparse, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            VmcoreWriter.write(layout, new byte[0], ch, true, ProgressListener.NONE);
        }
        assertEquals(layout.fileSize(), Files.size(sparse), "the file ends at its planned size (memory ends in zeros)");
        assertArrayEquals(dense.toByteArray(), Files.readAllBytes(sparse));

        Path full = Files.write(dir.resolve("dense.vmcore"), dense.toByteArray());
        long sparseBlocks = diskBlocks(sparse);
        long denseBlocks = diskBlocks(full);
        if (sparseBlocks >= 0 && denseBlocks >= 0) {
            assertTrue(sparseBlocks * 4 < denseBlocks, "sparse " + sparseBlocks + " blocks, dense " + denseBlocks);
        }
    }

    /** File-backed memory (a snapshot's RAM file, an ELF's PT_LOAD), at odd file offsets. */
    @Test
    void fileBackedMemoryGivesTheSameBytesAsHeldMemory() throws Exception {
        byte[] first = mostlyZero(1, FIRST, false);
        byte[] last = mostlyZero(2, LAST, true);
        Path ram = dir.resolve("ram");
        try (FileChannel f = FileChannel.open(ram, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            f.write(ByteBuffer.allocate(123)); // the blocks start at odd file offsets
            f.write(ByteBuffer.wrap(first));
            f.write(ByteBuffer.wrap(last));
        }
        ByteArrayOutputStream dense = new ByteArrayOutputStream();
        VmcoreWriter.write(layout(), new byte[0], Channels.newChannel(dense), ProgressListener.NONE);
        Path sparse = dir.resolve("sparse.vmcore");
        try (FileChannel in = FileChannel.open(ram, StandardOpenOption.READ);
                FileChannel out = FileChannel.open(sparse, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            VmcoreLayout fromFile = layout(new FileRegion(in, 123, first.length, "ram"),
                    new FileRegion(in, 123 + first.length, last.length, "ram"));
            VmcoreWriter.write(fromFile, new byte[0], out, true, ProgressListener.NONE);
            assertEquals(fromFile.fileSize(), out.position(), "the channel is left at the end of the file");
        }
        assertArrayEquals(dense.toByteArray(), Files.readAllBytes(sparse));
    }

    /** A RAM file shorter than its block is the read error naming where it ended. */
    @Test
    void aShortFileIsAnEndOfFileErrorNotAFault() throws Exception {
        Path ram = Files.write(dir.resolve("short"), new byte[FIRST - 5000]);
        try (FileChannel in = FileChannel.open(ram, StandardOpenOption.READ);
                FileChannel out = FileChannel.open(dir.resolve("out"), StandardOpenOption.CREATE_NEW,
                        StandardOpenOption.WRITE)) {
            VmcoreLayout fromFile = layout(new FileRegion(in, 0, FIRST, "short"), new ByteArrayData(new byte[4096]));
            EOFException e = assertThrows(EOFException.class,
                    () -> VmcoreWriter.write(fromFile, new byte[0], out, true, ProgressListener.NONE));
            assertTrue(e.getMessage().startsWith("short ended at byte "), e.getMessage());
        }
    }

    @Test
    void aChannelThatIsNotAFileGetsEveryByte() throws Exception {
        VmcoreLayout layout = layout();
        ByteArrayOutputStream a = new ByteArrayOutputStream();
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        VmcoreWriter.write(layout, new byte[0], Channels.newChannel(a), ProgressListener.NONE);
        VmcoreWriter.write(layout, new byte[0], Channels.newChannel(b), true, ProgressListener.NONE);
        assertArrayEquals(a.toByteArray(), b.toByteArray());
    }

    /** Allocated 512-byte blocks from {@code stat -c %b}, or -1 when stat is not there. */
    private static long diskBlocks(Path p) throws IOException, InterruptedException {
        if (!Files.isExecutable(Path.of("/usr/bin/stat"))) {
            return -1;
        }
        Process proc = new ProcessBuilder("/usr/bin/stat", "-c", "%b", p.toString()).start();
        String out = new String(proc.getInputStream().readAllBytes()).trim();
        return proc.waitFor(30, TimeUnit.SECONDS) && proc.exitValue() == 0 ? Long.parseLong(out) : -1;
    }
}
