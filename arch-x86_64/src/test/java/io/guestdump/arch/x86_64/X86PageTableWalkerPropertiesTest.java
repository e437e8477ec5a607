package io.guestdump.arch.x86_64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;

import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.PageTableWalker;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.memory.ByteArrayData;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.PhysRange;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;
import org.quicktheories.generators.SourceDSL;

/**
 * Generated page tables (random writes of entries into a small physical space, so that tables are shared, loop,
 * point outside RAM and carry NX and software bits) walked in every x86 mode, against a reference that translates
 * every candidate virtual page on its own, address by address, the way the CPU does.
 */
class X86PageTableWalkerPropertiesTest {
    /** The paging modes, with the registers that select them. */
    enum Mode {
        LEGACY(0, 0, 4, 1024), LEGACY_PSE(X86PageTableWalker.CR4_PSE, 0, 4, 1024), PAE(0x20, 0, 8, 512),
        LEVEL4(0x20, 1L << 10, 8, 512), LEVEL5(0x20 | X86PageTableWalker.CR4_LA57, 1L << 10, 8, 512);

        final long cr4;
        final long efer;
        final int entrySize;
        final int entries;

        Mode(long cr4, long efer, int entrySize, int entries) {
            this.cr4 = cr4;
            this.efer = efer;
            this.entrySize = entrySize;
            this.entries = entries;
        }

        int levels() {
            return switch (this) {
                case LEGACY, LEGACY_PSE -> 2;
                case PAE -> 3;
                case LEVEL4 -> 4;
                case LEVEL5 -> 5;
            };
        }
    }

    /** Classes of generated cases; each must be reached. */
    enum Case { LEAF_4K, LARGE_LEAF, LOOP, OUTSIDE_RAM, HIGH_BITS_ON_LEAF, SHARED_TABLE }

    private static final Map<Case, Integer> SEEN = new EnumMap<>(Case.class);

    /** Guest RAM: 48 pages at 0; a second block of 8 pages at 1 MiB; nothing between. */
    static final int RAM_PAGES = 48;
    static final long HIGH_BLOCK = 0x100000;
    static final int HIGH_PAGES = 8;

    /**
     * One entry written into guest memory.
     *
     * @param page   page holding it (0..RAM_PAGES-1, or a page of the high block)
     * @param slot   which of the few slots used per table
     * @param target the page it points at (may be outside RAM)
     * @param flags  PS, NX, software bits 52-62, random low flags
     */
    record Write(int page, int slot, long target, long flags) {
        @Override
        public String toString() {
            return String.format("page %d slot %d -> %#x flags %#x", page, slot, target, flags);
        }
    }

    record Tables(Mode mode, long cr3, List<Write> writes) {}

    /** The table slots used: the edges of a table and of its halves. */
    static int[] slots(Mode m) {
        int n = m.entries;
        return new int[] {0, 1, 2, n / 2 - 1, n / 2, n - 1};
    }

    static Gen<Long> targets() {
        return Generate.oneOf(Generate.longRange(0, RAM_PAGES - 1).map(p -> p * 4096),
                Generate.longRange(0, HIGH_PAGES - 1).map(p -> HIGH_BLOCK + p * 4096),
                Generate.longRange(RAM_PAGES, 200).map(p -> p * 4096), // the hole
                Generate.constant(0x1_0000_0000L)); // far outside (and beyond 32-bit PTEs: masked)
    }

    static Gen<Long> flags() {
        Gen<Long> ps = Generate.booleans().map(b -> b ? X86PageTableWalker.PG_PSE : 0L);
        Gen<Long> nx = Generate.booleans().map(b -> b ? X86PageTableWalker.PG_NX : 0L);
        Gen<Long> soft = Generate.oneOf(Generate.constant(0L), Generate.longRange(1, 0x7ff).map(v -> v << 52));
        Gen<Long> low = Generate.longRange(0, 0x7f).map(v -> (v << 1) & ~X86PageTableWalker.PG_PSE);
        Gen<Long> pse36 = Generate.oneOf(Generate.constant(0L), Generate.longRange(0, 0xff).map(v -> v << 13));
        Gen<Long> present = Generate.oneOf(Generate.constant(1L), Generate.constant(1L), Generate.constant(0L));
        return present.zip(ps, nx, soft, (p, a, b, c) -> p | a | b | c).zip(low, pse36, (x, l, h) -> x | l | h);
    }

