package io.guestdump.core.kernel;

import io.guestdump.arch.api.ArchitectureSupport;
import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.GuestVmcoreinfo;
import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.PageTableWalker;
import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.core.vmcore.ProgressListener;
import io.guestdump.memory.PhysRange;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Builds a dump level's page filter for a guest: its VMCOREINFO, its page tables, its {@code struct page}s. */
public final class DumpLevels {
    private static final Logger LOG = LoggerFactory.getLogger(DumpLevels.class);

    private DumpLevels() {}

    /**
     * The filter of {@code level} for this guest.
     *
     * @param zeroPages read the pages still kept and leave the all-zero ones out (ELF output of level bit 1)
     * @throws UnsupportedGuestException when the guest lacks what the level needs, naming it
     */
    public static LevelFilter filter(GuestState state, ArchitectureSupport arch, DumpTarget target, DumpLevel level,
            Optional<PhysRange> window, boolean zeroPages) {
        return filter(state, arch, target, level, window, zeroPages, ProgressListener.NONE);
    }

    /**
     * The filter of {@code level} for this guest; the {@code struct page} scan and the zero-page search report to
     * {@code progress}, each as a phase of its own.
     */
    public static LevelFilter filter(GuestState state, ArchitectureSupport arch, DumpTarget target, DumpLevel level,
            Optional<PhysRange> window, boolean zeroPages, ProgressListener progress) {
        PageClassifier.Result r = classify(state, arch, target, level, window, progress);
        if (zeroPages) {
            try {
                PageClassifier.markZeroPages(state.memory(), r.classes(), false, window, progress);
            } catch (IOException e) {
                throw new InvalidInputException("--dump-level " + level.value() + ": reading guest memory to find "
                        + "zero pages failed: " + e.getMessage(), e);
            }
        }
        report(level, r);
        return new LevelFilter(level, r, zeroPages);
    }

    /** Classes the pages at {@code level} (no zero pages). */
    public static PageClassifier.Result classify(GuestState state, ArchitectureSupport arch, DumpTarget target,
            DumpLevel level, Optional<PhysRange> window) {
        return classify(state, arch, target, level, window, ProgressListener.NONE);
    }

