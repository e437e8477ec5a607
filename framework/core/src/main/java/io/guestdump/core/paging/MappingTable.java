package io.guestdump.core.paging;

import io.guestdump.memory.MemoryMapping;
import io.guestdump.memory.PhysRange;
import java.util.AbstractList;
import java.util.Arrays;
import java.util.List;
import java.util.RandomAccess;

/**
 * An immutable list of mappings held in three {@code long} arrays (24 bytes a mapping): a page-by-page guest has
 * a million of them, which as records would cost several times as much. {@link #get} builds the record on demand.
 */
public final class MappingTable extends AbstractList<MemoryMapping> implements RandomAccess {
    private final long[] phys;
    private final long[] virt;
    private final long[] length;
    private final int size;

    MappingTable(long[] phys, long[] virt, long[] length, int size) {
        this.phys = phys;
        this.virt = virt;
        this.length = length;
        this.size = size;
    }

    /** A table of the given mappings, in their order. */
    public static MappingTable of(List<MemoryMapping> mappings) {
        int n = mappings.size();
        long[] p = new long[n];
        long[] v = new long[n];
        long[] l = new long[n];
        for (int i = 0; i < n; i++) {
            MemoryMapping m = mappings.get(i);
            p[i] = m.phys();
            v[i] = m.virt();
            l[i] = m.length();
        }
        return new MappingTable(p, v, l, n);
    }

    @Override
    public MemoryMapping get(int index) {
        return new MemoryMapping(phys(index), virt(index), length(index));
    }

    @Override
    public int size() {
        return size;
    }

    /** First guest-physical address of mapping {@code index}. */
    public long phys(int index) {
        return phys[checked(index)];
    }

    /** First virtual address of mapping {@code index}. */
    public long virt(int index) {
        return virt[checked(index)];
    }

    /** Bytes of mapping {@code index}. */
    public long length(int index) {
        return length[checked(index)];
    }

    private int checked(int index) {
        if (index < 0 || index >= size) {
            throw new IndexOutOfBoundsException("mapping " + index + " of " + size);
        }
        return index;
    }

    /**
     * QEMU's {@code memory_mapping_filter} ({@link io.guestdump.memory.RangeFilter#applyToMappings}) without
     * building records: mappings outside the window go, the rest are clipped, a clipped start moves the virtual
     * address by the same amount unless it is 0. The order is kept.
     */
    public MappingTable clip(PhysRange window) {
        long[] p = new long[size];
        long[] v = new long[size];
        long[] l = new long[size];
        int n = 0;
        for (int i = 0; i < size; i++) {
            PhysRange common = PhysRange.ofLength(phys[i], length[i]).intersect(window);
            if (common.isEmpty()) {
                continue;
            }
            long skipped = common.start() - phys[i];
            p[n] = common.start();
            v[n] = virt[i] == 0 ? 0 : virt[i] + skipped;
            l[n] = common.length();
            n++;
        }
        return new MappingTable(Arrays.copyOf(p, n), Arrays.copyOf(v, n), Arrays.copyOf(l, n), n);
    }

    /** Heap bytes of the arrays (which may have room beyond {@link #size()}), for the heap benchmark and logs. */
    public long arrayBytes() {
        return 24L * phys.length;
    }
}
