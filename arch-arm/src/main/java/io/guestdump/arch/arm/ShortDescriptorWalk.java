package io.guestdump.arch.arm;

import io.guestdump.arch.api.WalkLeaves;
import io.guestdump.arch.api.PageTableWalker;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.PhysRange;
import java.io.IOException;
import java.nio.ByteOrder;

/**
 * The ARMv7 short-descriptor walk (ARM ARM B3.5): a first-level table of 32-bit entries, one per MiB
 * ({@code 0b01} page table, {@code 0b1x} section or, with bit 18, supersection), and 256-entry second-level tables
 * ({@code 0b01} 64 KiB large page, {@code 0b1x} 4 KiB small page).
 *
 * <p>Supersections and large pages are repeated in 16 consecutive entries; each entry is reported for its own
 * MiB / 4 KiB slice, which keeps the output in ascending virtual order without de-duplication.
 */
final class ShortDescriptorWalk {
    /** Bytes of a first-level entry, and of a second-level one. */
    static final int ENTRY_SIZE = 4;
    /** Entries of a second-level table. */
    static final int L2_ENTRIES = 256;
    /** Bit 18 of a section entry: supersection. */
    static final long SUPERSECTION = 1L << 18;
    private static final long MIB = 1L << 20;
    private static final long PAGE = 1L << 12;

    private ShortDescriptorWalk() {}

    /**
     * Walks first-level entries {@code [first, last)} of the table at {@code table}.
     *
     * @param name for messages, e.g. {@code TTBR0}
     */
    static void walk(GuestMemory memory, PageTableWalker.Sink sink, String name, long table, int first, int last,
            ByteOrder order) throws IOException {
        long base = table + (long) first * ENTRY_SIZE;
        if (!memory.isBacked(base, (long) (last - first) * ENTRY_SIZE)) {
            sink.skipped(table, name + " " + PhysRange.hex(table)
                    + " points to a first-level table outside guest RAM; nothing of this half is walked");
            return;
        }
        for (int i = first; i < last; i++) {
            long entryAddress = table + (long) i * ENTRY_SIZE;
            long d = memory.readInt(entryAddress, order);
            long virt = (long) i * MIB;
            switch ((int) (d & 0x3)) {
                case 0b01 -> {
                    long l2 = d & 0xffff_fc00L;
                    if (l2 >= table && l2 < table + 4096L * ENTRY_SIZE) {
                        sink.skipped(entryAddress, WalkLeaves.loop(l2));
                    } else if (!memory.isBacked(l2, L2_ENTRIES * ENTRY_SIZE)) {
                        sink.skipped(entryAddress, WalkLeaves.tableOutsideRam(l2, L2_ENTRIES * ENTRY_SIZE));
                    } else {
                        secondLevel(memory, sink, l2, virt, order);
                    }
                }
                case 0b10, 0b11 -> {
                    long phys;
                    if ((d & SUPERSECTION) != 0) {
                        // PA[31:24] | PA[35:32] from bits [23:20] | PA[39:36] from bits [8:5]
                        long superBase = d & 0xff00_0000L | ((d >>> 20) & 0xf) << 32 | ((d >>> 5) & 0xf) << 36;
                        phys = superBase + (virt & 0x00ff_ffffL);
                    } else {
                        phys = d & 0xfff0_0000L;
                    }
                    WalkLeaves.report(memory, sink, virt, phys, MIB, entryAddress);
                }
                default -> {
                    // fault entry
                }
            }
        }
    }

    private static void secondLevel(GuestMemory memory, PageTableWalker.Sink sink, long l2, long virtBase,
            ByteOrder order) throws IOException {
        for (int j = 0; j < L2_ENTRIES; j++) {
            long entryAddress = l2 + (long) j * ENTRY_SIZE;
            long d = memory.readInt(entryAddress, order);
            long virt = virtBase + j * PAGE;
            if ((d & 0x2) != 0) {
                WalkLeaves.report(memory, sink, virt, d & 0xffff_f000L, PAGE, entryAddress);
            } else if ((d & 0x1) != 0) {
                long largeBase = d & 0xffff_0000L;
                WalkLeaves.report(memory, sink, virt, largeBase + (virt & 0xf000L), PAGE, entryAddress);
            }
        }
    }
}
