package io.guestdump.core.kernel;

import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.GuestMemory;
import java.util.Arrays;
import java.util.List;

/**
 * What each guest RAM page is, four bits a page: a {@link PageClass} (three bits) and whether the page is all
 * zeros (one bit, only where zero pages were looked for). Pages are indexed by their place in RAM, not by pfn, so a
 * guest with RAM far above 0 costs nothing for the hole below it.
 *
 * <p>A pfn is in RAM when its first byte lies in a block (makedumpfile {@code is_in_segs}).
 */
public final class PageClasses {
    private final int pageShift;
    private final long[] firstPfn;
    private final long[] endPfn;
    private final long[] base;
    private final long pages;
    private final byte[] nibbles;
    private final long[] counts = new long[PageClass.values().length];
    private long zero;

    /** Every page of {@code memory} kept, not zero. */
    public PageClasses(GuestMemory memory, int pageShift) {
        this.pageShift = pageShift;
        List<GuestBlock> blocks = memory.blocks();
        firstPfn = new long[blocks.size()];
        endPfn = new long[blocks.size()];
        base = new long[blocks.size()];
        long total = 0;
        long mask = (1L << pageShift) - 1;
        for (int i = 0; i < blocks.size(); i++) {
            GuestBlock b = blocks.get(i);
            long first = (b.range().start() + mask) >>> pageShift;
            long end = b.range().end() == 0 ? 1L << (64 - pageShift) : (b.range().end() + mask) >>> pageShift;
            if (i > 0 && first < endPfn[i - 1]) {
                first = endPfn[i - 1]; // two blocks sharing a page: it is counted once
            }
            firstPfn[i] = first;
            endPfn[i] = Math.max(first, end);
            base[i] = total;
            total += endPfn[i] - first;
        }
        if (total > 2L * Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException(total + " guest pages are more than dump levels handle");
        }
        pages = total;
        nibbles = new byte[(int) ((total + 1) / 2)];
        counts[PageClass.KEPT.ordinal()] = total;
    }

    /** log2 of the page size. */
    public int pageShift() {
        return pageShift;
    }

    /** Pages in RAM. */
    public long pages() {
        return pages;
    }

    /** One past the highest pfn in RAM (makedumpfile {@code max_mapnr}). */
    public long maxMapnr() {
        return endPfn.length == 0 ? 0 : endPfn[endPfn.length - 1];
    }

    /** The RAM runs as {@code [first, end)} pfn pairs, ascending. */
    public int runCount() {
        return firstPfn.length;
    }

    /** First pfn of run {@code i}. */
    public long runFirst(int i) {
        return firstPfn[i];
    }

    /** End pfn of run {@code i}. */
    public long runEnd(int i) {
        return endPfn[i];
    }

    /** The index of {@code pfn} among RAM pages, or -1 when it is not in RAM. */
    public long index(long pfn) {
        int lo = 0;
        int hi = firstPfn.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (pfn < firstPfn[mid]) {
                hi = mid - 1;
            } else if (pfn >= endPfn[mid]) {
                lo = mid + 1;
            } else {
                return base[mid] + (pfn - firstPfn[mid]);
            }
        }
        return -1;
    }

    /** Whether {@code pfn} is in RAM. */
    public boolean inRam(long pfn) {
        return index(pfn) >= 0;
    }

    /** The class of a RAM page ({@link PageClass#KEPT} for a pfn not in RAM). */
    public PageClass classOf(long pfn) {
        long i = index(pfn);
        return i < 0 ? PageClass.KEPT : PageClass.CODES[nibble(i) & 7];
    }

    /** The four bits of the RAM page at {@code index} (see {@link #index}): class ordinal, and 8 when all zeros. */
    int codeAt(long index) {
        return nibble(index);
    }

    /** Whether the page was found to be all zeros. */
    public boolean isZero(long pfn) {
        long i = index(pfn);
        return i >= 0 && (nibble(i) & 8) != 0;
    }

    /**
     * Sets the class of a kept RAM page; returns false (and changes nothing) for a pfn not in RAM or a page already
     * classed, as makedumpfile's bitmap only counts a bit it clears.
     */
    public boolean exclude(long pfn, PageClass c) {
        long i = index(pfn);
        if (i < 0 || (nibble(i) & 7) != 0) {
            return false;
        }
        setNibble(i, (nibble(i) & 8) | c.ordinal());
        counts[PageClass.KEPT.ordinal()]--;
        counts[c.ordinal()]++;
        return true;
    }

    /** Marks a RAM page as all zeros. */
    public void markZero(long pfn) {
        long i = index(pfn);
        if (i >= 0 && (nibble(i) & 8) == 0) {
            setNibble(i, nibble(i) | 8);
            zero++;
        }
    }

    /** Pages of a class. */
    public long count(PageClass c) {
        return counts[c.ordinal()];
    }

    /** Pages marked all zeros, whatever their class. */
    public long zeroPages() {
        return zero;
    }

    /** Zero pages of a class. */
    public long zeroPages(PageClass c) {
        long n = 0;
        for (int r = 0; r < firstPfn.length; r++) {
            for (long i = base[r], e = base[r] + endPfn[r] - firstPfn[r]; i < e; i++) {
                int v = nibble(i);
                if ((v & 8) != 0 && (v & 7) == c.ordinal()) {
                    n++;
                }
            }
        }
        return n;
    }

    /** Heap bytes of the class table. */
    public long tableBytes() {
        return nibbles.length + 24L * firstPfn.length;
    }

    private int nibble(long i) {
        int b = nibbles[(int) (i >>> 1)];
        return (i & 1) == 0 ? b & 0xf : (b >>> 4) & 0xf;
    }

    private void setNibble(long i, int v) {
        int at = (int) (i >>> 1);
        int b = nibbles[at];
        b = (i & 1) == 0 ? (b & 0xf0) | v : (b & 0x0f) | (v << 4);
        nibbles[at] = (byte) b;
    }

    @Override
    public String toString() {
        return "PageClasses" + Arrays.toString(counts) + " zero=" + zero;
    }
}
