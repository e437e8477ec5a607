package io.guestdump.core.kernel;

import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.MemoryMapping;
import io.guestdump.memory.PhysRange;
import java.util.ArrayList;
import java.util.List;

/**
 * The pages a dump at some level keeps, and how each output format leaves the others out.
 *
 * @param level        the dump level
 * @param scan         what the {@code struct page} scan found
 * @param zeroExcluded whether pages found all zeros are left out here (ELF); the kdump writer instead points them
 *                     at one shared zero page, as makedumpfile does, so they stay in its bitmap
 */
public record LevelFilter(DumpLevel level, PageClassifier.Result scan, boolean zeroExcluded) {
    /** makedumpfile's {@code PFN_EXCLUDED}: fewer excluded pages in a row than this are written anyway in ELF. */
    public static final int PFN_EXCLUDED = 256;

    /** The page classes. */
    public PageClasses classes() {
        return scan.classes();
    }

    /** Whether the page at {@code pfn} is dumped (a pfn not in RAM counts as dumped; it is not in any block). */
    public boolean kept(long pfn) {
        PageClasses c = scan.classes();
        long i = c.index(pfn);
        if (i < 0) {
            return true;
        }
        int code = c.codeAt(i);
        return (code & 7) == 0 && !(zeroExcluded && (code & 8) != 0);
    }

    /**
     * The ELF layout of {@code makedumpfile -E -d}: each block (an input PT_LOAD) is cut where 256 or more pages
     * in a row are left out; shorter runs of left-out pages are written with their data. Each piece is one
     * PT_LOAD whose {@code p_memsz} runs on over the left-out pages after it (they read as zeros) and whose
     * {@code p_filesz} stops before them.
     *
     * @param blocks the blocks to dump, ascending
     * @return the blocks to store and one identity mapping per PT_LOAD
     */
    public ElfPieces elfPieces(List<GuestBlock> blocks) {
        int shift = scan.classes().pageShift();
        long ps = 1L << shift;
        List<GuestBlock> stored = new ArrayList<>();
        List<MemoryMapping> loads = new ArrayList<>();
        for (GuestBlock b : blocks) {
            long start = b.range().start();
            long end = b.range().end();
            long pfnStart = start >>> shift;
            long pfnEnd = end >>> shift;
            long fracHead = ps - (start & (ps - 1));
            long fracTail = end & (ps - 1);
            long memsz = 0;
            long filesz = 0;
            if (fracHead != ps) {
                memsz = fracHead;
                filesz = fracHead;
                pfnStart++;
            }
            if (fracTail != 0) {
                pfnEnd++;
            }
            long seg = start;
            long excluded = 0;
            for (long pfn = pfnStart; pfn < pfnEnd; pfn++) {
                long pageLen = pfn == pfnEnd - 1 && fracTail != 0 ? fracTail : ps;
                if (!kept(pfn)) {
                    excluded++;
                    memsz += pageLen;
                    continue;
                }
                if (excluded == 0) {
                    memsz += pageLen;
                    filesz += pageLen;
                    continue;
                }
                if (excluded < PFN_EXCLUDED) {
                    memsz += pageLen;
                    filesz += ps * excluded + pageLen;
                    excluded = 0;
                    continue;
                }
                emit(b, seg, memsz, filesz, stored, loads);
                seg += memsz;
                excluded = 0;
                memsz = pageLen;
                filesz = pageLen;
            }
            emit(b, seg, memsz, filesz, stored, loads);
        }
        return new ElfPieces(stored, loads);
    }

    private static void emit(GuestBlock b, long seg, long memsz, long filesz, List<GuestBlock> stored,
            List<MemoryMapping> loads) {
        if (memsz == 0) {
            return;
        }
        if (filesz > 0) {
            stored.add(b.clip(PhysRange.ofLength(seg, filesz)));
        }
        loads.add(new MemoryMapping(seg, seg, memsz));
    }

    /**
     * Paging mode: the page-table mappings cut to the stored pieces; what maps only left-out memory goes.
     *
     * @param mappings the walk's mappings
     * @param stored   {@link ElfPieces#stored()}
     */
    public static List<MemoryMapping> clipMappings(List<MemoryMapping> mappings, List<GuestBlock> stored) {
        long[] starts = new long[stored.size()];
        for (int i = 0; i < starts.length; i++) {
            starts[i] = stored.get(i).range().start();
        }
        List<MemoryMapping> out = new ArrayList<>();
        for (MemoryMapping m : mappings) {
            long pStart = m.phys();
            long pEnd = m.phys() + m.length();
            int i = floor(starts, pStart);
            if (i < 0) {
                i = 0;
            }
            for (; i < starts.length; i++) {
                PhysRange r = stored.get(i).range();
                if (Long.compareUnsigned(r.start(), pEnd) >= 0) {
                    break;
                }
                long s = Long.compareUnsigned(r.start(), pStart) > 0 ? r.start() : pStart;
                long e = Long.compareUnsigned(r.end(), pEnd) < 0 ? r.end() : pEnd;
                if (Long.compareUnsigned(s, e) < 0) {
                    out.add(new MemoryMapping(s, m.virt() + (s - pStart), e - s));
                }
            }
        }
        return out;
    }

    private static int floor(long[] a, long v) {
        int lo = 0;
        int hi = a.length - 1;
        int best = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(a[mid], v) <= 0) {
                best = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return best;
    }

    /**
     * What an ELF dump stores at a level.
     *
     * @param stored the pieces of guest memory written, ascending
     * @param loads  the PT_LOADs (identity mappings), in order
     */
    public record ElfPieces(List<GuestBlock> stored, List<MemoryMapping> loads) {}
}
