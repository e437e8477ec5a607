package io.guestdump.core.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.longs;

import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.PageTableWalker;
import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.memory.ByteArrayData;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.PhysRange;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Generated page tables of a toy three-level format in guest memory, walked by a toy walker; every translation
 * and every read is checked against a page-by-page model.
 */
class KernelAddressSpaceTest {
    static final int PAGE = 4096;
    static final long LARGE = 2L << 20;
    /** RAM: [0, 8 MiB) holds data and tables; [16 MiB, 20 MiB) more data; a hole between. */
    static final long LOW_END = 8L << 20;
    static final long HIGH = 16L << 20;
    static final long HIGH_END = 20L << 20;

    /**
     * The toy format: 39-bit virtual addresses, sign-extended from bit 38; tables of 512 little-endian u64
     * entries; bit 0 present, bit 1 leaf (only at the middle level: a 2 MiB page), bits 47:12 the address.
     */
    static final class ToyWalker implements PageTableWalker {
        int tablesRead;

        @Override
        public boolean pagingEnabled(VcpuState cpu) {
            return cpu.u64("root") != 0;
        }

        @Override
        public void walk(GuestState guest, VcpuState cpu, GuestMemory memory, Sink sink) throws IOException {
            level(memory, sink, cpu.u64("root"), 3, 0);
        }

        private void level(GuestMemory memory, Sink sink, long table, int level, long prefix) throws IOException {
            tablesRead++;
            int shift = 12 + 9 * (level - 1);
            for (int i = 0; i < 512; i++) {
                long e = memory.readLong(table + 8L * i, ByteOrder.LITTLE_ENDIAN);
                if ((e & 1) == 0) {
                    continue;
                }
                long va = prefix | (long) i << shift;
                long addr = e & 0x0000_ffff_ffff_f000L;
                if (level == 1 || level == 2 && (e & 2) != 0) {
                    long v = va << 25 >> 25; // sign-extend from bit 38
                    sink.map(v, addr, 1L << shift);
                } else if (!memory.isBacked(addr, PAGE)) {
                    sink.skipped(table + 8L * i, "table outside RAM");
                } else {
                    level(memory, sink, addr, level - 1, va);
                }
            }
        }
    }

    /** A generated guest: its memory, its root table, and the model of what it maps. */
    record Generated(GuestMemory memory, byte[] low, long root, Map<Long, Long> pages, List<Long> vpages) {}

    static Generated generate(long seed) {
        Random r = new Random(seed);
        byte[] low = new byte[(int) LOW_END];
        byte[] high = new byte[(int) (HIGH_END - HIGH)];
        r.nextBytes(low);
        r.nextBytes(high);
        // tables live at [4 MiB, 8 MiB), data pages anywhere else in RAM (overlaps with tables are fine to read)
        long[] nextTable = {4L << 20};
        ByteBuffer lb = ByteBuffer.wrap(low).order(ByteOrder.LITTLE_ENDIAN);
        long root = newTable(lb, nextTable);
        Map<Long, Long> pages = new HashMap<>();
        List<Long> vpages = new ArrayList<>();
        int runs = 1 + r.nextInt(40);
        for (int k = 0; k < runs; k++) {
            boolean kernel = r.nextBoolean();
            long vbase = (kernel ? -(1L << 38) : 0) + ((long) r.nextInt(1 << 10) << 21);
            if (r.nextInt(4) == 0) {
                long pbase = r.nextBoolean() ? 0 : HIGH; // a 2 MiB page at a 2 MiB-aligned RAM address
                pbase += (long) r.nextInt(2) * LARGE;
                if (mapLarge(lb, nextTable, root, vbase, pbase)) {
                    for (long o = 0; o < LARGE; o += PAGE) {
                        pages.put(vbase + o, pbase + o);
                        vpages.add(vbase + o);
                    }
                }
            } else {
                int n = 1 + r.nextInt(8);
                boolean contiguous = r.nextBoolean();
                long pstart = randomPage(r);
                for (int j = 0; j < n; j++) {
                    long v = vbase + (long) j * PAGE;
                    long p = contiguous ? pstart + (long) j * PAGE : randomPage(r);
                    if (contiguous && !inRam(p)) {
                        p = randomPage(r);
                    }
                    if (mapSmall(lb, nextTable, root, v, p)) {
                        pages.put(v, p);
                        vpages.add(v);
                    }
                }
            }
        }
        GuestMemory memory = new GuestMemory(List.of(
                new GuestBlock(PhysRange.ofLength(0, LOW_END), new ByteArrayData(low), "low"),
                new GuestBlock(PhysRange.ofLength(HIGH, HIGH_END - HIGH), new ByteArrayData(high), "high")));
        return new Generated(memory, low, root, pages, vpages);
    }

    static boolean inRam(long p) {
        return p + PAGE <= LOW_END || p >= HIGH && p + PAGE <= HIGH_END;
    }

