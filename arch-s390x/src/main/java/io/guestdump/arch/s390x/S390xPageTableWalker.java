package io.guestdump.arch.s390x;

import io.guestdump.arch.api.WalkLeaves;
import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.PageTableWalker;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.PhysRange;
import java.io.IOException;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * s390x dynamic address translation (z/Architecture Principles of Operation, chapter 3 "DAT"): from the ASCE of
 * the PSW's address space (primary = CR1, secondary = CR7, home = CR13; access-register mode uses CR1) through
 * region-first, -second, -third, segment and page tables. Large (1 MiB, EDAT-1) segment frames and huge (2 GiB,
 * EDAT-2) region-third frames are leaves; a real-space ASCE maps all RAM one to one.
 *
 * <p>Entries are big-endian 8-byte words. Bits are numbered from the left as in the PoP; the constants below are
 * the corresponding masks. Addresses are taken as absolute: the walk does not apply a vCPU's prefix, so virtual
 * pages that translate to real pages 0 and 1 are reported at absolute 0 and 1, not at the vCPU's lowcore.
 */
final class S390xPageTableWalker implements PageTableWalker {
    /** PSW bit 5 (T): DAT mode. */
    static final long PSW_DAT = 1L << 58;
    /** PSW bits 16-17 (AS): address-space control, as a shift. */
    static final int PSW_AS_SHIFT = 46;
    /** ASCE bit 58 (R): real-space control. */
    static final long ASCE_REAL = 0x20;
    /** Region/segment entry bit 58 (I), page-table entry bit 53 (I): invalid. */
    static final long ENTRY_INVALID = 0x20;
    /** Page-table entry bit 53 (I). */
    static final long PTE_INVALID = 0x400;
    /** Region-third and segment entry bit 53 (FC): format control, a frame rather than a table. */
    static final long FORMAT_CONTROL = 0x400;
    /** Entries per region or segment table of full length (4 pages of 512). */
    static final int FULL_TABLE = 2048;
    /** Entries per page table (2 KiB). */
    static final int PAGE_TABLE_ENTRIES = 256;
    /** Shift of the index bits at each level: region-first, -second, -third, segment, page. */
    static final int[] SHIFT = {53, 42, 31, 20, 12};
    /** Level numbers, which are also 3 - TT. */
    static final int REGION_FIRST = 0;
    static final int SEGMENT = 3;
    static final int PAGE = 4;
    private static final String[] NAMES = {"region-first", "region-second", "region-third", "segment", "page"};

    @Override
    public boolean pagingEnabled(VcpuState cpu) {
        return (cpu.u64(S390xRegisters.PSW_MASK) & PSW_DAT) != 0;
    }

    /** The control register holding the ASCE the PSW's address-space control selects. */
    static String asceRegister(VcpuState cpu) {
        return switch ((int) (cpu.u64(S390xRegisters.PSW_MASK) >>> PSW_AS_SHIFT) & 0x3) {
            case 0b10 -> "c7";
            case 0b11 -> "c13";
            default -> "c1";
        };
    }

    @Override
    public void walk(GuestState guest, VcpuState cpu, GuestMemory memory, Sink sink) throws IOException {
        walkAsce(cpu.u64(asceRegister(cpu)), memory, sink);
    }

    /** Walks one address space. */
    static void walkAsce(long asce, GuestMemory memory, Sink sink) throws IOException {
        if ((asce & ASCE_REAL) != 0) {
            for (GuestBlock b : memory.blocks()) {
                sink.map(b.range().start(), b.range().start(), b.range().length());
            }
            return;
        }
        int level = SEGMENT - (int) ((asce >>> 2) & 0x3);
        long origin = asce & ~0xfffL;
        int last = ((int) (asce & 0x3) + 1) * 512;
        if (!memory.isBacked(origin, last * 8L)) {
            sink.skipped(origin, "ASCE " + PhysRange.hex(asce) + " points to a " + NAMES[level]
                    + " table outside guest RAM; nothing of this address space is walked");
            return;
        }
        new Walk(memory, sink).table(origin, level, 0, last, 0);
    }

    private static final class Walk {
        private final GuestMemory memory;
        private final Sink sink;
        private final Deque<Long> path = new ArrayDeque<>();

        Walk(GuestMemory memory, Sink sink) {
            this.memory = memory;
            this.sink = sink;
        }

        void table(long origin, int level, int first, int last, long virtBase) throws IOException {
            path.push(origin);
            for (int i = first; i < last; i++) {
                long entryAddress = origin + 8L * i;
                long e = memory.readLong(entryAddress, ByteOrder.BIG_ENDIAN);
                long virt = virtBase | (long) i << SHIFT[level];
                if (level == PAGE) {
                    if ((e & PTE_INVALID) == 0) {
                        WalkLeaves.report(memory, sink, virt, e & ~0xfffL, 1L << SHIFT[PAGE], entryAddress);
                    }
                    continue;
                }
                if ((e & ENTRY_INVALID) != 0) {
                    continue;
                }
                int tt = (int) ((e >>> 2) & 0x3);
                if (tt != SEGMENT - level) {
                    sink.skipped(entryAddress, NAMES[level] + "-table entry " + PhysRange.hex(e) + " has table type "
                            + tt + ", expected " + (SEGMENT - level) + " (translation-specification exception)");
                    continue;
                }
                if (level >= REGION_FIRST + 2 && (e & FORMAT_CONTROL) != 0) {
                    // region-third: 2 GiB frame (EDAT-2); segment: 1 MiB frame (EDAT-1)
                    long size = 1L << SHIFT[level];
                    WalkLeaves.report(memory, sink, virt, e & ~(size - 1), size, entryAddress);
                    continue;
                }
                long next;
                int nextFirst;
                int nextLast;
                long nextBytes;
                if (level == SEGMENT) {
                    next = e & ~0x7ffL;
                    nextFirst = 0;
                    nextLast = PAGE_TABLE_ENTRIES;
                    nextBytes = PAGE_TABLE_ENTRIES * 8L;
                } else {
                    // TF (bits 56-57) and TL (bits 62-63) bound the valid part of the next table, in 512-entry pages
                    next = e & ~0xfffL;
                    nextFirst = (int) ((e >>> 6) & 0x3) * 512;
                    nextLast = ((int) (e & 0x3) + 1) * 512;
                    nextBytes = FULL_TABLE * 8L;
                }
                if (path.contains(next)) {
                    sink.skipped(entryAddress, WalkLeaves.loop(next));
                } else if (!memory.isBacked(next + nextFirst * 8L, (nextLast - nextFirst) * 8L)) {
                    sink.skipped(entryAddress, WalkLeaves.tableOutsideRam(next, nextBytes));
                } else {
                    table(next, level + 1, nextFirst, nextLast, virt);
                }
            }
            path.pop();
        }
    }
}