    /** Classes the pages at {@code level} (no zero pages), reporting the scan to {@code progress}. */
    public static PageClassifier.Result classify(GuestState state, ArchitectureSupport arch, DumpTarget target,
            DumpLevel level, Optional<PhysRange> window, ProgressListener progress) {
        GuestVmcoreinfo vi = GuestVmcoreinfo.of(state).orElse(null);
        if (vi == null) {
            vi = GuestVmcoreinfo.parse("PAGESIZE=" + target.pageSize() + "\n");
            if (PageClassifier.scans(vi, level)) {
                throw new UnsupportedGuestException("--dump-level " + level.value() + " needs the guest kernel's "
                        + "VMCOREINFO (to find and read its struct page array), and this guest has none: the source "
                        + "carries none and none was found in its memory; levels possible without it: 0, 1 (zero "
                        + "pages); give the guest -device vmcoreinfo, or dump at level 1");
            }
        }
        Supplier<KernelAddressSpace> space = () -> {
            PageTableWalker walker = arch.pageTableWalker().orElseThrow(() -> new UnsupportedGuestException(
                    "--dump-level " + level.value() + " reads the guest kernel's struct page array through its page"
                            + " tables, and the " + arch.id() + " plugin has no page-table walker for "
                            + state.machine() + "; dump at level 0 or 1"));
            try {
                long t0 = System.nanoTime();
                KernelAddressSpace as = KernelAddressSpace.walk(walker, state);
                LOG.debug("--dump-level: walked vCPU {}'s page tables in {} ms: {} runs", as.cpu(),
                        (System.nanoTime() - t0) / 1_000_000, as.runCount());
                if (as.skipped() > 0) {
                    LOG.warn("--dump-level: page-table walk of vCPU {}: {} entries skipped; first: {}", as.cpu(),
                            as.skipped(), String.join("; ", as.skipReasons()));
                }
                return as;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
        try {
            long t0 = System.nanoTime();
            PageClassifier.Result r = PageClassifier.classify(state.memory(), vi, level, space,
                    arch.kernelWordSize(state, target), target.data().order(), window, progress);
            LOG.debug("--dump-level {}: classed {} pages in {} ms", level.value(), r.classes().pages(),
                    (System.nanoTime() - t0) / 1_000_000);
            return r;
        } catch (IOException | UncheckedIOException e) {
            String msg = e instanceof UncheckedIOException u ? u.getCause().getMessage() : e.getMessage();
            throw new InvalidInputException("--dump-level " + level.value() + ": reading the guest kernel's page "
                    + "tables or mem_section failed: " + msg + "; dump at level 0 or 1", e);
        }
    }

    /**
     * The dry run's report: the pages classed at the widest level the guest allows (every page read for zeros),
     * and at {@code level} itself for its exact count.
     *
     * @param elfBytes the ELF size at {@code level}, or -1
     */
    public static LevelReport report(GuestState state, ArchitectureSupport arch, DumpTarget target, DumpLevel level,
            Optional<PhysRange> window, java.util.function.ToLongFunction<LevelFilter> elfBytes) {
        GuestVmcoreinfo vi = GuestVmcoreinfo.of(state)
                .orElse(GuestVmcoreinfo.parse("PAGESIZE=" + target.pageSize() + "\n"));
        java.util.List<Integer> possible = PageClassifier.possibleLevels(vi);
        int widest = possible.contains(DumpLevel.MAX_DUMP_LEVEL) ? DumpLevel.MAX_DUMP_LEVEL : level.value();
        PageClassifier.Result wide = classify(state, arch, target, new DumpLevel(widest), window);
        PageClassifier.Result exact = widest == level.value() ? wide : classify(state, arch, target, level, window);
        try {
            PageClassifier.markZeroPages(state.memory(), wide.classes(), true, window);
            if (exact != wide) {
                PageClassifier.markZeroPages(state.memory(), exact.classes(), false, window);
            }
        } catch (IOException e) {
            throw new InvalidInputException("--dump-level: reading guest memory to find zero pages failed: "
                    + e.getMessage(), e);
        }
        PageClasses c = wide.classes();
        long[][] m = new long[PageClass.values().length][2];
        long ram = 0;
        for (int r = 0; r < c.runCount(); r++) {
            long first = c.runFirst(r);
            long end = c.runEnd(r);
            if (window.isPresent()) {
                first = Math.max(first, window.get().start() >>> c.pageShift());
                end = Math.min(end, ((window.get().end() - 1) >>> c.pageShift()) + 1);
            }
            for (long p = first; p < end; p++) {
                m[c.classOf(p).ordinal()][c.isZero(p) ? 1 : 0]++;
                ram++;
            }
        }
        long[] perLevel = new long[DumpLevel.MAX_DUMP_LEVEL + 1];
        for (int l = 0; l <= DumpLevel.MAX_DUMP_LEVEL; l++) {
            if (!possible.contains(l) || (l & ~widest) != 0) {
                perLevel[l] = -1;
                continue;
            }
            boolean scan = PageClassifier.scans(vi, new DumpLevel(l));
            long kept = 0;
            for (PageClass pc : PageClass.values()) {
                boolean out = scan && switch (pc) {
                    case KEPT -> false;
                    case CACHE -> (l & (DumpLevel.DL_EXCLUDE_CACHE | DumpLevel.DL_EXCLUDE_CACHE_PRI)) != 0;
                    case CACHE_PRIVATE -> (l & DumpLevel.DL_EXCLUDE_CACHE_PRI) != 0;
                    case USER -> (l & DumpLevel.DL_EXCLUDE_USER_DATA) != 0;
                    case FREE -> (l & DumpLevel.DL_EXCLUDE_FREE) != 0;
                    case HWPOISON, OFFLINE -> true;
                };
                if (!out) {
                    kept += m[pc.ordinal()][0] + ((l & DumpLevel.DL_EXCLUDE_ZERO) != 0 ? 0 : m[pc.ordinal()][1]);
                }
            }
            perLevel[l] = kept;
        }
        LevelFilter f = new LevelFilter(level, exact, level.has(DumpLevel.DL_EXCLUDE_ZERO));
        long exactKept = 0;
        PageClasses ec = exact.classes();
        for (int r = 0; r < ec.runCount(); r++) {
            long first = ec.runFirst(r);
            long end = ec.runEnd(r);
            if (window.isPresent()) {
                first = Math.max(first, window.get().start() >>> ec.pageShift());
                end = Math.min(end, ((window.get().end() - 1) >>> ec.pageShift()) + 1);
            }
            for (long p = first; p < end; p++) {
                if (f.kept(p)) {
                    exactKept++;
                }
            }
        }
        return new LevelReport(level.value(), 1L << c.pageShift(), ram, widest, m, perLevel, exactKept,
                wide.unreadable(), wide.badOrders(), elfBytes.applyAsLong(f));
    }

    private static void report(DumpLevel level, PageClassifier.Result r) {
        PageClasses c = r.classes();
        LOG.debug("--dump-level {}: {} pages: kept {}, cache {}, cache with private {}, user {}, free {}, hwpoison {},"
                + " offline {}, zero {}", level.value(), c.pages(), c.count(PageClass.KEPT), c.count(PageClass.CACHE),
                c.count(PageClass.CACHE_PRIVATE), c.count(PageClass.USER), c.count(PageClass.FREE),
                c.count(PageClass.HWPOISON), c.count(PageClass.OFFLINE), c.zeroPages());
        if (r.problemCount() > 0) {
            LOG.warn("--dump-level {}: the guest's struct page array is damaged in places; {} pages kept because "
                    + "their struct page could not be read, {} free blocks kept for an impossible order; first: {}",
                    level.value(), r.unreadable(), r.badOrders(), String.join("; ", r.problems()));
        }
    }
}