    static long randomPage(Random r) {
        return r.nextBoolean() ? (long) r.nextInt((int) (LOW_END / PAGE)) * PAGE
                : HIGH + (long) r.nextInt((int) ((HIGH_END - HIGH) / PAGE)) * PAGE;
    }

    static long newTable(ByteBuffer lb, long[] next) {
        long t = next[0];
        next[0] += PAGE;
        for (int i = 0; i < 512; i++) {
            lb.putLong((int) t + 8 * i, 0);
        }
        return t;
    }

    static int index(long v, int level) {
        return (int) (v >>> (12 + 9 * (level - 1))) & 511;
    }

    /** The middle-level table for {@code v}, made on demand; null when a 2 MiB leaf already covers it. */
    static Long middle(ByteBuffer lb, long[] next, long root, long v) {
        int e3 = (int) root + 8 * index(v, 3);
        if ((lb.getLong(e3) & 1) == 0) {
            lb.putLong(e3, newTable(lb, next) | 1);
        }
        return lb.getLong(e3) & ~0xfffL;
    }

    static boolean mapLarge(ByteBuffer lb, long[] next, long root, long v, long p) {
        int e2 = (int) (long) middle(lb, next, root, v) + 8 * index(v, 2);
        if ((lb.getLong(e2) & 1) != 0) {
            return false; // already mapped (small or large): keep the model simple
        }
        lb.putLong(e2, p | 3);
        return true;
    }

    static boolean mapSmall(ByteBuffer lb, long[] next, long root, long v, long p) {
        int e2 = (int) (long) middle(lb, next, root, v) + 8 * index(v, 2);
        long m = lb.getLong(e2);
        if ((m & 1) != 0 && (m & 2) != 0) {
            return false;
        }
        if ((m & 1) == 0) {
            m = newTable(lb, next) | 1;
            lb.putLong(e2, m);
        }
        int e1 = (int) (m & ~0xfffL) + 8 * index(v, 1);
        if ((lb.getLong(e1) & 1) != 0) {
            return false;
        }
        lb.putLong(e1, p | 1);
        return true;
    }

    static GuestState guest(GuestMemory memory, long... roots) {
        List<VcpuState> cpus = new ArrayList<>();
        for (int i = 0; i < roots.length; i++) {
            cpus.add(VcpuState.builder(i).set("root", roots[i]).build());
        }
        return new GuestState("toy64", memory, cpus, Map.of(), Optional.empty());
    }

    static byte[] physBytes(GuestMemory m, long p, int n) throws IOException {
        byte[] b = new byte[n];
        m.read(p, ByteBuffer.wrap(b));
        return b;
    }

    @Test
    void translationAndReadsEqualThePageByPageModelOfGeneratedTables() {
        qt().withExamples(30).forAll(longs().all()).checkAssert(seed -> {
            try {
                Generated g = generate(seed);
                ToyWalker w = new ToyWalker();
                KernelAddressSpace as = KernelAddressSpace.walk(w, guest(g.memory(), 0, g.root()));
                assertEquals(1, as.cpu(), "vCPU 0 has no paging; vCPU 1 is walked");
                Random r = new Random(seed ^ 0x5eed);
                for (long v : g.vpages()) {
                    int off = r.nextInt(PAGE);
                    assertEquals(OptionalLong.of(g.pages().get(v) + off), as.translate(v + off),
                            "seed " + seed + " vaddr " + Long.toHexString(v + off));
                    assertEquals(OptionalLong.empty(), as.translate(v ^ (1L << 60)), "non-canonical: unmapped");
                    // a read from here to as far as the model maps on, crossing pages
                    int len = 1 + r.nextInt(3 * PAGE);
                    byte[] expect = new byte[len];
                    long at = v + off;
                    int done = 0;
                    while (done < len && g.pages().containsKey(at & ~(PAGE - 1L))) {
                        int n = (int) Math.min(len - done, PAGE - (at & (PAGE - 1)));
                        System.arraycopy(physBytes(g.memory(), g.pages().get(at & ~(PAGE - 1L)) + (at & (PAGE - 1)),
                                n), 0, expect, done, n);
                        done += n;
                        at += n;
                    }
                    byte[] got = new byte[len];
                    if (done == len) {
                        as.read(v + off, got);
                        assertArrayEquals(expect, got, "seed " + seed + " read at " + Long.toHexString(v + off));
                    } else {
                        long stop = at;
                        KernelAddressSpace.UnmappedAddressException e = assertThrows(
                                KernelAddressSpace.UnmappedAddressException.class, () -> as.read(v + off, got));
                        assertEquals(stop, e.address(), "the first unmapped byte is named");
                    }
                }
                // the runs are compact: no two touch with one delta
                assertTrue(as.runCount() <= g.vpages().size());
            } catch (IOException e) {
                throw new AssertionError("seed " + seed, e);
            }
        });
    }

