package io.guestdump.memory;

import java.util.ArrayList;
import java.util.List;

/**
 * QEMU's begin/length filter (dump.c {@code get_offset_range}, memory_mapping.c {@code memory_mapping_filter}) as
 * pure functions.
 */
public final class RangeFilter {
    private RangeFilter() {}

    /** The parts of the blocks inside the window, in block order; blocks outside it disappear. */
    public static List<GuestBlock> apply(List<GuestBlock> blocks, PhysRange window) {
        List<GuestBlock> out = new ArrayList<>();
        for (GuestBlock b : blocks) {
            GuestBlock clipped = b.clip(window);
            if (clipped != null) {
                out.add(clipped);
            }
        }
        return out;
    }

    /**
     * Drops mappings outside the window and clips the rest. When clipping the start, the virtual address moves by
     * the same amount, except a virtual address of 0, which QEMU leaves alone (it meant "no virtual address").
     */
    public static List<MemoryMapping> applyToMappings(List<MemoryMapping> mappings, PhysRange window) {
        List<MemoryMapping> out = new ArrayList<>();
        for (MemoryMapping m : mappings) {
            PhysRange common = m.physRange().intersect(window);
            if (common.isEmpty()) {
                continue;
            }
            long skipped = common.start() - m.phys();
            long virt = m.virt() == 0 ? 0 : m.virt() + skipped;
            out.add(new MemoryMapping(common.start(), virt, common.length()));
        }
        return out;
    }
}
