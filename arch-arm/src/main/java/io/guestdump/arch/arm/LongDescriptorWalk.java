package io.guestdump.arch.arm;

import io.guestdump.arch.api.WalkLeaves;
import io.guestdump.arch.api.PageTableWalker;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.PhysRange;
import java.io.IOException;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * The VMSA long-descriptor translation walk shared by AArch64 (4, 16 and 64 KiB granules, 39- to 52-bit VAs) and
 * 32-bit ARM LPAE (4 KiB granule, 32-bit VA, 40-bit PA): one translation regime, one table base.
 *
 * <p>Descriptor (ARM ARM D8.3): bit 0 valid; bit 1 table (levels below the last) or page (last level); output
 * address bits [47:granule] (4/16 KiB without FEAT_LPA2), plus bits [15:12] as PA[51:48] for 64 KiB with
 * FEAT_LPA, or bits [49:granule] plus bits [9:8] as PA[51:50] with {@code TCR.DS} (FEAT_LPA2).
 */
final class LongDescriptorWalk {
    /** Last level, where page descriptors live. */
    static final int LAST_LEVEL = 3;
    /** Bytes per descriptor. */
    static final int DESCRIPTOR_SIZE = 8;

    /**
     * One translation regime.
     *
     * @param name         for messages, e.g. {@code TTBR1_EL1}
     * @param tableBase    physical address of the top-level table
     * @param inputBits    size of the regime's input address space, in bits (64 - TxSZ; 32 - TxSZ on LPAE)
     * @param granuleShift 12, 14 or 16
     * @param vaBase       the virtual address of input offset 0 (0 for TTBR0, {@code -(1 << inputBits)} for TTBR1)
     * @param limit        exclusive upper bound of input offsets walked (0 = the whole space); LPAE's TTBR0 stops
     *                     where TTBR1's range begins
     * @param ds           {@code TCR.DS}: 52-bit output addresses with 4/16 KiB granules (FEAT_LPA2)
     * @param pa52         52-bit output addresses with the 64 KiB granule (FEAT_LPA)
     * @param order        descriptor byte order ({@code SCTLR.EE})
     */
    record Regime(String name, long tableBase, int inputBits, int granuleShift, long vaBase, long limit,
            boolean ds, boolean pa52, ByteOrder order) {

        /** Checks the geometry. */
        Regime {
            if (granuleShift != 12 && granuleShift != 14 && granuleShift != 16) {
                throw new IllegalArgumentException("granule shift " + granuleShift + " is not 12, 14 or 16");
            }
            if (inputBits <= granuleShift || inputBits > 52) {
                throw new IllegalArgumentException(name + ": input size of " + inputBits + " bits is out of range");
            }
        }

        int stride() {
            return granuleShift - 3;
        }

        int levels() {
            return (inputBits - granuleShift + stride() - 1) / stride();
        }

        int startLevel() {
            return LAST_LEVEL + 1 - levels();
        }

        /** log2 of the bytes one entry at {@code level} maps. */
        int shift(int level) {
            return granuleShift + (LAST_LEVEL - level) * stride();
        }

        int entries(int level) {
            return level == startLevel() ? 1 << (inputBits - shift(level)) : 1 << stride();
        }

        /** Whether a block descriptor may appear at {@code level}. */
        boolean blockAllowed(int level) {
            return switch (granuleShift) {
                case 12 -> level >= 1 && level < LAST_LEVEL || ds && level == 0;
                case 14 -> level == 2 || ds && level == 1;
                default -> level == 2 || pa52 && level == 1;
            };
        }

        /** The output (or next-table) address of a descriptor, aligned to {@code 1 << alignShift}. */
        long outputAddress(long descriptor, int alignShift) {
            long low = ~((1L << alignShift) - 1);
            if (ds) {
                return descriptor & 0x0003_ffff_ffff_ffffL & low | ((descriptor >>> 8) & 0x3) << 50;
            }
            long address = descriptor & 0x0000_ffff_ffff_ffffL & low;
            if (pa52) {
                address |= ((descriptor >>> 12) & 0xf) << 48;
            }
            return address;
        }
    }

    private final GuestMemory memory;
    private final PageTableWalker.Sink sink;
    private final Regime regime;
    private final Deque<Long> path = new ArrayDeque<>();

    private LongDescriptorWalk(GuestMemory memory, PageTableWalker.Sink sink, Regime regime) {
        this.memory = memory;
        this.sink = sink;
        this.regime = regime;
    }

    /** Walks one regime, reporting leaves in ascending virtual order. */
    static void walk(GuestMemory memory, PageTableWalker.Sink sink, Regime regime) throws IOException {
        int level = regime.startLevel();
        long size = (long) regime.entries(level) * DESCRIPTOR_SIZE;
        long base = regime.tableBase() & ~(size - 1);
        if (!memory.isBacked(base, size)) {
            sink.skipped(regime.tableBase(), regime.name() + " " + PhysRange.hex(regime.tableBase())
                    + " points to a top-level table outside guest RAM; nothing of this half is walked");
            return;
        }
        new LongDescriptorWalk(memory, sink, regime).table(base, level, 0);
    }

    private void table(long table, int level, long offset) throws IOException {
        path.push(table);
        int shift = regime.shift(level);
        int entries = regime.entries(level);
        for (int i = 0; i < entries; i++) {
            long inputOffset = offset + ((long) i << shift);
            if (regime.limit() != 0 && Long.compareUnsigned(inputOffset, regime.limit()) >= 0) {
                break;
            }
            long entryAddress = table + (long) i * DESCRIPTOR_SIZE;
            long d = memory.readLong(entryAddress, regime.order());
            if ((d & 1) == 0) {
                continue;
            }
            long virt = regime.vaBase() + inputOffset;
            boolean tableBit = (d & 2) != 0;
            if (level == LAST_LEVEL) {
                if (tableBit) {
                    WalkLeaves.report(memory, sink, virt, regime.outputAddress(d, shift), 1L << shift, entryAddress);
                }
            } else if (!tableBit) {
                if (regime.blockAllowed(level)) {
                    WalkLeaves.report(memory, sink, virt, regime.outputAddress(d, shift), 1L << shift, entryAddress);
                } else {
                    sink.skipped(entryAddress, regime.name() + ": block descriptor at level " + level
                            + " is not allowed with a " + (1 << regime.granuleShift() >> 10) + " KiB granule");
                }
            } else {
                long next = regime.outputAddress(d, regime.granuleShift());
                long nextSize = (long) regime.entries(level + 1) * DESCRIPTOR_SIZE;
                if (path.contains(next)) {
                    sink.skipped(entryAddress, WalkLeaves.loop(next));
                } else if (!memory.isBacked(next, nextSize)) {
                    sink.skipped(entryAddress, WalkLeaves.tableOutsideRam(next, nextSize));
                } else {
                    table(next, level + 1, inputOffset);
                }
            }
        }
        path.pop();
    }
}
