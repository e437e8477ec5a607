package io.guestdump.testkit;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.guestdump.arch.api.PageTableWalker;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/** For page-table walker tests: collects a walk's mappings and skipped entries; checks order and expands to pages. */
public final class RecordingSink implements PageTableWalker.Sink {
    public record Mapping(long virt, long phys, long length) {}

    public record Skip(long entry, String reason) {}

    public final List<Mapping> mappings = new ArrayList<>();
    public final List<Skip> skipped = new ArrayList<>();

    @Override
    public void map(long virt, long phys, long length) {
        assertTrue(length > 0, "empty mapping at " + Long.toHexString(virt));
        if (!mappings.isEmpty()) {
            Mapping last = mappings.get(mappings.size() - 1);
            if (Long.compareUnsigned(last.virt() + last.length(), virt) > 0
                    || Long.compareUnsigned(last.virt(), virt) >= 0) {
                fail("mappings not ascending/disjoint: " + last + " then virt 0x" + Long.toHexString(virt));
            }
        }
        mappings.add(new Mapping(virt, phys, length));
    }

    @Override
    public void skipped(long tableEntryAddress, String reason) {
        skipped.add(new Skip(tableEntryAddress, reason));
    }

    /** Physical address of {@code virt}, or -1. */
    public long translate(long virt) {
        for (Mapping m : mappings) {
            if (Long.compareUnsigned(virt - m.virt(), m.length()) < 0) {
                return m.phys() + (virt - m.virt());
            }
        }
        return -1;
    }

    /** Virtual page -> physical page, for {@code pageSize} pages. */
    public TreeMap<Long, Long> pages(long pageSize) {
        TreeMap<Long, Long> pages = new TreeMap<>(Long::compareUnsigned);
        for (Mapping m : mappings) {
            for (long off = 0; off < m.length(); off += pageSize) {
                pages.put(m.virt() + off, m.phys() + off);
            }
        }
        return pages;
    }

    public boolean skippedEntry(long entry) {
        return skipped.stream().anyMatch(s -> s.entry() == entry);
    }
}
