package io.guestdump.testkit;

import io.guestdump.memory.MemoryMapping;
import java.util.ArrayList;
import java.util.List;

/**
 * An oracle for tests: QEMU 7.2's {@code memory_mapping_list_add_merge_sorted} step by step, on a plain list
 * (O(n) per add), defects included: an extension never looks at the next mapping, and a merge that starts below
 * a mapping moves its virtual start but not its physical one. Written from the reference's description (§3.4).
 */
public final class QemuMappingList {
    private static final class Mapping {
        long phys;
        long virt;
        long length;

        Mapping(long phys, long virt, long length) {
            this.phys = phys;
            this.virt = virt;
            this.length = length;
        }
    }

    private final List<Mapping> list = new ArrayList<>();
    private Mapping last;

    /** QEMU's add-and-merge. */
    public void add(long phys, long virt, long length) {
        if (list.isEmpty()) {
            create(phys, virt, length);
            return;
        }
        if (last != null && contiguous(last, phys, virt)) {
            last.length += length;
            return;
        }
        for (Mapping m : list) {
            if (contiguous(m, phys, virt)) {
                m.length += length;
                last = m;
                return;
            }
            if (Long.compareUnsigned(phys + length, m.phys) < 0) {
                break;
            }
            boolean sameRegion = !(Long.compareUnsigned(phys + length, m.phys) < 0
                    || Long.compareUnsigned(phys, m.phys + m.length) >= 0);
            if (sameRegion) {
                if (virt - m.virt != phys - m.phys) {
                    continue;
                }
                if (Long.compareUnsigned(virt, m.virt) < 0) {
                    m.length += m.virt - virt;
                    m.virt = virt;
                }
                if (Long.compareUnsigned(virt + length, m.virt + m.length) > 0) {
                    m.length = virt + length - m.virt;
                }
                last = m;
                return;
            }
        }
        create(phys, virt, length);
    }

    private static boolean contiguous(Mapping m, long phys, long virt) {
        return phys == m.phys + m.length && virt == m.virt + m.length;
    }

    private void create(long phys, long virt, long length) {
        Mapping n = new Mapping(phys, virt, length);
        last = n;
        for (int i = 0; i < list.size(); i++) {
            if (Long.compareUnsigned(list.get(i).phys, phys) >= 0) {
                list.add(i, n);
                return;
            }
        }
        list.add(n);
    }

    /** The mappings in list order. */
    public List<MemoryMapping> mappings() {
        return list.stream().map(m -> new MemoryMapping(m.phys, m.virt, m.length)).toList();
    }
}
