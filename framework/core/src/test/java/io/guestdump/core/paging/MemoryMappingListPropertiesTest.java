package io.guestdump.core.paging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;

import io.guestdump.memory.MemoryMapping;
import io.guestdump.memory.PhysRange;
import io.guestdump.memory.RangeFilter;
import io.guestdump.testkit.QemuMappingList;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;
import org.quicktheories.generators.SourceDSL;

/**
 * Model-based: generated scripts of add / compact / clear operations on {@link MemoryMappingList}, checked against a
 * BitSet of (virtual page, physical page) pairs over a small scaled space: merging never loses or duplicates a
 * byte, the list is in QEMU's order, and it equals QEMU's own merge wherever QEMU's is free of its defects.
 */
class MemoryMappingListPropertiesTest {
    static final int PAGES = 48;
    static final long PAGE = 4096;
    /** Virtual pages live high, as kernel addresses do; the scale keeps the model small. */
    static final long VBASE = 0xffff_8880_0000_0000L;

    enum Kind { ADD, COMPACT, CLEAR }

    record Op(Kind kind, int virt, int phys, int pages) {
        @Override
        public String toString() {
            return kind == Kind.ADD ? "add v" + virt + " p" + phys + " x" + pages : kind.name().toLowerCase();
        }
    }

    enum Case { CONTINUES_LAST, OVERLAPS_SAME_DELTA, ALIAS_OTHER_DELTA, BRIDGES_TWO, SAME_PHYS_START, QEMU_DUPLICATES,
        QEMU_EXACT }

    private static final Map<Case, Integer> SEEN = new EnumMap<>(Case.class);

    static Gen<Op> ops() {
        Gen<Op> add = Generate.range(0, PAGES - 8).zip(Generate.range(0, PAGES - 8), Generate.range(1, 6),
                (v, p, n) -> new Op(Kind.ADD, v, p, n));
        // walks report runs along one delta: many adds share few deltas
        Gen<Op> alongDelta = Generate.range(0, PAGES - 8).zip(Generate.range(0, 3), Generate.range(1, 4),
                (p, d, n) -> new Op(Kind.ADD, Math.min(PAGES - 8, p + d * 3), p, n));
        Gen<Op> other = Generate.oneOf(Generate.constant(new Op(Kind.COMPACT, 0, 0, 0)),
                Generate.constant(new Op(Kind.CLEAR, 0, 0, 0)));
        return Generate.frequency(org.quicktheories.api.Pair.of(4, add), org.quicktheories.api.Pair.of(6, alongDelta),
                org.quicktheories.api.Pair.of(1, other));
    }

    static Gen<List<Op>> scripts() {
        return SourceDSL.lists().of(ops()).ofSizeBetween(1, 40);
    }

    @Test
    void mergingNeverLosesOrDuplicatesAByteAndKeepsQemusOrder() {
        qt().withExamples(1000).forAll(scripts()).checkAssert(MemoryMappingListPropertiesTest::run);
    }

    private static void run(List<Op> script) {
        MemoryMappingList list = new MemoryMappingList();
        QemuMappingList qemu = new QemuMappingList();
        BitSet model = new BitSet();
        for (Op op : script) {
            switch (op.kind()) {
                case ADD -> {
                    classify(list, qemu, op);
                    list.add(VBASE + op.virt() * PAGE, op.phys() * PAGE, op.pages() * PAGE);
                    qemu.add(op.phys() * PAGE, VBASE + op.virt() * PAGE, op.pages() * PAGE);
                    for (int i = 0; i < op.pages(); i++) {
                        model.set(pair(op.virt() + i, op.phys() + i));
                    }
                }
                case COMPACT -> list.compact();
                case CLEAR -> {
                    list.clear();
                    qemu = new QemuMappingList();
                    model.clear();
                }
                default -> throw new AssertionError(op);
            }
        }
        MappingTable table = list.toTable();
        BitSet seen = new BitSet();
        long pairs = 0;
        for (int i = 0; i < table.size(); i++) {
            for (long k = 0; k < table.length(i) / PAGE; k++) {
                int pr = pair((int) ((table.virt(i) - VBASE) / PAGE + k), (int) (table.phys(i) / PAGE + k));
                assertTrue(!seen.get(pr), "pair described twice by " + table + " after " + script);
                seen.set(pr);
                pairs++;
            }
            if (i > 0) {
                assertTrue(Long.compareUnsigned(table.phys(i - 1), table.phys(i)) <= 0, "sorted by phys: " + table);
            }
            for (int j = 0; j < i; j++) {
                boolean sameDelta = table.virt(i) - table.phys(i) == table.virt(j) - table.phys(j);
                boolean touch = table.phys(j) <= table.phys(i) + table.length(i)
                        && table.phys(i) <= table.phys(j) + table.length(j);
                assertTrue(!(sameDelta && touch), "two mappings of one delta touch: " + table + " after " + script);
            }
        }
        assertEquals(model, seen, "bytes lost or invented after " + script);
        assertEquals(model.cardinality(), pairs);

        List<MemoryMapping> q = qemu.mappings();
        if (cover(q).equals(model) && !touchingSameDelta(q)) {
            see(Case.QEMU_EXACT);
            assertEquals(q, List.copyOf(table), "QEMU's list (free of its defects here) after " + script);
        } else {
            see(Case.QEMU_DUPLICATES);
        }
    }

