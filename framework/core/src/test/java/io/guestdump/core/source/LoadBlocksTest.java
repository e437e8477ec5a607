package io.guestdump.core.source;

import static io.guestdump.core.source.TestElf.pattern;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.core.inspect.VmcoreFile;
import io.guestdump.core.source.TestElf.Load;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfData;
import io.guestdump.memory.ByteArrayData;
import io.guestdump.memory.FileRegion;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.PhysRange;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PT_LOADs to guest-physical blocks: file-backed parts, zero-filled tails, aliasing, refusals. */
class LoadBlocksTest {
    private static final DumpTarget TARGET = TestElf.toyTarget(ElfClass.ELF64, ElfData.LSB);

    @TempDir
    Path dir;

    private List<GuestBlock> blocks(List<Load> loads, byte[] data) throws IOException {
        Path p = dir.resolve("t.elf");
        Files.write(p, TestElf.build(TARGET, TestElf.toyNotes(TARGET, 1, null, List.of()), loads, data, false));
        VmcoreFile f = VmcoreFile.open(p);
        return LoadBlocks.build(f);
    }

    private static byte[] read(GuestBlock b) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate((int) b.range().length());
        b.data().read(0, buf);
        ByteArrayOutputStream viaTransfer = new ByteArrayOutputStream();
        b.data().transferTo(0, b.range().length(), Channels.newChannel(viaTransfer));
        assertArrayEquals(buf.array(), viaTransfer.toByteArray(), "read and transferTo agree for " + b);
        return buf.array();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    @Test
    void eachLoadBecomesTheBlockOfItsFileBytes() throws IOException {
        byte[] data = concat(pattern(0x1000, 0x100), pattern(0x5000, 0x80));
        List<GuestBlock> b = blocks(List.of(new Load(0, 0x1000, 0x100, 0x100), new Load(0x100, 0x5000, 0x80, 0x80)),
                data);
        assertEquals(2, b.size());
        assertEquals(new PhysRange(0x1000, 0x1100), b.get(0).range());
        assertEquals(new PhysRange(0x5000, 0x5080), b.get(1).range());
        assertArrayEquals(pattern(0x1000, 0x100), read(b.get(0)));
        assertArrayEquals(pattern(0x5000, 0x80), read(b.get(1)));
    }

    @Test
    void adjacentLoadsStaySeparateBlocks() throws IOException {
        byte[] data = pattern(0x1000, 0x200);
        List<GuestBlock> b = blocks(List.of(new Load(0, 0x1000, 0x100, 0x100), new Load(0x100, 0x1100, 0x100, 0x100)),
                data);
        assertEquals(List.of(new PhysRange(0x1000, 0x1100), new PhysRange(0x1100, 0x1200)),
                b.stream().map(GuestBlock::range).toList());
    }

    @Test
    void aliasesSharingFileBytesCollapseWithoutComparing() throws IOException {
        // paging-dump style: the second PT_LOAD maps part of the first physical range from the same file bytes
        byte[] data = pattern(0x1000, 0x2000);
        List<GuestBlock> b = blocks(List.of(new Load(0, 0x1000, 0x2000, 0x2000),
                new Load(0x800, 0x1800, 0x1000, 0x1000)), data);
        assertEquals(1, b.size());
        assertEquals(new PhysRange(0x1000, 0x3000), b.get(0).range());
        assertArrayEquals(pattern(0x1000, 0x2000), read(b.get(0)));
    }

    @Test
    void aliasesWithEqualBytesAtOtherOffsetsCollapseAndExtend() throws IOException {
        // #1 holds [0x1000, 0x2000); #2 holds [0x1800, 0x2800) from its own copy; they agree on [0x1800, 0x2000)
        byte[] data = concat(pattern(0x1000, 0x1000), pattern(0x1800, 0x1000));
        List<GuestBlock> b = blocks(List.of(new Load(0, 0x1000, 0x1000, 0x1000),
                new Load(0x1000, 0x1800, 0x1000, 0x1000)), data);
        assertEquals(1, b.size());
        assertEquals(new PhysRange(0x1000, 0x2800), b.get(0).range());
        assertArrayEquals(pattern(0x1000, 0x1800), read(b.get(0)));
        assertTrue(b.get(0).name().contains("#1") && b.get(0).name().contains("#2"), b.get(0).name());
    }

