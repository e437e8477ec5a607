package io.guestdump.core.paging;

import io.guestdump.memory.PhysRange;
import java.util.Arrays;

/**
 * QEMU's mapping list ({@code memory_mapping_list_add_merge_sorted}, reference §3.4) in a form that stays small
 * and fast for a million pages.
 *
 * <p>What QEMU keeps: a mapping is a run of pages contiguous in both physical and virtual space (one
 * {@code virt - phys} delta). A page that continues or overlaps a mapping of the same delta joins it; any other
 * page starts a new mapping. The list is ordered by physical start; mappings with the same start are ordered
 * newest first (QEMU inserts before the first mapping whose start is not below the new one).
 *
 * <p>How it is kept here: pages are appended as runs to parallel arrays (a page continuing the last run extends
 * it, QEMU's fast path), and from time to time the runs are <em>compacted</em>: sorted by (delta, virtual start)
 * and swept, so that runs of one delta that touch or overlap become one. Each run remembers when its first page
 * arrived; a merged run keeps the oldest, which is the mapping QEMU would have kept. {@link #toTable()} sorts the
 * compacted runs by physical start, newest first on ties. Scanning QEMU's linked list for every page costs
 * O(n²) for n mappings; this costs O(n log n).
 *
 * <p>Where the result differs from QEMU's, on purpose: QEMU extends one mapping without looking at the next, so
 * two mappings of one delta can end up touching or overlapping (the overlap stores no byte twice in the file but
 * describes it twice); here they become one mapping. And when QEMU merges a range that starts below a mapping,
 * it moves the mapping's virtual start down but not its physical start, so the mapping then describes the wrong
 * bytes; here both move. Neither happens in a walk of one vCPU.
 */
public final class MemoryMappingList {
    private static final int FIRST_CAPACITY = 64;
    private static final int MIN_COMPACT = 1 << 16;

    private long[] virt = new long[FIRST_CAPACITY];
    private long[] phys = new long[FIRST_CAPACITY];
    private long[] length = new long[FIRST_CAPACITY];
    private int[] seq = new int[FIRST_CAPACITY];
    private int count;
    private int compacted;
    private int nextSeq;
    private boolean lastIsFresh;

    /**
     * Adds {@code length} bytes mapped from {@code virt} to {@code phys}. Neither range may wrap past 2^64 (the
     * planner drops such leaves).
     */
    public void add(long virt, long phys, long length) {
        if (length <= 0) {
            throw new IllegalArgumentException("mapping length " + length + " is not positive");
        }
        PhysRange.ofLength(virt, length);
        PhysRange.ofLength(phys, length);
        if (lastIsFresh) {
            int last = count - 1;
            if (phys == this.phys[last] + this.length[last] && virt == this.virt[last] + this.length[last]) {
                this.length[last] += length;
                return;
            }
        }
        if (coveredByCompacted(virt, phys, length)) {
            // a later vCPU walking the kernel's shared tables: nothing new, and nothing to store
            lastIsFresh = false;
            return;
        }
        if (count == this.virt.length) {
            if (count - compacted >= Math.max(MIN_COMPACT, compacted)) {
                compact();
            }
            if (count == this.virt.length) {
                grow();
            }
        }
        this.virt[count] = virt;
        this.phys[count] = phys;
        this.length[count] = length;
        seq[count] = nextSeq++;
        count++;
        lastIsFresh = true;
    }

    /** Forgets every mapping. */
    public void clear() {
        count = 0;
        compacted = 0;
        nextSeq = 0;
        lastIsFresh = false;
    }

    /** Runs held now (after {@link #compact()}: the mappings). */
    public int runCount() {
        return count;
    }

    private void grow() {
        int capacity = Math.toIntExact(Math.min(Integer.MAX_VALUE - 8, (long) this.virt.length * 3 / 2 + 1));
        if (capacity <= count) {
            throw new IllegalStateException("more than " + count + " separate mappings");
        }
        virt = Arrays.copyOf(virt, capacity);
        phys = Arrays.copyOf(phys, capacity);
        length = Arrays.copyOf(length, capacity);
        seq = Arrays.copyOf(seq, capacity);
    }