    private static BitSet cover(List<MemoryMapping> ms) {
        BitSet b = new BitSet();
        for (MemoryMapping m : ms) {
            for (long k = 0; k < m.length() / PAGE; k++) {
                b.set(pair((int) ((m.virt() - VBASE) / PAGE + k), (int) (m.phys() / PAGE + k)));
            }
        }
        return b;
    }

    private static boolean touchingSameDelta(List<MemoryMapping> ms) {
        for (int i = 0; i < ms.size(); i++) {
            for (int j = 0; j < i; j++) {
                MemoryMapping a = ms.get(i);
                MemoryMapping b = ms.get(j);
                if (a.virt() - a.phys() == b.virt() - b.phys() && a.phys() <= b.phys() + b.length()
                        && b.phys() <= a.phys() + a.length()) {
                    return true;
                }
            }
        }
        return false;
    }

    private static int pair(int virtPage, int physPage) {
        return virtPage * PAGES + physPage;
    }

    private static void classify(MemoryMappingList list, QemuMappingList qemu, Op op) {
        List<MemoryMapping> before = qemu.mappings();
        long v = VBASE + op.virt() * PAGE;
        long p = op.phys() * PAGE;
        long len = op.pages() * PAGE;
        int sameDeltaNeighbours = 0;
        for (MemoryMapping m : before) {
            boolean sameDelta = m.virt() - m.phys() == v - p;
            if (sameDelta && m.phys() + m.length() == p) {
                see(Case.CONTINUES_LAST);
            }
            if (sameDelta && m.phys() < p + len && p < m.phys() + m.length()) {
                see(Case.OVERLAPS_SAME_DELTA);
            }
            if (!sameDelta && m.phys() < p + len && p < m.phys() + m.length()) {
                see(Case.ALIAS_OTHER_DELTA);
            }
            if (m.phys() == p && !sameDelta) {
                see(Case.SAME_PHYS_START);
            }
            if (sameDelta && m.phys() <= p + len && p <= m.phys() + m.length()) {
                sameDeltaNeighbours++;
            }
        }
        if (sameDeltaNeighbours >= 2) {
            see(Case.BRIDGES_TWO);
        }
    }

    private static synchronized void see(Case c) {
        SEEN.merge(c, 1, Integer::sum);
    }

    @AfterAll
    static void everyCaseWasGenerated() {
        for (Case c : Case.values()) {
            assertTrue(SEEN.getOrDefault(c, 0) > 0, "never generated: " + c + " (seen " + SEEN + ")");
        }
    }

    @Test
    void clipEqualsQemusMappingFilter() {
        Gen<List<MemoryMapping>> mappings = SourceDSL.lists().of(Generate.range(0, 40).zip(Generate.range(0, 40),
                Generate.range(1, 9), (v, p, n) -> new MemoryMapping(p * 1000L, v == 0 ? 0 : VBASE + v * 1000L,
                        n * 777L))).ofSizeBetween(0, 12);
        Gen<PhysRange> windows = Generate.range(0, 45_000).zip(Generate.range(1, 20_000),
                (b, l) -> PhysRange.ofLength(b, l));
        qt().withExamples(1000).forAll(mappings, windows).checkAssert((ms, w) -> assertEquals(
                RangeFilter.applyToMappings(ms, w), List.copyOf(MappingTable.of(ms).clip(w))));
    }

    @Test
    void manyPagesStayCompact() {
        MemoryMappingList list = new MemoryMappingList();
        int pages = 300_000;
        for (int cpu = 0; cpu < 3; cpu++) {
            for (int i = 0; i < pages; i++) {
                // every other physical page, virtually contiguous: one mapping per page
                list.add(VBASE + i * PAGE, 2L * i * PAGE, PAGE);
            }
            if (cpu > 0) {
                assertEquals(pages, list.runCount(), "the second and third vCPU store nothing: all is covered");
            }
            list.compact();
            assertEquals(pages, list.runCount());
        }
        MappingTable t = list.toTable();
        assertEquals(pages, t.size());
        assertEquals(2 * PAGE, t.phys(1));
        assertTrue(t.arrayBytes() <= 24L * pages * 3 / 2, "24 bytes a mapping, plus growth room: " + t.arrayBytes());
    }

    @Test
    void equalPhysicalStartsAreNewestFirstAsQemuInserts() {
        MemoryMappingList list = new MemoryMappingList();
        list.add(0x1000_0000L, 0x5000, PAGE);
        list.add(0x2000_0000L, 0x5000, PAGE);
        list.add(0x3000_0000L, 0x4000, 2 * PAGE); // overlaps the others' page with a third delta
        QemuMappingList qemu = new QemuMappingList();
        qemu.add(0x5000, 0x1000_0000L, PAGE);
        qemu.add(0x5000, 0x2000_0000L, PAGE);
        qemu.add(0x4000, 0x3000_0000L, 2 * PAGE);
        List<MemoryMapping> table = List.copyOf(list.toTable());
        assertEquals(qemu.mappings(), table);
        assertEquals(new ArrayList<>(List.of(new MemoryMapping(0x4000, 0x3000_0000L, 2 * PAGE),
                new MemoryMapping(0x5000, 0x2000_0000L, PAGE), new MemoryMapping(0x5000, 0x1000_0000L, PAGE))),
                table);
        assertEquals(0, list.runCount(), "the table took the list's arrays");
    }
}
