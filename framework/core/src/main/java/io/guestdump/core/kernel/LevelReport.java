package io.guestdump.core.kernel;

import java.util.Locale;

/**
 * A dry run's page-class report, like {@code makedumpfile --mem-usage}: the pages of each class (classed at the
 * widest level the guest allows), and what each level would keep.
 *
 * @param level       the level asked for
 * @param pageSize    the kernel's page size
 * @param ramPages    pages in RAM (in the window, when one was given)
 * @param widest      the level the classes below were found at
 * @param matrix      pages by [class ordinal][0 not zero, 1 all zeros], at {@code widest}
 * @param keptAtLevel pages each level 0..31 would keep (-1 where the guest lacks what the level needs)
 * @param exactKept   pages the asked level keeps, classed at that level itself
 * @param unreadable  pages kept because their struct page could not be read
 * @param badOrders   free blocks kept for an impossible order
 * @param elfBytes    the ELF file the asked level would write, or -1 when not planned
 */
public record LevelReport(int level, long pageSize, long ramPages, int widest, long[][] matrix, long[] keptAtLevel,
        long exactKept, long unreadable, long badOrders, long elfBytes) {

    /** Pages of a class, zero or not. */
    public long count(PageClass c) {
        return matrix[c.ordinal()][0] + matrix[c.ordinal()][1];
    }

    /** Pages that are all zeros and otherwise kept (what bit 1 adds). */
    public long zeroKept() {
        return matrix[PageClass.KEPT.ordinal()][1];
    }

    /** The report as text. */
    public String toText() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "dry run: nothing written; page size %d, %d pages (%s) in RAM%n",
                pageSize, ramPages, human(ramPages * pageSize)));
        sb.append(String.format(Locale.ROOT, "page classes (as level %d finds them; makedumpfile --mem-usage):%n",
                widest));
        sb.append(String.format(Locale.ROOT, "%-16s%-16s%-12s%s%n", "TYPE", "PAGES", "EXCLUDABLE", "DESCRIPTION"));
        row(sb, "ZERO", zeroKept(), "yes", "Pages filled with zero (level bit 1)");
        row(sb, "NON_PRI_CACHE", count(PageClass.CACHE), "yes", "Cache pages without private flag (bit 2)");
        row(sb, "PRI_CACHE", count(PageClass.CACHE_PRIVATE), "yes", "Cache pages with private flag (bit 4)");
        row(sb, "USER", count(PageClass.USER), "yes", "User process pages (bit 8)");
        row(sb, "FREE", count(PageClass.FREE), "yes", "Free pages (bit 16)");
        row(sb, "HWPOISON", count(PageClass.HWPOISON), "always", "Hardware-poisoned pages");
        row(sb, "OFFLINE", count(PageClass.OFFLINE), "always", "Logically offline pages");
        row(sb, "KERN_DATA", count(PageClass.KEPT) - zeroKept(), "no", "Dumpable kernel data (kept)");
        if (unreadable > 0 || badOrders > 0) {
            sb.append(String.format(Locale.ROOT, "damaged struct page array: %d pages kept unread, %d free blocks "
                    + "kept for an impossible order%n", unreadable, badOrders));
        }
        sb.append(String.format(Locale.ROOT, "level %d keeps %d pages (%s of guest memory)%s%n", level, exactKept,
                human(exactKept * pageSize), elfBytes >= 0 ? String.format(Locale.ROOT,
                        "; the ELF file would be %d bytes (%s)", elfBytes, human(elfBytes)) : ""));
        sb.append(String.format(Locale.ROOT, "%-6s%-14s%s%n", "LEVEL", "PAGES", "SIZE"));
        for (int l = 0; l < keptAtLevel.length; l++) {
            if (keptAtLevel[l] < 0) {
                sb.append(String.format(Locale.ROOT, "%-6d%-14s%s%n", l, "-", "(VMCOREINFO lacks what it needs)"));
            } else {
                sb.append(String.format(Locale.ROOT, "%-6d%-14d%s%n", l, keptAtLevel[l],
                        human(keptAtLevel[l] * pageSize)));
            }
        }
        return sb.toString();
    }

    private static void row(StringBuilder sb, String type, long pages, String excl, String desc) {
        sb.append(String.format(Locale.ROOT, "%-16s%-16d%-12s%s%n", type, pages, excl, desc));
    }

    static String human(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
