package io.guestdump.core.kernel;

import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.PageTableWalker;
import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.PhysRange;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * The guest kernel's virtual address space, for reading kernel data ({@code mem_section}, {@code struct page},
 * {@code init_uts_ns}, ...) from guest-physical memory.
 *
 * <p>One vCPU's page tables are walked once, with the plugin's {@link PageTableWalker} (the walk {@code --paging}
 * uses; walkers that cannot see the translation registers fall back to VMCOREINFO themselves). The leaves are
 * kept as runs contiguous in both spaces, sorted by virtual address, in three {@code long} arrays (24 bytes a
 * run; a kernel mapped with large pages has a few thousand). {@link #translate} is a binary search.
 *
 * <p>The walk sees what that vCPU's tables map; kernel mappings are shared by every address space, so any vCPU
 * running kernel or user code will do. Leaves the walker reports are taken as they come: a leaf that maps device
 * memory translates, but reading it fails like any read of an address no RAM block holds.
 */
public final class KernelAddressSpace {
    /** Skip reasons kept for messages; {@link #skipped()} counts all of them. */
    public static final int KEPT_SKIP_REASONS = 10;

    private final GuestMemory memory;
    private final long[] virt;
    private final long[] phys;
    private final long[] length;
    private final int size;
    private final int cpu;
    private final long skipped;
    private final List<String> skipReasons;

    private KernelAddressSpace(GuestMemory memory, long[] virt, long[] phys, long[] length, int size, int cpu,
            long skipped, List<String> skipReasons) {
        this.memory = memory;
        this.virt = virt;
        this.phys = phys;
        this.length = length;
        this.size = size;
        this.cpu = cpu;
        this.skipped = skipped;
        this.skipReasons = List.copyOf(skipReasons);
    }

    /**
     * Walks the page tables of the guest's first vCPU that has paging enabled.
     *
     * @throws UnsupportedGuestException when no vCPU has paging enabled (there is no kernel address space to
     *                                   read), or when the walker cannot find the tables
     * @throws IOException               when reading a table fails
     */
    public static KernelAddressSpace walk(PageTableWalker walker, GuestState guest) throws IOException {
        for (VcpuState c : guest.cpus()) {
            if (walker.pagingEnabled(c)) {
                return walk(walker, guest, c);
            }
        }
        throw new UnsupportedGuestException("cannot read the guest kernel's data: none of the guest's "
                + guest.cpus().size() + " vCPUs has paging enabled (the guest is in firmware or a boot loader, or"
                + " the source gave no control registers); dump it without the options that read kernel data");
    }

    /** Walks the page tables of the given vCPU. */
    public static KernelAddressSpace walk(PageTableWalker walker, GuestState guest, VcpuState cpu)
            throws IOException {
        Collector c = new Collector();
        walker.walk(guest, cpu, guest.memory(), c);
        return c.finish(guest.memory(), cpu.index());
    }

    /**
     * An address space of explicit mappings (any order; where two overlap, the first given wins), for callers
     * that know the translation without a walk.
     */
    public static KernelAddressSpace of(GuestMemory memory, long[] virt, long[] phys, long[] length) {
        if (virt.length != phys.length || virt.length != length.length) {
            throw new IllegalArgumentException("mapping arrays differ in length: " + virt.length + ", "
                    + phys.length + ", " + length.length);
        }
        Collector c = new Collector();
        for (int i = 0; i < virt.length; i++) {
            c.map(virt[i], phys[i], length[i]);
        }
        return c.finish(memory, -1);
    }

    /** The guest-physical address of {@code vaddr}, or empty when no leaf maps it. */
    public OptionalLong translate(long vaddr) {
        int i = find(vaddr);
        return i < 0 ? OptionalLong.empty() : OptionalLong.of(phys[i] + (vaddr - virt[i]));
    }

    /**
     * Fills {@code dst} from {@code vaddr} on, crossing page and mapping boundaries.
     *
     * @throws UnmappedAddressException when some byte is not mapped
     * @throws GuestMemory.UnbackedAddressException when some byte maps to no RAM block
     */
    public void read(long vaddr, ByteBuffer dst) throws IOException {
        long at = vaddr;
        while (dst.hasRemaining()) {
            int i = find(at);
            if (i < 0) {
                throw new UnmappedAddressException(at);
            }
            long inRun = virt[i] + length[i] - at; // 0 means 2^64 bytes left (a run ending at the top)
            int n = inRun <= 0 || inRun > dst.remaining() ? dst.remaining() : (int) inRun;
            ByteBuffer part = dst.slice(dst.position(), n);
            memory.read(phys[i] + (at - virt[i]), part);
            dst.position(dst.position() + n);
            at += n;
        }
    }

    /** Fills {@code dst} from {@code vaddr} on; see {@link #read(long, ByteBuffer)}. */
    public void read(long vaddr, byte[] dst) throws IOException {
        read(vaddr, ByteBuffer.wrap(dst));
    }

    /** A 64-bit value at {@code vaddr} in the guest's byte order. */
    public long readLong(long vaddr, ByteOrder order) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(new byte[Long.BYTES]).order(order);
        read(vaddr, b);
        return b.getLong(0);
    }

    /** An unsigned 32-bit value at {@code vaddr} in the guest's byte order. */
    public long readInt(long vaddr, ByteOrder order) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(new byte[Integer.BYTES]).order(order);
        read(vaddr, b);
        return Integer.toUnsignedLong(b.getInt(0));
    }

    /** The guest-physical memory read through. */
    public GuestMemory memory() {
        return memory;
    }

    /** Runs held (leaves contiguous in both spaces are one run). */
    public int runCount() {
        return size;
    }

    /** The vCPU whose tables were walked, or -1 for {@link #of}. */
    public int cpu() {
        return cpu;
    }

    /** Table entries the walk could not follow. */
    public long skipped() {
        return skipped;
    }

    /** The first {@link #KEPT_SKIP_REASONS} skipped entries, as "entry at 0x…: reason". */
    public List<String> skipReasons() {
        return skipReasons;
    }

    /** Heap bytes of the run arrays. */
    public long arrayBytes() {
        return 24L * virt.length;
    }

    /** First virtual address of run {@code i} (runs are sorted by it), {@code 0 <= i < runCount()}. */
    public long runVirt(int i) {
        return virt[Objects.checkIndex(i, size)];
    }

    /** First guest-physical address of run {@code i}. */
    public long runPhys(int i) {
        return phys[Objects.checkIndex(i, size)];
    }

    /** Bytes of run {@code i}. */
    public long runLength(int i) {
        return length[Objects.checkIndex(i, size)];
    }

    /** The run holding {@code vaddr}, or -1. */
    private int find(long vaddr) {
        int lo = 0;
        int hi = size - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(virt[mid], vaddr) <= 0) {
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        if (hi < 0) {
            return -1;
        }
        long off = vaddr - virt[hi];
        // length 0 stands for nothing; a run never reaches 2^64 bytes, so an unsigned compare suffices
        return Long.compareUnsigned(off, length[hi]) < 0 ? hi : -1;
    }

    /** Thrown when a read touches a virtual address no leaf maps. */
    public static final class UnmappedAddressException extends IOException {
        private static final long serialVersionUID = 1L;
        private final long address;

        UnmappedAddressException(long address) {
            super("guest virtual address " + PhysRange.hex(address) + " is not mapped by the guest's page tables");
            this.address = address;
        }

        /** The first virtual address that was not mapped. */
        public long address() {
            return address;
        }
    }

    /** Appends leaves, joining one that continues the previous in both spaces; sorts at the end. */
    private static final class Collector implements PageTableWalker.Sink {
        long[] v = new long[256];
        long[] p = new long[256];
        long[] l = new long[256];
        int n;
        boolean sorted = true;
        long skipped;
        final List<String> reasons = new ArrayList<>();

        @Override
        public void map(long virt, long phys, long length) {
            if (length <= 0 || virt + length != 0 && Long.compareUnsigned(virt + length, virt) < 0) {
                return; // empty, or wraps past 2^64: no kernel object lives there
            }
            if (n > 0) {
                int last = n - 1;
                long lastEnd = v[last] + l[last];
                if (virt == lastEnd && phys == p[last] + l[last] && lastEnd != 0) {
                    l[last] += length;
                    return;
                }
                if (Long.compareUnsigned(virt, v[last]) < 0) {
                    sorted = false;
                }
            }
            if (n == v.length) {
                int cap = Math.toIntExact(Math.min(Integer.MAX_VALUE - 8L, (long) n * 2));
                v = Arrays.copyOf(v, cap);
                p = Arrays.copyOf(p, cap);
                l = Arrays.copyOf(l, cap);
            }
            v[n] = virt;
            p[n] = phys;
            l[n] = length;
            n++;
        }

        @Override
        public void deviceMemory(long virt, long phys, long length, long tableEntryAddress) {
            // the kernel's mappings of device memory: nothing to read there, and nothing wrong
        }

        @Override
        public void skipped(long tableEntryAddress, String reason) {
            skipped++;
            if (reasons.size() < KEPT_SKIP_REASONS) {
                reasons.add("entry at " + PhysRange.hex(tableEntryAddress) + ": " + reason);
            }
        }

        KernelAddressSpace finish(GuestMemory memory, int cpu) {
            if (!sorted) {
                sortByVirt();
            }
            // overlaps: the run seen first keeps its bytes (stable sort), later runs are trimmed or dropped
            int k = 0;
            for (int i = 0; i < n; i++) {
                if (k > 0) {
                    long end = v[k - 1] + l[k - 1];
                    if (end == 0) {
                        continue; // the previous run reaches the top of the address space
                    }
                    if (Long.compareUnsigned(v[i], end) < 0) {
                        long iEnd = v[i] + l[i];
                        if (iEnd != 0 && Long.compareUnsigned(iEnd, end) <= 0) {
                            continue;
                        }
                        long cut = end - v[i];
                        v[i] += cut;
                        p[i] += cut;
                        l[i] -= cut;
                    }
                    if (v[i] == end && p[i] == p[k - 1] + l[k - 1]) {
                        l[k - 1] += l[i];
                        continue;
                    }
                }
                v[k] = v[i];
                p[k] = p[i];
                l[k] = l[i];
                k++;
            }
            return new KernelAddressSpace(memory, Arrays.copyOf(v, k), Arrays.copyOf(p, k), Arrays.copyOf(l, k), k,
                    cpu, skipped, reasons);
        }

        /** A stable merge sort of the runs by unsigned virtual start, without boxing. */
        private void sortByVirt() {
            int[] a = new int[n];
            int[] b = new int[n];
            for (int i = 0; i < n; i++) {
                a[i] = i;
            }
            for (int width = 1; width < n; width *= 2) {
                for (int lo = 0; lo < n; lo += 2 * width) {
                    int mid = Math.min(lo + width, n);
                    int hi = Math.min(lo + 2 * width, n);
                    int i = lo;
                    int j = mid;
                    int k = lo;
                    while (i < mid && j < hi) {
                        b[k++] = Long.compareUnsigned(v[a[i]], v[a[j]]) <= 0 ? a[i++] : a[j++];
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
            long[] nv = new long[n];
            long[] np = new long[n];
            long[] nl = new long[n];
            for (int i = 0; i < n; i++) {
                nv[i] = v[a[i]];
                np[i] = p[a[i]];
                nl[i] = l[a[i]];
            }
            v = nv;
            p = np;
            l = nl;
        }
    }
}
