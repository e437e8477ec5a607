package io.guestdump.arch.riscv64;

import io.guestdump.arch.api.PageTableWalker;
import io.guestdump.arch.api.WalkLeaves;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.PhysRange;
import java.io.IOException;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * The RISC-V Sv39, Sv48 and Sv57 page-table walk (privileged spec 1.12, section 4.3-4.5): 4 KiB tables of 512
 * 8-byte PTEs, 3, 4 or 5 levels, a 39, 48 or 57-bit virtual address sign-extended to 64 bits.
 *
 * <p>PTE: bit 0 V, bit 1 R, bit 2 W, bit 3 X, bits 53:10 PPN (a 56-bit physical address), bits 60:54 reserved,
 * bits 62:61 PBMT (ignored: memory types do not change what is mapped), bit 63 N (Svnapot). V=0 is no mapping. R or
 * X set is a leaf (a 4 KiB page at level 0, a 2 MiB megapage at 1, 1 GiB gigapage at 2, 512 GiB terapage at 3,
 * 256 TiB petapage at 4); neither is a pointer to the next level. Entries the hardware would fault on are skipped
 * and reported: W without R, a pointer at level 0, a superpage whose PPN is not aligned to its size, reserved
 * bits 60:54 set, N on anything but a level-0 leaf of a 64 KiB NAPOT range.
 */
final class SvWalk {
    /** Bytes per PTE. */
    static final int PTE_SIZE = 8;
    /** PTEs per table. */
    static final int ENTRIES = 512;
    /** Bits of virtual address per level. */
    static final int VPN_BITS = 9;
    /** log2 of the page size. */
    static final int PAGE_SHIFT = 12;

    static final long PTE_V = 1L;
    static final long PTE_R = 1L << 1;
    static final long PTE_W = 1L << 2;
    static final long PTE_X = 1L << 3;
    /** Svnapot: the leaf is one 4 KiB piece of a naturally aligned power-of-two range. */
    static final long PTE_N = 1L << 63;
    /** Bits 60:54, reserved for future standard use: a PTE with any of them set faults. */
    static final long PTE_RESERVED = 0x7fL << 54;
    /** The 44-bit PPN field, bits 53:10. */
    static final long PPN_MASK = (1L << 44) - 1;
    /** The only NAPOT size defined (Svnapot 1.0): PPN[3:0] = 0b1000 marks 64 KiB. */
    static final int NAPOT_64K_BITS = 4;

    private final GuestMemory memory;
    private final PageTableWalker.Sink sink;
    private final String mode;
    private final int levels;
    private final ByteOrder order;
    private final Deque<Long> path = new ArrayDeque<>();

    private SvWalk(GuestMemory memory, PageTableWalker.Sink sink, String mode, int levels, ByteOrder order) {
        this.memory = memory;
        this.sink = sink;
        this.mode = mode;
        this.levels = levels;
        this.order = order;
    }

    /**
     * Walks one address space, reporting leaves in ascending (unsigned) virtual order.
     *
     * @param root   physical address of the root table (satp.PPN × 4096)
     * @param mode   for messages: {@code Sv39}, {@code Sv48}, {@code Sv57}
     * @param levels 3, 4 or 5
     * @param order  PTE byte order (mstatus.SBE)
     */
    static void walk(GuestMemory memory, PageTableWalker.Sink sink, long root, String mode, int levels,
            ByteOrder order) throws IOException {
        if (levels < 3 || levels > 5) {
            throw new IllegalArgumentException(mode + ": " + levels + " levels");
        }
        if (!memory.isBacked(root, (long) ENTRIES * PTE_SIZE)) {
            sink.skipped(root, mode + " root table " + PhysRange.hex(root) + " (satp.PPN) is outside guest RAM;"
                    + " nothing is walked");
            return;
        }
        new SvWalk(memory, sink, mode, levels, order).table(root, levels - 1, 0);
    }

    /** log2 of the bytes one PTE at {@code level} maps. */
    static int shift(int level) {
        return PAGE_SHIFT + VPN_BITS * level;
    }

    private void table(long table, int level, long prefix) throws IOException {
        path.push(table);
        int shift = shift(level);
        int vaBits = shift(levels);
        for (int i = 0; i < ENTRIES; i++) {
            long entryAddress = table + (long) i * PTE_SIZE;
            long pte = memory.readLong(entryAddress, order);
            if ((pte & PTE_V) == 0) {
                continue;
            }
            long offset = prefix | (long) i << shift;
            // canonical form: bits above the top VPN bit copy it
            long virt = offset << (64 - vaBits) >> (64 - vaBits);
            long ppn = (pte >>> 10) & PPN_MASK;
            boolean leaf = (pte & (PTE_R | PTE_X)) != 0;
            String bad = malformed(pte, level, leaf, ppn);
            if (bad != null) {
                sink.skipped(entryAddress, mode + " PTE " + PhysRange.hex(pte) + " at level " + level + ": " + bad
                        + "; the hardware would fault on it, not dumped");
            } else if (leaf) {
                long phys;
                if ((pte & PTE_N) != 0) {
                    // one 4 KiB piece of a 64 KiB NAPOT range: the low PPN bits come from the virtual address
                    long mask = (1L << NAPOT_64K_BITS) - 1;
                    phys = ((ppn & ~mask) | ((virt >>> PAGE_SHIFT) & mask)) << PAGE_SHIFT;
                } else {
                    phys = ppn << PAGE_SHIFT;
                }
                WalkLeaves.report(memory, sink, virt, phys, 1L << shift, entryAddress);
            } else {
                long next = ppn << PAGE_SHIFT;
                long size = (long) ENTRIES * PTE_SIZE;
                if (path.contains(next)) {
                    sink.skipped(entryAddress, WalkLeaves.loop(next));
                } else if (!memory.isBacked(next, size)) {
                    sink.skipped(entryAddress, WalkLeaves.tableOutsideRam(next, size));
                } else {
                    table(next, level - 1, offset);
                }
            }
        }
        path.pop();
    }

    /** Why the hardware would fault on a valid PTE, or null. */
    private static String malformed(long pte, int level, boolean leaf, long ppn) {
        if ((pte & PTE_RESERVED) != 0) {
            return "reserved bits 60:54 are set";
        }
        if ((pte & PTE_W) != 0 && (pte & PTE_R) == 0) {
            return "W without R is reserved";
        }
        if (!leaf) {
            if (level == 0) {
                return "a pointer to a next-level table at the last level";
            }
            if ((pte & PTE_N) != 0) {
                return "N (Svnapot) is set on a pointer";
            }
            return null;
        }
        if ((pte & PTE_N) != 0) {
            if (level != 0 || (ppn & ((1L << NAPOT_64K_BITS) - 1)) != 1L << (NAPOT_64K_BITS - 1)) {
                return "N (Svnapot) is set but the entry is not a level-0 leaf of a 64 KiB range (PPN[3:0] = 1000)";
            }
            return null;
        }
        long align = (1L << (VPN_BITS * level)) - 1;
        if ((ppn & align) != 0) {
            return "a misaligned superpage (PPN " + PhysRange.hex(ppn) + " is not a multiple of " + (align + 1)
                    + " pages)";
        }
        return null;
    }
}