    @Test
    void contiguousLeavesBecomeOneRunAndReadsCrossThem() throws IOException {
        Generated g = generate(1);
        long v = -(1L << 38) + (900L << 21);
        // explicit: three 4 KiB leaves, physically contiguous, then one elsewhere
        KernelAddressSpace as = KernelAddressSpace.of(g.memory(),
                new long[] {v, v + PAGE, v + 2 * PAGE, v + 3 * PAGE},
                new long[] {0x10000, 0x11000, 0x12000, HIGH},
                new long[] {PAGE, PAGE, PAGE, PAGE});
        assertEquals(2, as.runCount());
        byte[] got = new byte[2 * PAGE - 8];
        as.read(v + 2 * PAGE + 8, got);
        byte[] expect = new byte[2 * PAGE - 8];
        System.arraycopy(physBytes(g.memory(), 0x12008, PAGE - 8), 0, expect, 0, PAGE - 8);
        System.arraycopy(physBytes(g.memory(), HIGH, PAGE), 0, expect, PAGE - 8, PAGE);
        assertArrayEquals(expect, got);
        long word = ByteBuffer.wrap(physBytes(g.memory(), HIGH + PAGE - 8, 8)).order(ByteOrder.BIG_ENDIAN).getLong();
        assertEquals(word, as.readLong(v + 4 * PAGE - 8, ByteOrder.BIG_ENDIAN), "a word in the last leaf's end");
        assertThrows(KernelAddressSpace.UnmappedAddressException.class,
                () -> as.readLong(v + 4 * PAGE - 4, ByteOrder.BIG_ENDIAN), "runs past the last leaf");
    }

    @Test
    void unsortedAndOverlappingLeavesKeepTheFirstGivenBytes() {
        Generated g = generate(2);
        KernelAddressSpace as = KernelAddressSpace.of(g.memory(),
                new long[] {0x5000, 0x1000, 0x2000, -PAGE},
                new long[] {0x50000, 0x10000, 0x90000, 0x30000},
                new long[] {PAGE, 2 * PAGE, 2 * PAGE, PAGE});
        assertEquals(OptionalLong.of(0x10800), as.translate(0x1800));
        assertEquals(OptionalLong.of(0x11800), as.translate(0x2800), "0x2000 was mapped first by the 0x1000 leaf");
        assertEquals(OptionalLong.of(0x91800), as.translate(0x3800), "the later leaf keeps what no other maps");
        assertEquals(OptionalLong.empty(), as.translate(0x4800));
        assertEquals(OptionalLong.of(0x50010), as.translate(0x5010));
        assertEquals(OptionalLong.of(0x30fff), as.translate(-1L), "a leaf ending at 2^64");
        assertEquals(OptionalLong.empty(), as.translate(-PAGE - 1));
    }

    @Test
    void aReadOfMappedDeviceMemoryNamesThePhysicalAddress() {
        Generated g = generate(3);
        KernelAddressSpace as = KernelAddressSpace.of(g.memory(), new long[] {0x7000}, new long[] {LOW_END},
                new long[] {PAGE});
        assertEquals(OptionalLong.of(LOW_END + 0x10), as.translate(0x7010));
        GuestMemory.UnbackedAddressException e = assertThrows(GuestMemory.UnbackedAddressException.class,
                () -> as.readInt(0x7010, ByteOrder.LITTLE_ENDIAN));
        assertEquals(LOW_END + 0x10, e.address());
    }

    @Test
    void walksOneVcpuOnceAndCountsEntriesItCouldNotFollow() throws IOException {
        Generated g = generate(4);
        ByteBuffer lb = ByteBuffer.wrap(g.low()).order(ByteOrder.LITTLE_ENDIAN);
        int free = 0;
        while ((lb.getLong((int) g.root() + 8 * free) & 1) != 0) {
            free++;
        }
        lb.putLong((int) g.root() + 8 * free, (64L << 20) | 1); // a table outside RAM
        ToyWalker w = new ToyWalker();
        KernelAddressSpace as = KernelAddressSpace.walk(w, guest(g.memory(), g.root(), g.root(), g.root()));
        ToyWalker once = new ToyWalker();
        once.walk(null, VcpuState.builder(0).set("root", g.root()).build(), g.memory(), new PageTableWalker.Sink() {
            @Override
            public void map(long virt, long phys, long length) {}

            @Override
            public void skipped(long tableEntryAddress, String reason) {}
        });
        assertEquals(once.tablesRead, w.tablesRead, "three vCPUs with paging, one walk");
        assertEquals(0, as.cpu());
        assertEquals(1, as.skipped());
        assertEquals(List.of("entry at " + PhysRange.hex(g.root() + 8L * free) + ": table outside RAM"),
                as.skipReasons());
    }

    @Test
    void noVcpuWithPagingIsAClearError() {
        Generated g = generate(5);
        UnsupportedGuestException e = assertThrows(UnsupportedGuestException.class,
                () -> KernelAddressSpace.walk(new ToyWalker(), guest(g.memory(), 0, 0)));
        assertTrue(e.getMessage().contains("none of the guest's 2 vCPUs has paging enabled"), e.getMessage());
    }
}
