package io.guestdump.arch.api;

import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.PhysRange;

/** For page-table walkers: hands leaf mappings to a sink, clipped to guest RAM; a leaf with no RAM at all is reported as skipped. */
public final class WalkLeaves {
    private WalkLeaves() {}

    /**
     * Reports {@code [virt, virt + length) -> [phys, phys + length)}, one mapping per RAM block it touches, in
     * ascending virtual order. A leaf mapping no RAM goes to {@link PageTableWalker.Sink#deviceMemory} with the
     * entry's address: the kernel maps device memory (MMIO) that way, as a matter of course.
     */
    public static void report(GuestMemory memory, PageTableWalker.Sink sink, long virt, long phys, long length,
            long entryAddress) {
        long end = phys + length;
        boolean any = false;
        for (GuestBlock b : memory.blocks()) {
            PhysRange r = b.range();
            long from = Long.compareUnsigned(r.start(), phys) > 0 ? r.start() : phys;
            long to = Long.compareUnsigned(r.end(), end) < 0 ? r.end() : end;
            if (Long.compareUnsigned(from, to) < 0) {
                sink.map(virt + (from - phys), from, to - from);
                any = true;
            }
        }
        if (!any) {
            sink.deviceMemory(virt, phys, length, entryAddress);
        }
    }

    /** The message for a next-level table that is not (wholly) in guest RAM. */
    public static String tableOutsideRam(long table, long size) {
        return "points to a next-level table at " + PhysRange.hex(table) + " (" + size
                + " bytes) outside guest RAM; the entries below it are not walked";
    }

    /** The message for a next-level table already on the walk's path. */
    public static String loop(long table) {
        return "points back to the table at " + PhysRange.hex(table)
                + ", which is already on this walk's path (a loop); not followed";
    }
}