    /**
     * Whether a run of the compacted prefix (sorted by delta, then virtual start) already holds every page of the
     * range with the same delta. Such a range changes nothing: the run that holds it is older.
     */
    private boolean coveredByCompacted(long virt, long phys, long length) {
        long delta = virt - phys;
        int lo = 0;
        int hi = compacted - 1;
        int best = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int c = Long.compareUnsigned(this.virt[mid] - this.phys[mid], delta);
            if (c == 0) {
                c = Long.compareUnsigned(this.virt[mid], virt);
            }
            if (c <= 0) {
                best = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return best >= 0 && this.virt[best] - this.phys[best] == delta
                && Long.compareUnsigned(virt + length, this.virt[best] + this.length[best]) <= 0;
    }

    /**
     * Merges every run of one delta that touches or overlaps another of the same delta, in place: besides the
     * runs themselves it needs two index arrays (8 bytes a run).
     */
    public void compact() {
        int[] order = IndexSort.sort(count, (a, b) -> {
            int c = Long.compareUnsigned(virt[a] - phys[a], virt[b] - phys[b]);
            return c != 0 ? c : Long.compareUnsigned(virt[a], virt[b]);
        });
        permute(order);
        int n = 0;
        for (int i = 0; i < count; i++) {
            if (n > 0) {
                int last = n - 1;
                long end = virt[last] + length[last];
                if (virt[i] - phys[i] == virt[last] - phys[last] && Long.compareUnsigned(virt[i], end) <= 0
                        && Long.compareUnsigned(phys[i], phys[last]) >= 0) {
                    long newEnd = virt[i] + length[i];
                    if (Long.compareUnsigned(newEnd, end) > 0) {
                        length[last] = newEnd - virt[last];
                    }
                    seq[last] = Math.min(seq[last], seq[i]);
                    continue;
                }
            }
            virt[n] = virt[i];
            phys[n] = phys[i];
            length[n] = length[i];
            seq[n] = seq[i];
            n++;
        }
        count = n;
        compacted = n;
        lastIsFresh = false;
    }

    /** Reorders the runs in place so that position k holds what was at {@code order[k]}; consumes {@code order}. */
    private void permute(int[] order) {
        for (int k = 0; k < count; k++) {
            if (order[k] == k) {
                continue;
            }
            long v = virt[k];
            long p = phys[k];
            long l = length[k];
            int s = seq[k];
            int j = k;
            while (true) {
                int from = order[j];
                order[j] = j;
                if (from == k) {
                    virt[j] = v;
                    phys[j] = p;
                    length[j] = l;
                    seq[j] = s;
                    break;
                }
                virt[j] = virt[from];
                phys[j] = phys[from];
                length[j] = length[from];
                seq[j] = seq[from];
                j = from;
            }
        }
    }

    /**
     * The merged mappings in QEMU's order: by physical start, newest first among equal starts. The table takes
     * over this list's arrays; the list is empty afterwards.
     */
    public MappingTable toTable() {
        compact();
        int[] order = IndexSort.sort(count, (a, b) -> {
            int c = Long.compareUnsigned(phys[a], phys[b]);
            return c != 0 ? c : Integer.compare(seq[b], seq[a]);
        });
        permute(order);
        MappingTable table = new MappingTable(phys, virt, length, count);
        virt = new long[FIRST_CAPACITY];
        phys = new long[FIRST_CAPACITY];
        length = new long[FIRST_CAPACITY];
        seq = new int[FIRST_CAPACITY];
        clear();
        return table;
    }

    /** A stable merge sort of indices 0..n-1 by a comparator on indices, without boxing. */
    static final class IndexSort {
        interface IndexComparator {
            int compare(int a, int b);
        }

        private IndexSort() {}

        static int[] sort(int n, IndexComparator cmp) {
            int[] a = new int[n];
            for (int i = 0; i < n; i++) {
                a[i] = i;
            }
            int[] b = new int[n];
            for (int width = 1; width < n; width *= 2) {
                for (int lo = 0; lo < n; lo += 2 * width) {
                    int mid = Math.min(lo + width, n);
                    int hi = Math.min(lo + 2 * width, n);
                    int i = lo;
                    int j = mid;
                    int k = lo;
                    while (i < mid && j < hi) {
                        b[k++] = cmp.compare(a[i], a[j]) <= 0 ? a[i++] : a[j++];
                    }
                    while (i < mid) {
                        b[k++] = a[i++];
                    }
                    while (j < hi) {
                        b[k++] = a[j++];
                    }
                }
                int[] t = a;
                a = b;
                b = t;
            }
            return a;
        }
    }
}
