package io.guestdump.core.kernel;

import io.guestdump.arch.api.GuestVmcoreinfo;
import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.core.vmcore.ProgressListener;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.PhysRange;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Classes the guest's pages from its own {@code struct page} array, as makedumpfile 1.7.2 does
 * ({@code __exclude_unnecessary_pages}, {@code create_2nd_bitmap}); makedumpfile's source is the specification.
 *
 * <p>Per RAM page, in order, the first that applies:
 * <ol>
 * <li>a compound tail page ({@code compound_head & 1}): left to its head;</li>
 * <li>level bit 16 and a buddy page ({@code _mapcount == PAGE_BUDDY_MAPCOUNT_VALUE}, not {@code PG_slab}): free,
 *     with the {@code 1 << private} pages of its block; an order not below {@code LENGTH(zone.free_area)} keeps the
 *     page (makedumpfile warns "Invalid free page order");</li>
 * <li>level bit 2, a cache page ({@code PG_lru}, or {@code PG_swapcache} with {@code PG_swapbacked}), not
 *     {@code PG_private}, not anonymous ({@code mapping & 1}): cache;</li>
 * <li>level bit 4, a cache page, not anonymous: cache with private data, or cache;</li>
 * <li>level bit 8, anonymous, or a compound head whose {@code compound_dtor} is {@code HUGETLB_PAGE_DTOR}: user;</li>
 * <li>{@code PG_hwpoison} (when the kernel has it): hwpoison;</li>
 * <li>{@code _mapcount == PAGE_OFFLINE_MAPCOUNT_VALUE}, not {@code PG_slab}: offline;</li>
 * <li>else kept.</li>
 * </ol>
 * A compound head (flags &amp; {@code PG_head_mask}) takes its {@code compound_order} and {@code compound_dtor} from the
 * next {@code struct page}; an order that is 64 or more, or that the pfn is not aligned to, counts as 0. A head
 * page that is excluded takes its whole compound page with it. The array is scanned only when makedumpfile would
 * scan it: for level bits 2, 4 or 8, for bit 16, or when the kernel has {@code PG_hwpoison}. Zero pages (bit 1) are
 * not found here but by reading the pages ({@link #markZeroPages}).
 *
 * <p>Where makedumpfile gives up (a {@code struct page} it cannot read), this keeps the pages and reports them.
 * The {@code struct page} array is classed 512 entries at a time (makedumpfile's {@code PGMM_CACHED}), from a 4 MiB
 * window read at once; nothing else of it stays in the heap.
 */
public final class PageClassifier {
    /** makedumpfile's {@code PGMM_CACHED}: {@code struct page}s classed from one read. */
    static final int PGMM_CACHED = 512;
    /** Bytes of the {@code struct page} array read at once (4 MiB: 65,536 entries of 64 bytes; at most 1 bit of
     * heap per guest page is kept, this window is the only other buffer). */
    static final int READ_AHEAD = 4 << 20;
    /** makedumpfile's {@code SECTION_MAP_LAST_BIT} (Linux 4.13 and later; harmless before). */
    static final long SECTION_MAP_LAST_BIT = 1L << 5;
    /** {@code SECTION_MARKED_PRESENT}. */
    static final long SECTION_MARKED_PRESENT = 1L;
    /** {@code PAGE_MAPPING_ANON}. */
    static final long PAGE_MAPPING_ANON = 1L;
    /** The progress phase of the {@code struct page} scan; its bytes are the guest memory classed so far. */
    public static final String PHASE_CLASSES = "classing pages";
    /** The progress phase of the zero-page search; its bytes are the guest memory read so far. */
    public static final String PHASE_ZEROS = "finding zero pages";
    /** Problems kept for the report; {@link Result#problemCount()} counts all of them. */
    public static final int KEPT_PROBLEMS = 10;

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(PageClassifier.class);

    private PageClassifier() {}

    /**
     * What a scan found.
     *
     * @param classes      the class of every RAM page (below {@code endPfn})
     * @param endPfn       one past the last pfn the {@code struct page} arrays describe, or -1 when they were not
     *                     located: makedumpfile dumps nothing above it ("Linux uses less memory than is dumped",
     *                     e.g. a framebuffer or ROM that the hypervisor's dump holds)
     * @param scanned      whether the {@code struct page} array was scanned
     * @param unreadable   pages kept because their {@code struct page} could not be read
     * @param badOrders    free pages kept because their buddy order was impossible
     * @param problemCount every problem found
     * @param problems     the first {@link #KEPT_PROBLEMS} of them
     */
    public record Result(PageClasses classes, long endPfn, boolean scanned, long unreadable, long badOrders, long problemCount,
            List<String> problems) {

        /** Copies the list. */
        public Result {
            problems = List.copyOf(problems);
        }
    }

    /** The VMCOREINFO entries a level needs, named as the kernel prints them; empty when it has them all. */
    public static List<String> missing(GuestVmcoreinfo vi, DumpLevel level) {
        Set<String> miss = new LinkedHashSet<>();
        if (!scans(vi, level)) {
            return List.of();
        }
        for (String k : List.of("SIZE(page)", "OFFSET(page.flags)", "OFFSET(page._refcount)",
                "OFFSET(page.mapping)")) {
            need(vi, k, miss);
        }
        if (vi.get("SYMBOL(mem_map)").isEmpty()) {
            for (String k : List.of("SYMBOL(mem_section)", "SIZE(mem_section)", "OFFSET(mem_section.section_mem_map)",
                    "NUMBER(SECTION_SIZE_BITS)", "NUMBER(MAX_PHYSMEM_BITS)")) {
                need(vi, k, miss);
            }
        }
        if (level.has(DumpLevel.DL_EXCLUDE_CACHE) || level.has(DumpLevel.DL_EXCLUDE_CACHE_PRI)) {
            need(vi, "NUMBER(PG_lru)", miss);
            need(vi, "NUMBER(PG_private)", miss);
            need(vi, "NUMBER(PG_swapcache)", miss);
        }
        if (level.has(DumpLevel.DL_EXCLUDE_FREE)) {
            need(vi, "OFFSET(page.private)", miss);
            if (vi.get("NUMBER(PG_buddy)").isEmpty()) {
                need(vi, "OFFSET(page._mapcount)", miss);
                need(vi, "NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)", miss);
                need(vi, "NUMBER(PG_slab)", miss);
            }
        }
        return List.copyOf(miss);
    }

    /** Whether VMCOREINFO says where the struct page arrays are. */
    static boolean hasMemoryModel(GuestVmcoreinfo vi) {
        if (vi.get("SIZE(page)").isEmpty()) {
            return false;
        }
        if (vi.get("SYMBOL(mem_section)").isPresent()) {
            return vi.get("SIZE(mem_section)").isPresent() && vi.get("OFFSET(mem_section.section_mem_map)").isPresent()
                    && vi.get("NUMBER(SECTION_SIZE_BITS)").isPresent() && vi.get("NUMBER(MAX_PHYSMEM_BITS)").isPresent();
        }
        return vi.get("SYMBOL(mem_map)").isPresent();
    }

    /** The memory below {@code end}. */
    static GuestMemory clip(GuestMemory memory, long end) {
        List<io.guestdump.memory.GuestBlock> kept = new ArrayList<>();
        for (io.guestdump.memory.GuestBlock b : memory.blocks()) {
            if (Long.compareUnsigned(b.range().start(), end) < 0) {
                kept.add(b.clip(new PhysRange(b.range().start(), Long.compareUnsigned(b.range().end(), end) < 0
                        ? b.range().end() : end)));
            }
        }
        return new GuestMemory(kept);
    }

    /** Whether makedumpfile scans {@code struct page}s at this level for this kernel. */
    public static boolean scans(GuestVmcoreinfo vi, DumpLevel level) {
        return level.needsMemMap() || vi.get("NUMBER(PG_hwpoison)").isPresent();
    }

    /** The levels whose entries the guest's VMCOREINFO has. */
    public static List<Integer> possibleLevels(GuestVmcoreinfo vi) {
        List<Integer> ok = new ArrayList<>();
        for (int l = 0; l <= DumpLevel.MAX_DUMP_LEVEL; l++) {
            if (missing(vi, new DumpLevel(l)).isEmpty()) {
                ok.add(l);
            }
        }
        return ok;
    }

    private static void need(GuestVmcoreinfo vi, String key, Set<String> miss) {
        if (vi.get(key).isEmpty()) {
            miss.add(key);
        }
    }

    /**
     * Classes every RAM page of {@code memory} at {@code level}.
     *
     * @param space     the kernel's address space, made on first use (only when the array is scanned)
     * @param wordSize  bytes of the kernel's {@code unsigned long}
     * @param order     the kernel's byte order
     * @param window    when present, only the {@code mem_section}s holding some of it are scanned
     * @throws UnsupportedGuestException naming the missing VMCOREINFO entries and the levels still possible
     */
    public static Result classify(GuestMemory memory, GuestVmcoreinfo vi, DumpLevel level,
            Supplier<KernelAddressSpace> space, int wordSize, ByteOrder order, Optional<PhysRange> window)
            throws IOException {
        return classify(memory, vi, level, space, wordSize, order, window, ProgressListener.NONE);
    }

    /**
     * Classes every RAM page of {@code memory} at {@code level}, reporting to {@code progress} the guest memory
     * whose {@code struct page}s have been read (phase {@link #PHASE_CLASSES}), when the array is scanned.
     */
    public static Result classify(GuestMemory memory, GuestVmcoreinfo vi, DumpLevel level,
            Supplier<KernelAddressSpace> space, int wordSize, ByteOrder order, Optional<PhysRange> window,
            ProgressListener progress) throws IOException {
        List<String> miss = missing(vi, level);
        if (!miss.isEmpty()) {
            throw new UnsupportedGuestException("--dump-level " + level.value() + ": the guest's VMCOREINFO lacks "
                    + String.join(", ", miss) + ", which makedumpfile needs to tell the page classes apart; levels "
                    + "this guest allows: " + ranges(possibleLevels(vi)) + " (level 1, zero pages, never needs them)");
        }
        long pageSize = vi.pageSize().orElse(4096L);
        int shift = Long.numberOfTrailingZeros(pageSize);
        Scan s = new Scan(new PageClasses(memory, shift), vi, level, wordSize, order, pageSize);
        boolean scan = scans(vi, level);
        List<long[]> maps = null;
        long endPfn = -1;
        if (hasMemoryModel(vi)) {
            // makedumpfile locates the arrays whenever it has VMCOREINFO, at any level, and dumps nothing above them
            try {
                s.as = space.get();
                maps = s.memMaps();
            } catch (RuntimeException | IOException e) {
                if (scan) {
                    throw e;
                }
                LOG.warn("--dump-level {}: the guest's struct page arrays were not located ({}); all its memory is"
                        + " dumped, where makedumpfile would leave out what lies above them", level.value(),
                        e.getMessage());
            }
        }
        if (maps != null) {
            for (long[] m : maps) {
                endPfn = Math.max(endPfn, m[1]);
            }
        }
        GuestMemory dumped = endPfn < 0 ? memory : clip(memory, endPfn << shift);
        PageClasses classes = new PageClasses(dumped, shift);
        s.classes = classes;
        if (!scan) {
            return new Result(classes, endPfn, false, 0, 0, s.problemCount, s.problems);
        }
        List<long[]> scanned = new ArrayList<>();
        long total = 0;
        for (long[] m : maps) {
            long first = m[0];
            long end = Math.min(m[1], classes.maxMapnr());
            if (window.isPresent()) {
                PhysRange w = window.get();
                long wFirst = w.start() >>> shift;
                long wEnd = ((w.end() - 1) >>> shift) + 1;
                if (end <= wFirst || first >= wEnd) {
                    continue;
                }
            }
            if (end > first) {
                scanned.add(new long[] {first, end, m[2]});
                total += end - first;
            }
        }
        progress.phase(PHASE_CLASSES);
        s.progress = progress;
        s.progressTotal = total << shift;
        progress.progress(0, s.progressTotal);
        for (long[] m : scanned) {
            s.section(m[2], m[0], m[1]);
            s.progressBase += m[1] - m[0];
            progress.progress(s.progressBase << shift, s.progressTotal);
        }
        return new Result(classes, endPfn, true, s.unreadable, s.badOrders, s.problemCount, s.problems);
    }

    /**
     * Reads every RAM page still kept and marks the all-zero ones (makedumpfile {@code exclude_zero_pages_cyclic}):
     * pages already left out are not read; with {@code allPages}, every RAM page whatever its class (for the
     * per-level report).
     */
    public static void markZeroPages(GuestMemory memory, PageClasses classes, boolean allPages,
            Optional<PhysRange> window) throws IOException {
        markZeroPages(memory, classes, allPages, window, ProgressListener.NONE);
    }

    /**
     * {@link #markZeroPages(GuestMemory, PageClasses, boolean, Optional)}, reporting the guest memory gone through
     * to {@code progress} (phase {@link #PHASE_ZEROS}).
     */
    public static void markZeroPages(GuestMemory memory, PageClasses classes, boolean allPages,
            Optional<PhysRange> window, ProgressListener progress) throws IOException {
        int ps = 1 << classes.pageShift();
        long total = 0;
        for (int r = 0; r < classes.runCount(); r++) {
            long[] fe = clamp(classes, r, window);
            total += Math.max(0, fe[1] - fe[0]) * ps;
        }
        long done = 0;
        progress.phase(PHASE_ZEROS);
        progress.progress(0, total);
        int chunkPages = Math.max(1, (1 << 20) / ps);
        byte[] buf = new byte[chunkPages * ps];
        byte[] zeros = new byte[ps];
        for (int r = 0; r < classes.runCount(); r++) {
            long[] fe = clamp(classes, r, window);
            long first = fe[0];
            long end = fe[1];
            for (long pfn = first; pfn < end; ) {
                int n = (int) Math.min(chunkPages, end - pfn);
                if (!allPages) {
                    // pages already left out are not read: the chunk starts and ends at a kept page
                    int lo = 0;
                    while (lo < n && classes.classOf(pfn + lo) != PageClass.KEPT) {
                        lo++;
                    }
                    if (lo > 0) {
                        pfn += lo;
                        done += (long) lo * ps;
                        progress.progress(done, total);
                        continue;
                    }
                    while (classes.classOf(pfn + n - 1) != PageClass.KEPT) {
                        n--;
                    }
                }
                long addr = pfn << classes.pageShift();
                if (!memory.isBacked(addr, (long) n * ps)) {
                    n = 1;
                    if (!memory.isBacked(addr, ps)) {
                        pfn++;
                        done += ps;
                        continue; // a page a block covers in part: not all zeros as far as we can tell
                    }
                }
                done += (long) n * ps;
                progress.progress(done, total);
                memory.read(addr, ByteBuffer.wrap(buf, 0, n * ps));
                for (int i = 0; i < n; i++) {
                    long p = pfn + i;
                    if (!allPages && classes.classOf(p) != PageClass.KEPT) {
                        continue;
                    }
                    if (isZero(buf, i * ps, ps, zeros)) {
                        classes.markZero(p);
                    }
                }
                pfn += n;
            }
        }
    }

    /** Run {@code r} of {@code classes} as {@code [first, end)} pfns, cut to the window. */
    private static long[] clamp(PageClasses classes, int r, Optional<PhysRange> window) {
        long first = classes.runFirst(r);
        long end = classes.runEnd(r);
        if (window.isPresent()) {
            first = Math.max(first, window.get().start() >>> classes.pageShift());
            end = Math.min(end, ((window.get().end() - 1) >>> classes.pageShift()) + 1);
        }
        return new long[] {first, end};
    }

    /** Whether {@code len} bytes of {@code b} from {@code off} are zeros; {@code zeros} holds at least len zeros. */
    static boolean isZero(byte[] b, int off, int len, byte[] zeros) {
        // Arrays.mismatch compares many bytes at a time (a vectorised intrinsic); a byte loop took several times longer
        return Arrays.mismatch(b, off, off + len, zeros, 0, len) < 0;
    }

    static String ranges(List<Integer> levels) {
        if (levels.isEmpty()) {
            return "none";
        }
        StringBuilder sb = new StringBuilder();
        int i = 0;
        while (i < levels.size()) {
            int j = i;
            while (j + 1 < levels.size() && levels.get(j + 1) == levels.get(j) + 1) {
                j++;
            }
            if (sb.length() > 0) {
                sb.append(", ");
            }
            sb.append(levels.get(i));
            if (j > i) {
                sb.append(j == i + 1 ? ", " : "-").append(levels.get(j));
            }
            i = j + 1;
        }
        return sb.toString();
    }

    /** One scan's state. */
    private static final class Scan {
        PageClasses classes;
        final GuestVmcoreinfo vi;
        final DumpLevel level;
        final int word;
        final ByteOrder order;
        final long pageSize;
        final int shift;
        KernelAddressSpace as;
        final int sizePage;
        final int offFlags;
        final int offCount;
        final int offMapping;
        final int offMapcount;
        final int offPrivate;
        final int offHead;
        final int offOrder;
        final int offDtor;
        final boolean orderIsByte;
        final long pgLru;
        final long pgPrivate;
        final long pgSwapcache;
        final long pgSwapbacked;
        final long pgSlab;
        final long pgHwpoison;
        final long pgBuddy;
        final long headMask;
        final Long buddyValue;
        final Long offlineValue;
        final Long hugetlbDtor;
        final Long freeAreaLength;
        final boolean buddyKnown;
        /** Where the scan reports, the pages of the arrays scanned before this one, and the bytes of them all. */
        ProgressListener progress = ProgressListener.NONE;
        long progressBase;
        long progressTotal;
        /** The window of {@code struct page}s read ahead ({@link #readStructPages}). */
        byte[] ahead;
        long aheadStart;
        int aheadLen;
        long aheadFailedStart;
        long aheadFailedEnd;
        long unreadable;
        long badOrders;
        long problemCount;
        final List<String> problems = new ArrayList<>();

        Scan(PageClasses classes, GuestVmcoreinfo vi, DumpLevel level, int word, ByteOrder order, long pageSize) {
            this.classes = classes;
            this.vi = vi;
            this.level = level;
            this.word = word;
            this.order = order;
            this.pageSize = pageSize;
            this.shift = Long.numberOfTrailingZeros(pageSize);
            sizePage = (int) value("SIZE(page)", -1);
            offFlags = (int) value("OFFSET(page.flags)", -1);
            offCount = (int) value("OFFSET(page._refcount)", -1);
            offMapping = (int) value("OFFSET(page.mapping)", -1);
            offMapcount = (int) value("OFFSET(page._mapcount)", -1);
            offPrivate = (int) value("OFFSET(page.private)", -1);
            offHead = (int) value("OFFSET(page.compound_head)", -1);
            int[] version = kernelVersion(vi.get("OSRELEASE").orElse(""));
            boolean v44 = version == null || compare(version, 4, 4) >= 0;
            // before 4.4 the order and destructor lived in page.lru; makedumpfile reads them there
            int lru = (int) value("OFFSET(page.lru)", -1);
            int lprev = (int) value("OFFSET(list_head.prev)", -1);
            int lnext = (int) value("OFFSET(list_head.next)", -1);
            offOrder = (int) value("OFFSET(page.compound_order)",
                    !v44 && lru >= 0 && lprev >= 0 ? lru + lprev : 0);
            offDtor = (int) value("OFFSET(page.compound_dtor)", !v44 && lru >= 0 && lnext >= 0 ? lru + lnext : 0);
            orderIsByte = version == null || compare(version, 4, 16) >= 0;
            pgLru = number("PG_lru");
            pgPrivate = number("PG_private");
            pgSwapcache = number("PG_swapcache");
            pgSwapbacked = number("PG_swapbacked");
            pgSlab = number("PG_slab");
            pgHwpoison = number("PG_hwpoison");
            pgBuddy = number("PG_buddy");
            headMask = vi.number("PG_head_mask").orElse(0L);
            buddyValue = vi.number("PAGE_BUDDY_MAPCOUNT_VALUE").orElse(null);
            offlineValue = vi.number("PAGE_OFFLINE_MAPCOUNT_VALUE").orElse(null);
            hugetlbDtor = vi.number("HUGETLB_PAGE_DTOR").orElse(null);
            freeAreaLength = vi.get("LENGTH(zone.free_area)").map(Long::parseLong).orElse(null);
            buddyKnown = offPrivate >= 0 && (pgBuddy >= 0 || buddyValue != null && offMapcount >= 0);
        }

        private long value(String key, long absent) {
            return vi.get(key).map(Long::parseLong).orElse(absent);
        }

        /** {@code NUMBER(name)}, or -1 (makedumpfile's NOT_FOUND_NUMBER) when absent. */
        private long number(String name) {
            return vi.number(name).orElse(-1L);
        }

        private void problem(String s) {
            problemCount++;
            if (problems.size() < KEPT_PROBLEMS) {
                problems.add(s);
            }
        }

        /** The {@code struct page} arrays as {@code [firstPfn, endPfn, vaddr]}, ascending. */
        List<long[]> memMaps() throws IOException {
            long maxMapnr = classes.maxMapnr();
            List<long[]> out = new ArrayList<>();
            Optional<Long> flat = vi.symbol("mem_map");
            if (vi.get("SYMBOL(mem_section)").isEmpty() && flat.isPresent()) {
                long memMap = readWord(flat.get());
                out.add(new long[] {0, maxMapnr, memMap});
                return out;
            }
            int sectionBits = (int) (long) vi.number("SECTION_SIZE_BITS").get();
            int physBits = (int) (long) vi.number("MAX_PHYSMEM_BITS").get();
            long sizeSection = value("SIZE(mem_section)", -1);
            long offMap = value("OFFSET(mem_section.section_mem_map)", -1);
            long pfnSectionShift = sectionBits - shift;
            long pagesPerSection = 1L << pfnSectionShift;
            long nrMemSections = 1L << (physBits - sectionBits);
            long perRootExtreme = pageSize / sizeSection;
            Optional<Long> length = vi.get("LENGTH(mem_section)").map(Long::parseLong);
            boolean extreme = length.isEmpty() || length.get() == (nrMemSections + perRootExtreme - 1) / perRootExtreme;
            long perRoot = extreme ? perRootExtreme : 1;
            long numSection = (maxMapnr + pagesPerSection - 1) / pagesPerSection;
            long symbol = vi.symbol("mem_section").get();
            List<long[]> found = sections(symbol, extreme, perRoot, numSection, sizeSection, offMap, pfnSectionShift,
                    maxMapnr);
            if (found == null && extreme) {
                // SPARSEMEM_EXTREME v2 seen through a symbol table: the symbol is a pointer to the root array
                found = sections(readWord(symbol), extreme, perRoot, numSection, sizeSection, offMap,
                        pfnSectionShift, maxMapnr);
            }
            if (found == null) {
                throw new UnsupportedGuestException("--dump-level: the guest's mem_section at "
                        + PhysRange.hex(symbol) + " (SYMBOL(mem_section)) names no struct page array this dump can"
                        + " read (makedumpfile: \"Could not validate mem_section\"); dump with --dump-level 0 or 1");
            }
            return found;
        }

        /** The present sections, or null when the array at {@code root} does not look like mem_section. */
        private List<long[]> sections(long root, boolean extreme, long perRoot, long numSection, long sizeSection,
                long offMap, long pfnSectionShift, long maxMapnr) throws IOException {
            List<long[]> out = new ArrayList<>();
            long rootCount = (numSection + perRoot - 1) / perRoot;
            long[] roots = null;
            if (extreme) {
                if (rootCount > (1 << 24)) {
                    return null;
                }
                roots = new long[(int) rootCount];
                byte[] raw = new byte[(int) rootCount * word];
                try {
                    as.read(root, raw);
                } catch (IOException e) {
                    return null;
                }
                ByteBuffer b = ByteBuffer.wrap(raw).order(order);
                for (int i = 0; i < rootCount; i++) {
                    roots[i] = word == 8 ? b.getLong(i * 8) : Integer.toUnsignedLong(b.getInt(i * 4));
                }
            }
            boolean anyPresent = false;
            for (long nr = 0; nr < numSection; nr++) {
                long addr;
                if (extreme) {
                    long r = roots[(int) (nr / perRoot)];
                    if (r == 0) {
                        continue;
                    }
                    addr = r + (nr % perRoot) * sizeSection;
                } else {
                    addr = root + nr * sizeSection;
                }
                long map;
                try {
                    map = readWord(addr + offMap);
                } catch (IOException e) {
                    if (!anyPresent && nr == 0) {
                        return null;
                    }
                    long first = nr << pfnSectionShift;
                    keepUnreadable(first, Math.min(maxMapnr, first + (1L << pfnSectionShift)),
                            "mem_section " + nr + " at " + PhysRange.hex(addr) + " cannot be read: " + e.getMessage());
                    continue;
                }
                long mask = map & (SECTION_MAP_LAST_BIT - 1);
                if ((mask & SECTION_MARKED_PRESENT) == 0) {
                    continue;
                }
                long memMap = (map & ~(SECTION_MAP_LAST_BIT - 1)) + (nr << pfnSectionShift) * sizePage;
                if (!anyPresent && as.translate(memMap).isEmpty()) {
                    return null; // the first present section's array is not mapped: not a mem_section
                }
                anyPresent = true;
                long first = nr << pfnSectionShift;
                out.add(new long[] {first, Math.min(maxMapnr, first + (1L << pfnSectionShift)), memMap});
            }
            return anyPresent ? out : null;
        }

        private long readWord(long vaddr) throws IOException {
            return word == 8 ? as.readLong(vaddr, order) : as.readInt(vaddr, order);
        }

        private void keepUnreadable(long first, long end, String why) {
            long n = 0;
            for (long p = first; p < end; p++) {
                if (classes.inRam(p)) {
                    n++;
                }
            }
            if (n > 0) {
                unreadable += n;
                problem(why + "; its " + n + " RAM pages are kept");
            }
        }

        /** makedumpfile {@code __exclude_unnecessary_pages} over one array. */
        void section(long memMap, long pfnStart, long pfnEnd) {
            byte[] cache = new byte[PGMM_CACHED * sizePage];
            ByteBuffer c = ByteBuffer.wrap(cache).order(order);
            long readStart = Long.MAX_VALUE;
            long readEnd = -1;
            for (long pfn = pfnStart; pfn < pfnEnd; pfn++) {
                if (!classes.inRam(pfn)) {
                    continue;
                }
                int indexPg = (int) (pfn % PGMM_CACHED);
                if (pfn < readStart || readEnd < pfn) {
                    long pfnMm = roundUp(pfn + 1, PGMM_CACHED) < pfnEnd ? PGMM_CACHED - indexPg : pfnEnd - pfn;
                    long at = memMap + (pfn - pfnStart) * sizePage;
                    try {
                        readStructPages(at, cache, indexPg * sizePage, (int) pfnMm * sizePage,
                                memMap + (pfnEnd - pfnStart) * sizePage);
                    } catch (IOException e) {
                        keepUnreadable(pfn, pfn + pfnMm, "the struct pages of pfns " + PhysRange.hex(pfn) + "-"
                                + PhysRange.hex(pfn + pfnMm - 1) + " at " + PhysRange.hex(at)
                                + " cannot be read (" + e.getMessage() + ")");
                        pfn += pfnMm - 1;
                        continue;
                    }
                    readStart = pfn;
                    readEnd = pfn + pfnMm - 1;
                    progress.progress((progressBase + pfn - pfnStart) << shift, progressTotal);
                }
                int p = indexPg * sizePage;
                long flags = word(c, p + offFlags);
                long mapping = word(c, p + offMapping);
                long compoundOrder = 0;
                long compoundDtor = 0;
                if (indexPg < PGMM_CACHED - 1 && (flags & headMask) != 0 && pfn + 1 <= readEnd) {
                    int next = p + sizePage;
                    if (offOrder != 0) {
                        compoundOrder = orderIsByte ? c.get(next + offOrder) & 0xffL
                                : c.getShort(next + offOrder) & 0xffffL;
                    }
                    if (offDtor != 0) {
                        compoundDtor = orderIsByte ? c.get(next + offDtor) & 0xffL
                                : c.getShort(next + offDtor) & 0xffffL;
                    }
                    if (compoundOrder >= 64 || (pfn & ((1L << compoundOrder) - 1)) != 0) {
                        compoundOrder = 0;
                    }
                }
                long compoundHead = offHead >= 0 ? word(c, p + offHead) : 0;
                int mapcount = offMapcount >= 0 ? c.getInt(p + offMapcount) : 0;
                long priv = offPrivate >= 0 ? word(c, p + offPrivate) : 0;
                long nrPages = 1L << compoundOrder;
                PageClass cls;
                if ((compoundHead & 1) != 0) {
                    continue;
                } else if (level.has(DumpLevel.DL_EXCLUDE_FREE) && buddyKnown && isBuddy(flags, mapcount)) {
                    long maxOrder = freeAreaLength != null ? freeAreaLength : 64 - shift;
                    if (Long.compareUnsigned(priv, maxOrder) >= 0) {
                        badOrders++;
                        problem("free page at pfn " + PhysRange.hex(pfn) + " has buddy order " + Long.toUnsignedString(
                                priv) + ", not below " + maxOrder + " (LENGTH(zone.free_area)); kept");
                        continue;
                    }
                    nrPages = 1L << priv;
                    cls = PageClass.FREE;
                } else if (level.has(DumpLevel.DL_EXCLUDE_CACHE) && isCache(flags) && !bit(flags, pgPrivate)
                        && (mapping & PAGE_MAPPING_ANON) == 0) {
                    cls = PageClass.CACHE;
                } else if (level.has(DumpLevel.DL_EXCLUDE_CACHE_PRI) && isCache(flags)
                        && (mapping & PAGE_MAPPING_ANON) == 0) {
                    cls = bit(flags, pgPrivate) ? PageClass.CACHE_PRIVATE : PageClass.CACHE;
                } else if (level.has(DumpLevel.DL_EXCLUDE_USER_DATA)
                        && ((mapping & PAGE_MAPPING_ANON) != 0 || hugetlbDtor != null && hugetlbDtor == compoundDtor)) {
                    cls = PageClass.USER;
                } else if (pgHwpoison >= 0 && bit(flags, pgHwpoison)) {
                    cls = PageClass.HWPOISON;
                } else if (isOffline(flags, mapcount)) {
                    cls = PageClass.OFFLINE;
                } else {
                    continue;
                }
                if (nrPages == 1) {
                    classes.exclude(pfn, cls);
                } else {
                    long end = Math.min(pfn + nrPages, Math.max(classes.maxMapnr(), pfn + 1));
                    for (long q = pfn; q < end; q++) {
                        classes.exclude(q, cls);
                    }
                    pfn += nrPages - 1;
                    if (pfn < 0) {
                        break;
                    }
                }
            }
        }

        /**
         * Reads {@code len} bytes of {@code struct page}s at {@code at} into {@code dst}: from the window read ahead,
         * which holds up to {@link #READ_AHEAD} bytes of the array (up to {@code arrayEnd}) read at once, so that a
         * source with a cost per read (a QMP {@code pmemsave}) is asked a few times per section rather than once per
         * {@link #PGMM_CACHED} entries. A window that cannot be read as a whole is not used: the 512 entries are then
         * read alone, so an unreadable part costs exactly the entries makedumpfile would give up.
         */
        private void readStructPages(long at, byte[] dst, int off, int len, long arrayEnd) throws IOException {
            if (Long.compareUnsigned(at, aheadStart) >= 0 && Long.compareUnsigned(at + len, aheadStart + aheadLen) <= 0
                    && aheadLen > 0) {
                System.arraycopy(ahead, (int) (at - aheadStart), dst, off, len);
                return;
            }
            long want = Math.min(READ_AHEAD, arrayEnd - at);
            boolean inFailed = Long.compareUnsigned(at, aheadFailedStart) >= 0
                    && Long.compareUnsigned(at, aheadFailedEnd) < 0;
            if (want > len && !inFailed) {
                if (ahead == null) {
                    ahead = new byte[READ_AHEAD];
                }
                try {
                    as.read(at, ByteBuffer.wrap(ahead, 0, (int) want));
                    aheadStart = at;
                    aheadLen = (int) want;
                    System.arraycopy(ahead, 0, dst, off, len);
                    return;
                } catch (IOException e) {
                    aheadLen = 0;
                    aheadFailedStart = at; // this window is read 512 entries at a time
                    aheadFailedEnd = at + want;
                }
            }
            as.read(at, ByteBuffer.wrap(dst, off, len));
        }

        private boolean isBuddy(long flags, int mapcount) {
            if (pgBuddy >= 0) {
                return bit64(flags, pgBuddy);
            }
            if (bit64(flags, pgSlab)) {
                return false;
            }
            return mapcount == (int) (long) buddyValue;
        }

        private boolean isOffline(long flags, int mapcount) {
            if (offlineValue == null) {
                return false;
            }
            if (bit64(flags, pgSlab)) {
                return false;
            }
            return mapcount == (int) (long) offlineValue;
        }

        private boolean isCache(long flags) {
            if (bit(flags, pgLru)) {
                return true;
            }
            return (pgSwapbacked < 0 || bit(flags, pgSwapbacked)) && bit(flags, pgSwapcache);
        }

        /**
         * makedumpfile's {@code test_bit}, quirks included: the mask is an {@code int} {@code 1 << (nr & 0x1f)}
         * (so bit 31 sign-extends); a NOT_FOUND (-1) bit is never set here.
         */
        private static boolean bit(long flags, long nr) {
            if (nr < 0) {
                return false;
            }
            int mask = 1 << (nr & 0x1f);
            return (mask & flags) != 0;
        }

        /** {@code flags & (1UL << nr)}, as page_is_buddy_v3 and isOffline test PG_slab. */
        private static boolean bit64(long flags, long nr) {
            return nr >= 0 && nr < 64 && (flags & (1L << nr)) != 0;
        }

        private long word(ByteBuffer c, int at) {
            return word == 8 ? c.getLong(at) : Integer.toUnsignedLong(c.getInt(at));
        }

        private static long roundUp(long v, long to) {
            return (v + to - 1) / to * to;
        }
    }

    /** {@code major.minor} of an OSRELEASE, or null. */
    static int[] kernelVersion(String release) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^(\\d+)\\.(\\d+)").matcher(release);
        return m.find() ? new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))} : null;
    }

    private static int compare(int[] v, int major, int minor) {
        return v[0] != major ? Integer.compare(v[0], major) : Integer.compare(v[1], minor);
    }
}
