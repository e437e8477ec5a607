package io.guestdump.core.vmcore;

import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.MemoryMapping;
import java.util.ArrayList;
import java.util.List;

/** Simple mode: one mapping per (filtered) guest-physical block, virtual address = physical address. */
public final class MappingPlanner {
    private MappingPlanner() {}

    /** One identity mapping per block. */
    public static List<MemoryMapping> simple(List<GuestBlock> blocks) {
        List<MemoryMapping> mappings = new ArrayList<>(blocks.size());
        for (GuestBlock b : blocks) {
            mappings.add(new MemoryMapping(b.range().start(), b.range().start(), b.range().length()));
        }
        return mappings;
    }
}
