package io.guestdump.core.paging;

import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.PageTableWalker;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.core.vmcore.ProgressListener;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.PhysRange;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Paging mode's mapping list (QEMU {@code qemu_get_guest_memory_mapping}, reference §3.3): the first vCPU whose
 * paging is enabled and every vCPU after it are walked (earlier ones are not, as in QEMU); with no such vCPU, one
 * identity mapping per guest-physical block. Leaves whose first byte is not guest memory (device memory, QEMU's
 * {@code cpu_physical_memory_is_io}) are left out. What remains is merged as QEMU merges it
 * ({@link MemoryMappingList}) and then clipped to the begin/length window.
 *
 * <p>Table entries the walker could not follow (pointing outside guest memory, looping back to a table above
 * them) are counted, not fatal: the walk goes on with the next entry.
 */
public final class PagingPlanner {
    /** Skip reasons kept for messages; the count covers all of them. */
    public static final int KEPT_SKIP_REASONS = 10;
    /** The progress phase of the page-table walk. */
    public static final String PHASE_WALK = "walking page tables";
    /** Bytes of progress one vCPU's walk counts: 2^48, the virtual address space of four-level page tables. */
    public static final long WALK_SPAN = 1L << 48;

    private PagingPlanner() {}

    /**
     * The outcome of a walk.
     *
     * @param mappings     the PT_LOADs to write, in order, already clipped to the window
     * @param walked       true when page tables were walked; false for the identity fallback
     * @param firstCpu     the index of the first vCPU walked, or -1
     * @param skipped      table entries the walk could not follow
     * @param skipReasons  the first {@link #KEPT_SKIP_REASONS} of them, as "entry at 0x…: reason"
     * @param deviceLeaves leaves left out because they map device memory, not guest RAM
     * @param leafRejects  leaves left out because their range wraps past the top of the address space
     */
    public record Plan(MappingTable mappings, boolean walked, int firstCpu, long skipped, List<String> skipReasons,
            long deviceLeaves, long leafRejects) {

        /** Copies the reasons. */
        public Plan {
            skipReasons = List.copyOf(skipReasons);
        }
    }

    /** Walks the guest's page tables and plans its mappings. */
    public static Plan plan(PageTableWalker walker, GuestState guest, Optional<PhysRange> window) {
        return plan(walker, guest, window, ProgressListener.NONE);
    }

    /**
     * Walks the guest's page tables and plans its mappings, reporting to {@code progress} (phase
     * {@link #PHASE_WALK}) how far the walks have got, in bytes of virtual address space: each vCPU's walk counts
     * {@link #WALK_SPAN} bytes (2^48, the space of four-level tables), of which the part below the highest virtual
     * address reported so far is done (walkers go up the address space). A walk that is done counts in full.
     */
    public static Plan plan(PageTableWalker walker, GuestState guest, Optional<PhysRange> window,
            ProgressListener progress) {
        List<VcpuState> cpus = guest.cpus();
        int first = -1;
        for (int i = 0; i < cpus.size(); i++) {
            if (walker.pagingEnabled(cpus.get(i))) {
                first = i;
                break;
            }
        }
        MappingTable table;
        Collector sink = new Collector(guest.memory());
        if (first < 0) {
            table = identity(guest.memory());
        } else {
            long total = (cpus.size() - first) * WALK_SPAN;
            progress.phase(PHASE_WALK);
            progress.progress(0, total);
            sink.progress = progress;
            sink.total = total;
            for (int i = first; i < cpus.size(); i++) {
                sink.base = (i - first) * WALK_SPAN;
                sink.reported = sink.base;
                try {
                    walker.walk(guest, cpus.get(i), guest.memory(), sink);
                } catch (IOException e) {
                    throw new InvalidInputException("--paging: reading vCPU " + cpus.get(i).index()
                            + "'s page tables failed: " + e.getMessage(), e);
                }
                sink.list.compact();
                progress.progress(sink.base + WALK_SPAN, total);
            }
            table = sink.list.toTable();
        }
        if (window.isPresent()) {
            table = table.clip(window.get());
        }
        return new Plan(table, first >= 0, first, sink.skipped, sink.reasons, sink.device, sink.rejects);
    }

    /** QEMU's fallback when no vCPU has paging: one mapping per block, virtual = physical. */
    static MappingTable identity(GuestMemory memory) {
        List<GuestBlock> blocks = memory.blocks();
        long[] p = new long[blocks.size()];
        long[] l = new long[blocks.size()];
        for (int i = 0; i < p.length; i++) {
            p[i] = blocks.get(i).range().start();
            l[i] = blocks.get(i).range().length();
        }
        return new MappingTable(p, p.clone(), l, p.length);
    }

    private static final class Collector implements PageTableWalker.Sink {
        final MemoryMappingList list = new MemoryMappingList();
        final GuestMemory memory;
        final List<String> reasons = new ArrayList<>();
        long skipped;
        long device;
        long rejects;

        ProgressListener progress = ProgressListener.NONE;
        long total;
        long base;
        long reported;

        Collector(GuestMemory memory) {
            this.memory = memory;
        }

        /** Reports the walk at {@code virt}, when it has moved on by a thousandth of a walk or more. */
        private void at(long virt) {
            long done = base + (virt >>> (64 - 48));
            if (done - reported >= WALK_SPAN / 1000) {
                reported = done;
                progress.progress(done, total);
            }
        }

        @Override
        public void map(long virt, long phys, long length) {
            at(virt);
            long vEnd = virt + length;
            long pEnd = phys + length;
            if (length <= 0 || Long.compareUnsigned(vEnd - 1, virt) < 0 || Long.compareUnsigned(pEnd - 1, phys) < 0
                    || vEnd == 0 || pEnd == 0) {
                // an ELF segment cannot end at 2^64: p_vaddr + p_memsz would wrap
                rejects++;
                return;
            }
            if (memory.blockAt(phys) == null) {
                device++;
                return;
            }
            list.add(virt, phys, length);
        }

        @Override
        public void deviceMemory(long virt, long phys, long length, long tableEntryAddress) {
            at(virt);
            device++;
        }

        @Override
        public void skipped(long tableEntryAddress, String reason) {
            skipped++;
            if (reasons.size() < KEPT_SKIP_REASONS) {
                reasons.add("entry at " + PhysRange.hex(tableEntryAddress) + ": " + reason);
            }
        }
    }
}