    @Test
    void aliasesThatDisagreeAreRefusedNamingBothAndTheAddress() {
        byte[] second = pattern(0x1800, 0x1000);
        second[0x234] ^= 0x5a;
        byte[] data = concat(pattern(0x1000, 0x1000), second);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> blocks(List.of(
                new Load(0, 0x1000, 0x1000, 0x1000), new Load(0x1000, 0x1800, 0x1000, 0x1000)), data));
        assertTrue(e.getMessage().contains("program header #1"), e.getMessage());
        assertTrue(e.getMessage().contains("program header #2"), e.getMessage());
        assertTrue(e.getMessage().contains("0x1a34"), e.getMessage());
    }

    @Test
    void memszBeyondFileszReadsAsZerosInTheSameBlock() throws IOException {
        byte[] data = pattern(0x1000, 0x100);
        List<GuestBlock> b = blocks(List.of(new Load(0, 0x1000, 0x100, 0x1000)), data);
        assertEquals(1, b.size());
        assertEquals(new PhysRange(0x1000, 0x2000), b.get(0).range());
        byte[] expected = new byte[0x1000];
        System.arraycopy(pattern(0x1000, 0x100), 0, expected, 0, 0x100);
        assertArrayEquals(expected, read(b.get(0)));
    }

    @Test
    void fileBytesOfAnotherLoadWinOverAZeroFilledTail() throws IOException {
        // #1: [0x1000, 0x1100) in the file, memsz up to 0x1400; #2 holds [0x1200, 0x1300) in the file
        byte[] data = concat(pattern(0x1000, 0x100), pattern(0x1200, 0x100));
        List<GuestBlock> b = blocks(List.of(new Load(0, 0x1000, 0x100, 0x400), new Load(0x100, 0x1200, 0x100, 0x100)),
                data);
        assertEquals(List.of(new PhysRange(0x1000, 0x1200), new PhysRange(0x1200, 0x1300),
                new PhysRange(0x1300, 0x1400)), b.stream().map(GuestBlock::range).toList());
        GuestMemory m = new GuestMemory(b);
        ByteBuffer all = ByteBuffer.allocate(0x400);
        m.read(0x1000, all);
        byte[] expected = new byte[0x400];
        System.arraycopy(pattern(0x1000, 0x100), 0, expected, 0, 0x100);
        System.arraycopy(pattern(0x1200, 0x100), 0, expected, 0x200, 0x100);
        assertArrayEquals(expected, all.array());
    }

    @Test
    void aLoadWithoutFileBytesIsZeroFilledMemory() throws IOException {
        List<GuestBlock> b = blocks(List.of(new Load(-1, 0x4000, 0, 0x2000)), new byte[0]);
        assertEquals(1, b.size());
        assertEquals(new PhysRange(0x4000, 0x6000), b.get(0).range());
        assertArrayEquals(new byte[0x2000], read(b.get(0)));
    }

    @Test
    void overlappingZeroFilledTailsMerge() throws IOException {
        List<GuestBlock> b = blocks(List.of(new Load(0, 0x4000, 0, 0x2000), new Load(0, 0x5000, 0, 0x2000)),
                new byte[0]);
        assertEquals(List.of(new PhysRange(0x4000, 0x7000)), b.stream().map(GuestBlock::range).toList());
    }

    @Test
    void aLoadReachingTheEndOfTheAddressSpaceIsRefused() {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> blocks(List.of(new Load(0, -0x1000L, 0, 0x1000)), new byte[0]));
        assertTrue(e.getMessage().contains("p_paddr=0xfffffffffffff000"), e.getMessage());
    }

    @Test
    void aLoadPastTheEndOfTheFileIsRefusedNamingOffsetAndSize() {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> blocks(List.of(new Load(0x10, 0x1000, 0x1000, 0x1000)), pattern(0x1000, 0x100)));
        assertTrue(e.getMessage().contains("p_offset=") && e.getMessage().contains("p_filesz=0x1000"),
                e.getMessage());
    }

    @Test
    void anAbsurdProgramHeaderCountIsRefusedBeforeAllocating() throws IOException {
        byte[] file = TestElf.build(TARGET, TestElf.toyNotes(TARGET, 1, null, List.of()),
                List.of(new Load(0, 0x1000, 0x10, 0x10)), pattern(0x1000, 0x10), false);
        ByteBuffer.wrap(file).order(java.nio.ByteOrder.LITTLE_ENDIAN).putShort(56, (short) 0xfff0);
        Path p = dir.resolve("count.elf");
        Files.write(p, file);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> VmcoreFile.open(p));
        assertTrue(e.getMessage().contains("65520 entries"), e.getMessage());
    }

    @Test
    void zeroFillDataNeverAllocatesItsSize() throws IOException {
        ZeroFillData z = new ZeroFillData(1L << 50);
        ByteBuffer b = ByteBuffer.allocate(16);
        Arrays.fill(b.array(), (byte) 1);
        z.read((1L << 50) - 16, b);
        assertArrayEquals(new byte[16], b.array());
        assertThrows(IndexOutOfBoundsException.class, () -> z.read(1L << 50, ByteBuffer.allocate(1)));
    }

    /** A file region is one block of a file: a read past its end never reaches the next block's bytes. */
    @Test
    void everyBlockDataRefusesReadsPastItsEndWithoutOverflow() throws IOException {
        Path f = Files.write(dir.resolve("two-blocks.bin"), pattern(0, 8192));
        try (FileChannel ch = FileChannel.open(f)) {
            FileRegion first = new FileRegion(ch, 0, 4096, "two-blocks.bin");
            ByteBuffer b = ByteBuffer.allocate(16);
            first.read(4080, b);
            assertArrayEquals(pattern(4080, 16), b.array());
            assertThrows(IndexOutOfBoundsException.class, () -> first.read(4090, ByteBuffer.allocate(16)));
            assertThrows(IndexOutOfBoundsException.class,
                    () -> first.transferTo(4000, 200, Channels.newChannel(new ByteArrayOutputStream())));
        }
        ByteArrayData bytes = new ByteArrayData(new byte[16]);
        assertThrows(IndexOutOfBoundsException.class, () -> bytes.read(Long.MAX_VALUE - 2, ByteBuffer.allocate(8)));
        assertThrows(IndexOutOfBoundsException.class, () -> bytes.slice(8, Long.MAX_VALUE));
    }
}
