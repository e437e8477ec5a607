package io.guestdump.core.vmcore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.arch.api.DumpTarget;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfData;
import io.guestdump.core.TestMachines;
import io.guestdump.memory.ByteArrayData;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.PhysRange;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
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

    /** 3 MiB + 100 bytes (crosses the 1 MiB read chunks, odd end), mostly zero, a few scattered non-zero bytes. */
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

    VmcoreLayout layout() {
        byte[] first = mostlyZero(1, (3 << 20) + 100, false);
        byte[] last = mostlyZero(2, (2 << 20) + 4096 * 3, true);
        List<GuestBlock> blocks = List.of(
                new GuestBlock(PhysRange.ofLength(0x100000, first.length), new ByteArrayData(first), "a"),
                new GuestBlock(PhysRange.ofLength(0x1000000, last.length), new ByteArrayData(last), "b"));
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
