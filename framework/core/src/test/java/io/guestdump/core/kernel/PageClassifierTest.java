package io.guestdump.core.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.longs;

import io.guestdump.arch.api.GuestVmcoreinfo;
import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.memory.ByteArrayData;
import io.guestdump.memory.GuestBlock;
import io.guestdump.core.vmcore.RecordingProgress;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.PhysRange;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A small generated kernel: 4 KiB pages, 1 MiB sections ({@code SECTION_SIZE_BITS=20}), SPARSEMEM_EXTREME with
 * one root, RAM at [0, 2 MiB) and [3 MiB, 4 MiB), the struct page array (64 bytes each, the 6.1 x86_64 layout) at
 * virtual {@link #VMEMMAP} backed by RAM at 8 MiB. Pages are written one by one with the flags a 6.1 kernel gives
 * each class, and the classes found are checked page by page, against makedumpfile's rules.
 */
class PageClassifierTest {
    static final long VMEMMAP = 0xffffea0000000000L;
    static final long ROOT = 0xffff888000700000L; // mem_section root array (virtual), RAM at 7 MiB
    static final long SECTIONS = 0xffff888000701000L; // the 256 struct mem_section of root 0
    static final int SIZE_PAGE = 64;
    static final long PG_LRU = 1L << 4;
    static final long PG_PRIVATE = 1L << 13;
    static final long PG_SLAB = 1L << 9;
    static final long PG_HEAD = 1L << 16;
    static final int BUDDY = -129;
    static final int OFFLINE = -257;

    static final String VMCOREINFO = String.join("\n",
            "OSRELEASE=6.1.0-test", "PAGESIZE=4096",
            "SYMBOL(mem_section)=" + Long.toHexString(ROOT), "LENGTH(mem_section)=1", "SIZE(mem_section)=16",
            "OFFSET(mem_section.section_mem_map)=0", "NUMBER(SECTION_SIZE_BITS)=20", "NUMBER(MAX_PHYSMEM_BITS)=24",
            "SIZE(page)=64", "OFFSET(page.flags)=0", "OFFSET(page._refcount)=52", "OFFSET(page.mapping)=24",
            "OFFSET(page.lru)=8", "OFFSET(page._mapcount)=48", "OFFSET(page.private)=40",
            "OFFSET(page.compound_dtor)=16", "OFFSET(page.compound_order)=17", "OFFSET(page.compound_head)=8",
            "LENGTH(zone.free_area)=11", "NUMBER(PG_lru)=4", "NUMBER(PG_private)=13", "NUMBER(PG_swapcache)=10",
            "NUMBER(PG_swapbacked)=19", "NUMBER(PG_slab)=9", "NUMBER(PG_head_mask)=65536",
            "NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=-129", "NUMBER(HUGETLB_PAGE_DTOR)=2",
            "NUMBER(PAGE_OFFLINE_MAPCOUNT_VALUE)=-257", "");

    /** The generated guest: its RAM bytes (low 16 MiB, holes left out of the memory) and its address space. */
    static final class Guest {
        final byte[] ram = new byte[16 << 20];
        final ByteBuffer b = ByteBuffer.wrap(ram).order(ByteOrder.LITTLE_ENDIAN);

        Guest() {
            // root 0 -> the section array; sections 0, 1 and 3 present; their arrays at VMEMMAP + pfn * 64
            b.putLong(phys(ROOT), SECTIONS);
            for (int nr : new int[] {0, 1, 3}) {
                // section_mem_map holds the array's address minus the section's first pfn times SIZE(page)
                long coded = VMEMMAP + 0 * SIZE_PAGE;
                b.putLong(phys(SECTIONS) + 16 * nr, coded | 1 | 2);
            }
        }

        static int phys(long vaddr) {
            if (vaddr >= VMEMMAP) {
                return (int) (8L << 20) + (int) (vaddr - VMEMMAP);
            }
            return (int) (vaddr - 0xffff888000000000L);
        }

        /** Writes struct page fields of {@code pfn}. */
        Guest page(long pfn, long flags, long mapping, int mapcount, long priv) {
            int at = phys(VMEMMAP + pfn * SIZE_PAGE);
            b.putLong(at, flags);
            b.putLong(at + 24, mapping);
            b.putInt(at + 48, mapcount);
            b.putLong(at + 40, priv);
            return this;
        }

        /** A compound page: head flags, order and dtor in the first tail, compound_head | 1 in every tail. */
        Guest compound(long pfn, int order, int dtor, long mapping) {
            page(pfn, PG_HEAD | (mapping != 0 ? PG_LRU : 0), mapping, -1, 0); // hugetlb pages are not on the LRU
            int first = phys(VMEMMAP + (pfn + 1) * SIZE_PAGE);
            b.put(first + 16, (byte) dtor);
            b.put(first + 17, (byte) order);
            for (long t = pfn + 1; t < pfn + (1L << order); t++) {
                b.putLong(phys(VMEMMAP + t * SIZE_PAGE) + 8, (VMEMMAP + pfn * SIZE_PAGE) | 1);
            }
            return this;
        }

        GuestMemory memory() {
            return new GuestMemory(List.of(
                    new GuestBlock(PhysRange.ofLength(0, 2 << 20), new ByteArrayData(ram).slice(0, 2 << 20), "low"),
                    new GuestBlock(PhysRange.ofLength(3 << 20, 13 << 20),
                            new ByteArrayData(ram).slice(3 << 20, 13 << 20), "high")));
        }

        KernelAddressSpace space(GuestMemory m) {
            return KernelAddressSpace.of(m, new long[] {0xffff888000000000L, VMEMMAP},
                    new long[] {0, 8L << 20}, new long[] {16L << 20, 1L << 20});
        }

        PageClassifier.Result classify(int level) throws IOException {
            GuestMemory m = memory();
            return PageClassifier.classify(m, GuestVmcoreinfo.parse(VMCOREINFO), new DumpLevel(level),
                    () -> space(m), 8, ByteOrder.LITTLE_ENDIAN, Optional.empty());
        }
    }

    static Guest sample() {
        return new Guest()
                .page(0x10, 0, 0, BUDDY, 2) // a free order-2 block: pfns 0x10-0x13
                .page(0x20, 0, 0, BUDDY, 11) // order 11 is not below LENGTH(zone.free_area): kept
                .page(0x21, PG_SLAB, 0, BUDDY, 0) // a slab page whose page_type aliases the buddy value: kept
                .page(0x30, PG_LRU, 0xffff888000123400L, -1, 0) // page cache
                .page(0x31, PG_LRU | PG_PRIVATE, 0xffff888000123400L, -1, 0) // page cache with buffers
                .page(0x32, PG_LRU, 0xffff888000123401L, 0, 0) // anonymous on the LRU: user, not cache
                .compound(0x40, 2, 1, 0xffff888000555501L) // an anonymous THP of 4 pages: user
                .compound(0x80, 3, 2, 0) // a hugetlbfs page of 8 pages: user
                .page(0x90, 0, 0, OFFLINE, 0) // ballooned: always out
                .page(0x300, 0, 0, BUDDY, 1); // a free order-1 block in the section after the hole
    }

    @Test
    void classesEachPageAsMakedumpfile() throws IOException {
        PageClassifier.Result r = sample().classify(31);
        PageClasses c = r.classes();
        assertTrue(r.scanned());
        assertEquals(0x400, r.endPfn(), "section 3 ends at 4 MiB: nothing above is dumped");
        for (long p = 0x10; p < 0x14; p++) {
            assertEquals(PageClass.FREE, c.classOf(p), "pfn " + p);
        }
        assertEquals(PageClass.KEPT, c.classOf(0x14));
        assertEquals(PageClass.KEPT, c.classOf(0x20), "impossible order");
        assertEquals(1, r.badOrders());
        assertEquals(PageClass.KEPT, c.classOf(0x21), "PG_slab");
        assertEquals(PageClass.CACHE, c.classOf(0x30));
        assertEquals(PageClass.CACHE_PRIVATE, c.classOf(0x31));
        assertEquals(PageClass.USER, c.classOf(0x32));
        for (long p = 0x40; p < 0x44; p++) {
            assertEquals(PageClass.USER, c.classOf(p), "THP pfn " + p);
        }
        for (long p = 0x80; p < 0x88; p++) {
            assertEquals(PageClass.USER, c.classOf(p), "hugetlb pfn " + p);
        }
        assertEquals(PageClass.OFFLINE, c.classOf(0x90));
        assertEquals(PageClass.FREE, c.classOf(0x300));
        assertEquals(PageClass.FREE, c.classOf(0x301));
        assertEquals(4 + 2, c.count(PageClass.FREE));
        assertEquals(1 + 4 + 8, c.count(PageClass.USER));
        assertEquals(0x200 + 0x100, c.pages(), "RAM below the last section: 2 MiB + 1 MiB");
    }

    @Test
    void eachLevelLeavesOutOnlyItsClasses() throws IOException {
        Guest g = sample();
        PageClasses two = g.classify(2).classes();
        assertEquals(PageClass.CACHE, two.classOf(0x30));
        assertEquals(PageClass.KEPT, two.classOf(0x31), "level 2 keeps cache with private data");
        assertEquals(PageClass.KEPT, two.classOf(0x10), "level 2 keeps free pages");
        assertEquals(PageClass.OFFLINE, two.classOf(0x90), "offline pages go whenever the array is scanned");
        PageClasses four = g.classify(4).classes();
        assertEquals(PageClass.CACHE, four.classOf(0x30));
        assertEquals(PageClass.CACHE_PRIVATE, four.classOf(0x31));
        PageClasses eight = g.classify(8).classes();
        assertEquals(PageClass.KEPT, eight.classOf(0x30));
        assertEquals(PageClass.USER, eight.classOf(0x43));
        PageClassifier.Result one = g.classify(1);
        assertTrue(!one.scanned(), "level 1 does not scan (the kernel has no PG_hwpoison)");
        assertEquals(PageClass.KEPT, one.classes().classOf(0x90));
        assertEquals(0x400, one.endPfn(), "but the arrays are located: nothing above them is dumped");
    }

    @Test
    void anUnmappedStructPageArrayKeepsItsPagesAndSaysSo() throws IOException {
        Guest g = sample();
        // section 1's array moves to an address nothing maps
        g.b.putLong(Guest.phys(SECTIONS) + 16, (VMEMMAP + (1L << 30)) | 1);
        PageClassifier.Result r = g.classify(31);
        assertEquals(0x100, r.unreadable(), "section 1's 256 pages");
        assertTrue(r.problems().stream().anyMatch(p -> p.contains("pfns 0x100-0x1ff") && p.contains("cannot be read")),
                r.problems().toString());
        assertEquals(PageClass.KEPT, r.classes().classOf(0x150));
        assertEquals(PageClass.FREE, r.classes().classOf(0x10), "the other sections are classed");
    }

    @Test
    void garbageStructPagesNeverThrowNorHang() {
        qt().withExamples(40).forAll(longs().all()).checkAssert(seed -> {
            Guest g = new Guest();
            Random rnd = new Random(seed);
            byte[] junk = new byte[0x400 * SIZE_PAGE];
            rnd.nextBytes(junk);
            System.arraycopy(junk, 0, g.ram, Guest.phys(VMEMMAP), junk.length);
            if (rnd.nextBoolean()) {
                // make many of them look like buddy and compound heads with random orders
                for (int i = 0; i < 0x400; i += 1 + rnd.nextInt(8)) {
                    g.page(i, rnd.nextBoolean() ? PG_HEAD : 0, 0, BUDDY, rnd.nextInt(80));
                }
            }
            try {
                PageClassifier.Result r = g.classify(31);
                PageClasses c = r.classes();
                long sum = 0;
                for (PageClass pc : PageClass.values()) {
                    sum += c.count(pc);
                }
                assertEquals(c.pages(), sum, "seed " + seed + ": every page in exactly one class");
            } catch (IOException e) {
                throw new AssertionError("seed " + seed, e);
            }
        });
    }

    @Test
    void missingEntriesAreNamedWithTheLevelsStillPossible() {
        String without = VMCOREINFO.replace("NUMBER(PG_lru)=4\n", "");
        GuestMemory m = sample().memory();
        UnsupportedGuestException e = assertThrows(UnsupportedGuestException.class, () -> PageClassifier.classify(m,
                GuestVmcoreinfo.parse(without), new DumpLevel(31), () -> sample().space(m), 8,
                ByteOrder.LITTLE_ENDIAN, Optional.empty()));
        assertTrue(e.getMessage().contains("lacks NUMBER(PG_lru)"), e.getMessage());
        assertTrue(e.getMessage().contains("levels this guest allows: 0, 1, 8, 9, 16, 17, 24, 25"), e.getMessage());
    }

    @Test
    void theStructPageScanAndTheZeroSearchReportTheirProgressEachAsAPhase() throws IOException {
        Guest g = sample();
        GuestMemory m = g.memory();
        RecordingProgress scan = new RecordingProgress();
        PageClassifier.Result r = PageClassifier.classify(m, GuestVmcoreinfo.parse(VMCOREINFO), new DumpLevel(31),
                () -> g.space(m), 8, ByteOrder.LITTLE_ENDIAN, Optional.empty(), scan);
        // the arrays of sections 0, 1 and 3: 3 x 256 pages of 4 KiB
        scan.assertOnePhaseUpTo(PageClassifier.PHASE_CLASSES, 3L << 20);
        assertTrue(scan.events.size() >= 4, "reported along the way, not only at the end: " + scan.events);
        RecordingProgress zeros = new RecordingProgress();
        PageClassifier.markZeroPages(m, r.classes(), false, Optional.empty(), zeros);
        zeros.assertOnePhaseUpTo(PageClassifier.PHASE_ZEROS, r.classes().pages() << 12);
        assertTrue(zeros.events.size() >= 4, "reported along the way, not only at the end: " + zeros.events);
    }

    @Test
    void theZeroSearchOfALevelReadsOnlyThePagesStillKept() throws IOException {
        Guest g = sample();
        long[] read = new long[1];
        io.guestdump.memory.BlockData all = new ByteArrayData(g.ram);
        io.guestdump.memory.BlockData counting = new io.guestdump.memory.BlockData() {
            @Override
            public long size() {
                return all.size();
            }

            @Override
            public void read(long offset, ByteBuffer dst) throws IOException {
                read[0] += dst.remaining();
                all.read(offset, dst);
            }
        };
        // one block [0, 16 MiB), classed up to the end of section 3 (4 MiB); level 31 leaves out the classes of
        // sample() and, here, all of section 2 (present now) as one free block of 256 pages
        g.page(0x200, 0, 0, BUDDY, 8); // a free order-8 block: pfns 0x200-0x2ff
        g.b.putLong(Guest.phys(SECTIONS) + 16 * 2, VMEMMAP | 1 | 2);
        GuestMemory m = new GuestMemory(List.of(new GuestBlock(PhysRange.ofLength(0, 16 << 20), counting, "ram")));
        PageClassifier.Result r = PageClassifier.classify(m, GuestVmcoreinfo.parse(VMCOREINFO), new DumpLevel(31),
                () -> g.space(m), 8, ByteOrder.LITTLE_ENDIAN, Optional.empty());
        assertEquals(PageClass.FREE, r.classes().classOf(0x2ff));
        read[0] = 0;
        PageClassifier.markZeroPages(m, r.classes(), false, Optional.empty());
        long kept = r.classes().count(PageClass.KEPT);
        assertTrue(read[0] >= kept << 12, read[0] + " bytes read, " + kept + " pages kept");
        assertTrue(read[0] <= (kept + 64) << 12, "the 256 free pages in a row are not read: " + read[0] + " bytes read, "
                + kept + " pages kept");
        assertEquals(kept, r.classes().zeroPages(), "every kept page of this guest is all zeros (its RAM is empty)");
    }
}