    static Gen<Tables> tables(Mode m) {
        int[] slots = slots(m);
        Gen<Integer> pages = Generate.oneOf(Generate.range(0, 7), Generate.range(0, RAM_PAGES - 1),
                Generate.range(RAM_PAGES, RAM_PAGES + HIGH_PAGES - 1));
        Gen<Write> write = pages.zip(Generate.range(0, slots.length - 1), targets(), flags(),
                (p, s, t, f) -> new Write(p, s, t, f));
        Gen<Long> cr3 = m == Mode.PAE
                ? Generate.range(0, 127).map(i -> 0x1000L + i * 32) // 32-byte aligned PDPT in page 1
                : Generate.constant(0x1000L);
        return cr3.zip(SourceDSL.lists().of(write).ofSizeBetween(1, 60), (c, ws) -> new Tables(m, c, ws));
    }

    static long pageAddress(int page) {
        return page < RAM_PAGES ? page * 4096L : HIGH_BLOCK + (page - RAM_PAGES) * 4096L;
    }

    /** Memory image: low RAM then the high block; entries written where the writes say. */
    static byte[][] build(Tables t) {
        byte[] low = new byte[RAM_PAGES * 4096];
        byte[] high = new byte[HIGH_PAGES * 4096];
        int[] slots = slots(t.mode());
        for (Write w : t.writes()) {
            byte[] mem = w.page() < RAM_PAGES ? low : high;
            int pageOff = (w.page() < RAM_PAGES ? w.page() : w.page() - RAM_PAGES) * 4096;
            int off = pageOff + slots[w.slot()] * t.mode().entrySize;
            long value = w.target() | w.flags();
            ByteBuffer b = ByteBuffer.wrap(mem).order(ByteOrder.LITTLE_ENDIAN);
            if (t.mode().entrySize == 4) {
                b.putInt(off, (int) value);
            } else {
                b.putLong(off, value);
            }
        }
        if (t.mode() == Mode.PAE) {
            // the four PDPT entries at CR3: copies of slot 0..3 entries of page 2's first writes, or present ones
            ByteBuffer b = ByteBuffer.wrap(low).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < 4; i++) {
                Write w = t.writes().get(i % t.writes().size());
                b.putLong((int) t.cr3() + i * 8, w.target() | (w.flags() & ~X86PageTableWalker.PG_PSE) | 1);
            }
        }
        return new byte[][] {low, high};
    }

    static GuestMemory memory(byte[][] image) {
        return new GuestMemory(List.of(
                new GuestBlock(PhysRange.ofLength(0, image[0].length), new ByteArrayData(image[0]), "low"),
                new GuestBlock(PhysRange.ofLength(HIGH_BLOCK, image[1].length), new ByteArrayData(image[1]),
                        "high")));
    }

    static VcpuState cpu(Tables t) {
        return VcpuState.builder(0).set("cr0", 0x80000011L).set("cr3", t.cr3()).set("cr4", t.mode().cr4)
                .set("efer", t.mode().efer).build();
    }

    /** A leaf: the canonical virtual base, the physical base, the size. */
    record Leaf(long virt, long phys, long size) {
        @Override
        public String toString() {
            return String.format("%#x -> %#x (%#x)", virt, phys, size);
        }
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void walkReportsExactlyTheLeavesThePerAddressTranslationFinds(Mode mode) {
        qt().withExamples(300).forAll(tables(mode)).checkAssert(t -> check(t));
    }

    private static void check(Tables t) {
        byte[][] image = build(t);
        GuestMemory memory = memory(image);
        Reference ref = new Reference(t.mode(), memory, t.cr3());
        TreeMap<Long, Leaf> expected = new TreeMap<>(Long::compareUnsigned);
        enumerate(t.mode(), 0, t.mode().levels(), 0, ref, expected);

        List<Leaf> reported = new ArrayList<>();
        List<String> skips = new ArrayList<>();
        X86PageTableWalker walker = new X86PageTableWalker(true, X86PageTableWalker.Fidelity.FIXED);
        try {
            walker.walk(new GuestState("x86_64", memory, List.of(cpu(t)), Map.of(), Optional.empty()), cpu(t),
                    memory, new PageTableWalker.Sink() {
                        @Override
                        public void map(long virt, long phys, long length) {
                            reported.add(new Leaf(virt, phys, length));
                        }

                        @Override
                        public void skipped(long entry, String reason) {
                            skips.add(reason);
                        }
                    });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (int i = 1; i < reported.size(); i++) {
            assertTrue(Long.compareUnsigned(reported.get(i - 1).virt(), reported.get(i).virt()) < 0,
                    "leaves in ascending virtual order: " + reported);
        }
        assertEquals(List.copyOf(expected.values()), reported, t.toString());
        classify(ref, reported, skips);
    }

    /** Every candidate virtual page: all combinations of the used slots, one per level. */
    private static void enumerate(Mode m, int level, int levels, long va, Reference ref, Map<Long, Leaf> out) {
        if (level == levels) {
            Leaf leaf = ref.translate(va);
            if (leaf != null) {
                out.putIfAbsent(leaf.virt(), leaf);
            }
            return;
        }
        int depthFromLeaf = levels - 1 - level; // 0 for the page table
        int shift = m.entrySize == 4 ? 12 + 10 * depthFromLeaf : 12 + 9 * depthFromLeaf;
        int[] indices = m == Mode.PAE && level == 0 ? new int[] {0, 1, 2, 3} : slots(m);
        for (int i : indices) {
            enumerate(m, level + 1, levels, va | ((long) i << shift), ref, out);
        }
    }

    private static void classify(Reference ref, List<Leaf> reported, List<String> skips) {
        for (Leaf l : reported) {
            see(l.size() == 4096 ? Case.LEAF_4K : Case.LARGE_LEAF);
        }
        if (skips.stream().anyMatch(s -> s.contains("loop"))) {
            see(Case.LOOP);
        }
        if (skips.stream().anyMatch(s -> s.contains("outside guest memory"))) {
            see(Case.OUTSIDE_RAM);
        }
        if (ref.highBitLeaves > 0) {
            see(Case.HIGH_BITS_ON_LEAF);
        }
        if (ref.sharedTables) {
            see(Case.SHARED_TABLE);
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

    /** The CPU's translation of one virtual address, written independently of the walker. */
    static final class Reference {
        final Mode mode;
        final GuestMemory memory;
        final long cr3;
        int highBitLeaves;
        boolean sharedTables;
        private final Map<Long, Long> tableParents = new java.util.HashMap<>();

        Reference(Mode mode, GuestMemory memory, long cr3) {
            this.mode = mode;
            this.memory = memory;
            this.cr3 = cr3;
        }

        Leaf translate(long va) {
            try {
                return switch (mode) {
                    case LEGACY, LEGACY_PSE -> legacy(va);
                    default -> wide(va);
                };
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private Leaf legacy(long va) throws IOException {
            long pd = cr3 & 0xfffff000L;
            if (!memory.isBacked(pd, 4096)) {
                return null;
            }
            long pde = memory.readInt(pd + ((va >>> 22) & 1023) * 4, ByteOrder.LITTLE_ENDIAN);
            if ((pde & 1) == 0) {
                return null;
            }
            if ((pde & 0x80) != 0 && mode == Mode.LEGACY_PSE) {
                long phys = (pde & 0xffc00000L) | ((pde & 0x1fe000L) << 19);
                return new Leaf(va & ~0x3fffffL, phys, 1L << 22);
            }
            long pt = pde & 0xfffff000L;
            if ((pt >>> 12) == (pd >>> 12) || !memory.isBacked(pt, 4096)) {
                return null;
            }
            noteParent(pt, pd + ((va >>> 22) & 1023) * 4);
            long pte = memory.readInt(pt + ((va >>> 12) & 1023) * 4, ByteOrder.LITTLE_ENDIAN);
            return (pte & 1) == 0 ? null : new Leaf(va & ~0xfffL, pte & 0xfffff000L, 4096);
        }

        private Leaf wide(long va) throws IOException {
            int levels = mode.levels();
            List<Long> path = new ArrayList<>();
            long table = mode == Mode.PAE ? cr3 & ~0x1fL : cr3 & X86PageTableWalker.ADDR_MASK;
            for (int level = levels; level >= 1; level--) {
                int shift = 12 + 9 * (level - 1);
                boolean paeRoot = mode == Mode.PAE && level == 3;
                int index = (int) ((va >>> shift) & (paeRoot ? 3 : 511));
                if (!memory.isBacked(table, paeRoot ? 32 : 4096)) {
                    return null;
                }
                for (long p : path) {
                    if ((p >>> 12) == (table >>> 12)) {
                        return null;
                    }
                }
                long entryAddress = table + index * 8L;
                long e = memory.readLong(entryAddress, ByteOrder.LITTLE_ENDIAN);
                if ((e & 1) == 0) {
                    return null;
                }
                boolean large = (level == 2 || (level == 3 && mode != Mode.PAE)) && (e & 0x80) != 0;
                if (level == 1 || large) {
                    long size = 1L << shift;
                    if ((e >>> 52 & 0x7ff) != 0) {
                        highBitLeaves++;
                    }
                    int canonicalShift = mode == Mode.LEVEL5 ? 7 : mode == Mode.LEVEL4 ? 16 : 0;
                    long base = va & -size;
                    return new Leaf(base << canonicalShift >> canonicalShift,
                            e & 0x000f_ffff_ffff_f000L & -size, size);
                }
                path.add(table);
                long next = e & 0x000f_ffff_ffff_f000L;
                if (level > 1) {
                    noteParent(next, entryAddress);
                }
                table = next;
            }
            throw new AssertionError("unreachable");
        }

        private void noteParent(long table, long entryAddress) {
            Long before = tableParents.putIfAbsent(table, entryAddress);
            if (before != null && before != entryAddress) {
                sharedTables = true;
            }
        }
    }
}
