package io.guestdump.arch.ppc64;

import io.guestdump.arch.api.GuestVmcoreinfo;
import io.guestdump.arch.api.WalkLeaves;
import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.PageTableWalker;
import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.PhysRange;
import java.io.IOException;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Optional;

/**
 * Book3S 64-bit translation of the kernel's address space (quadrant 3, {@code 0xc000...}).
 *
 * <ul>
 *   <li><b>Radix</b> ({@code LPCR.HR}, POWER9 and later): the radix tree of process-table entry 0, found through
 *       {@code ptcr} (partition table entry 0, then its process table) when set; a pseries guest registers its
 *       process table with the hypervisor instead, which no vCPU register shows, so there the tree's root is the
 *       kernel's {@code swapper_pg_dir} (init_mm's PGD) from VMCOREINFO, 52-bit with a 13-bit root.</li>
 *   <li><b>Hash</b> ({@code LPCR.HR} clear): the hashed page table lives with the hypervisor on pseries and maps
 *       only what was faulted in, so it is not walked. The walker reports instead the kernel's linear map,
 *       {@code 0xc000000000000000 + phys} for every RAM block, and says so once through
 *       {@link Sink#skipped}; then the vmemmap (the {@code struct page} array) from the kernel's own record of
 *       it, {@code vmemmap_list}: one {@code vmemmap_backing} per block of {@code 1 << mmu_psize_defs[
 *       mmu_vmemmap_psize].shift} bytes, which the kernel publishes in VMCOREINFO for dump tools (makedumpfile
 *       translates vmemmap addresses of hash guests the same way). vmalloc and I/O addresses are not
 *       available.</li>
 * </ul>
 *
 * <p>Radix entries are big-endian in either guest byte order (the architecture defines them so).
 */
final class Ppc64PageTableWalker implements PageTableWalker {
    /** MSR.IR | MSR.DR: instruction and data relocation. */
    static final long MSR_IR_DR = 0x30;
    /** LPCR.HR = PPC_BIT(11): host radix (the partition uses radix translation). */
    static final long LPCR_HR = 1L << 52;
    /** The kernel's linear map and quadrant 3 base. */
    static final long PAGE_OFFSET = 0xc000_0000_0000_0000L;
    /** Radix entry: valid. */
    static final long RADIX_VALID = 1L << 63;
    /** Radix entry: leaf. */
    static final long RADIX_LEAF = 1L << 62;
    /** Next-level base of a radix directory entry. */
    static final long RADIX_NLB = 0x0fff_ffff_ffff_ff00L;
    /** Next-level size (log2 of entries) of a radix directory entry. */
    static final long RADIX_NLS = 0x1f;
    /** Real page number of a radix leaf. */
    static final long RADIX_RPN = 0x01ff_ffff_ffff_f000L;
    /** Linux's radix tree: 52 bits, 13-bit PGD (book3s/64/radix.h). */
    static final int LINUX_RADIX_BITS = 52;
    static final int LINUX_RADIX_ROOT_NLS = 13;
    /** The text reported when the hash fallback is used. */
    static final String HASH_FALLBACK = "hash MMU (LPCR.HR clear): the hashed page table is not walked; reported the"
            + " kernel linear map 0xc000000000000000 + phys for all RAM instead (from VMCOREINFO's kernel layout);"
            + " vmalloc and I/O addresses are not in the dump (vmemmap is, from the kernel's vmemmap_list)";
    /** More vmemmap blocks than this in {@code vmemmap_list} is a loop or damage (2^20 blocks of 16 MiB: 16 TiB). */
    static final int MAX_VMEMMAP_BLOCKS = 1 << 20;
    /** MSR.LE: the vCPU runs little-endian (the kernel's data byte order when it is in privileged state). */
    static final long MSR_LE = 1;

    @Override
    public boolean pagingEnabled(VcpuState cpu) {
        return (cpu.u64(Ppc64Registers.MSR) & MSR_IR_DR) != 0;
    }

    @Override
    public void walk(GuestState guest, VcpuState cpu, GuestMemory memory, Sink sink) throws IOException {
        if ((cpu.u64(Ppc64Registers.LPCR) & LPCR_HR) == 0) {
            linearMap(memory, sink);
            Optional<GuestVmcoreinfo> vmcoreinfo = GuestVmcoreinfo.of(guest);
            if (vmcoreinfo.isPresent()) {
                vmemmap(vmcoreinfo.get(), memory, sink,
                        (cpu.u64(Ppc64Registers.MSR) & MSR_LE) != 0 ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN);
            }
            return;
        }
        long ptcr = cpu.u64("ptcr");
        if (ptcr != 0) {
            fromPartitionTable(ptcr, memory, sink);
            return;
        }
        Optional<Long> swapper = GuestVmcoreinfo.of(guest).flatMap(v -> v.symbol("swapper_pg_dir"));
        if (swapper.isEmpty()) {
            throw new UnsupportedGuestException("cannot walk the radix page tables of ppc64 vCPU " + cpu.index()
                    + ": ptcr is 0 (a pseries guest's process table is known only to the hypervisor) and the guest"
                    + " has no VMCOREINFO with SYMBOL(swapper_pg_dir); give ptcr in the snapshot, or dump a guest"
                    + " whose kernel VMCOREINFO note is in its memory");
        }
        radix(memory, sink, swapper.get() - PAGE_OFFSET, LINUX_RADIX_ROOT_NLS, LINUX_RADIX_BITS);
    }

    /** The hash-MMU fallback: the linear map of every RAM block. */
    static void linearMap(GuestMemory memory, Sink sink) {
        sink.skipped(0, HASH_FALLBACK);
        for (GuestBlock b : memory.blocks()) {
            sink.map(PAGE_OFFSET + b.range().start(), b.range().start(), b.range().length());
        }
    }

    /**
     * The hash-MMU vmemmap, from the kernel's {@code vmemmap_list} (a list of {@code vmemmap_backing}: next pointer,
     * physical address, virtual address), reported in ascending virtual order above the linear map. Nothing is
     * reported when VMCOREINFO lacks one of the entries; a node outside RAM, a loop or a block size out of range is
     * reported through {@link Sink#skipped} and ends the list.
     */
    static void vmemmap(GuestVmcoreinfo info, GuestMemory memory, Sink sink, ByteOrder order) throws IOException {
        Optional<Long> head = info.symbol("vmemmap_list");
        Optional<Long> psizeVar = info.symbol("mmu_vmemmap_psize");
        Optional<Long> defs = info.symbol("mmu_psize_defs");
        Optional<Long> defSize = info.size("mmu_psize_def");
        Optional<Long> shiftAt = info.offset("mmu_psize_def.shift");
        Optional<Long> next = info.offset("vmemmap_backing.list");
        Optional<Long> physAt = info.offset("vmemmap_backing.phys");
        Optional<Long> virtAt = info.offset("vmemmap_backing.virt_addr");
        if (head.isEmpty() || psizeVar.isEmpty() || defs.isEmpty() || defSize.isEmpty() || shiftAt.isEmpty()
                || next.isEmpty() || physAt.isEmpty() || virtAt.isEmpty()) {
            return;
        }
        long headAt = linear(head.get());
        long psizeAt = linear(psizeVar.get());
        if (headAt < 0 || psizeAt < 0 || linear(defs.get()) < 0 || !memory.isBacked(headAt, 8)
                || !memory.isBacked(psizeAt, 4)) {
            sink.skipped(Math.max(headAt, 0), "VMCOREINFO's vmemmap_list or mmu_vmemmap_psize is outside the"
                    + " kernel linear map of guest RAM; vmemmap is not in the dump");
            return;
        }
        long psize = memory.readInt(psizeAt, order) & 0xffff_ffffL;
        if (psize > 64) {
            sink.skipped(linear(psizeVar.get()), "mmu_vmemmap_psize " + psize + " is no page size index;"
                    + " vmemmap is not in the dump");
            return;
        }
        long shiftAddress = linear(defs.get() + psize * defSize.get() + shiftAt.get());
        long shift = shiftAddress >= 0 && memory.isBacked(shiftAddress, 4)
                ? memory.readInt(shiftAddress, order) & 0xffff_ffffL : -1;
        if (shift < 12 || shift > 34) {
            sink.skipped(linear(defs.get()), "mmu_psize_defs[" + psize + "].shift " + shift
                    + " is no vmemmap page size; vmemmap is not in the dump");
            return;
        }
        long blockSize = 1L << shift;
        java.util.TreeMap<Long, Long> blocks = new java.util.TreeMap<>(Long::compareUnsigned);
        long node = memory.readLong(headAt, order);
        int count = 0;
        while (node != 0) {
            long at = linear(node);
            if (at < 0 || !memory.isBacked(at, Math.max(Math.max(next.get(), physAt.get()), virtAt.get()) + 8)) {
                sink.skipped(at, "vmemmap_list node " + PhysRange.hex(node) + " is outside guest RAM; the rest of"
                        + " the list is not in the dump");
                break;
            }
            if (++count > MAX_VMEMMAP_BLOCKS) {
                sink.skipped(at, "vmemmap_list has more than " + MAX_VMEMMAP_BLOCKS + " nodes (a loop?); the rest"
                        + " of the list is not in the dump");
                break;
            }
            long phys = memory.readLong(at + physAt.get(), order);
            long virt = memory.readLong(at + virtAt.get(), order);
            if (memory.isBacked(phys, blockSize)) {
                blocks.put(virt, phys);
            } else {
                sink.skipped(at, "vmemmap_list maps " + PhysRange.hex(virt) + " to " + PhysRange.hex(phys)
                        + ", outside guest RAM");
            }
            node = memory.readLong(at + next.get(), order);
        }
        long lastEnd = 0;
        for (var e : blocks.entrySet()) {
            if (Long.compareUnsigned(e.getKey(), lastEnd) < 0) {
                continue;
            }
            sink.map(e.getKey(), e.getValue(), blockSize);
            lastEnd = e.getKey() + blockSize;
        }
    }

    /** The physical address of a kernel linear-map address (negative when it is not one). */
    private static long linear(long virt) {
        return Long.compareUnsigned(virt, PAGE_OFFSET) >= 0 && Long.compareUnsigned(virt, 0xc008_0000_0000_0000L) < 0
                ? virt - PAGE_OFFSET : -1;
    }

    private static void fromPartitionTable(long ptcr, GuestMemory memory, Sink sink) throws IOException {
        long partitionTable = ptcr & 0x0fff_ffff_ffff_f000L;
        if (!memory.isBacked(partitionTable, 16)) {
            sink.skipped(partitionTable, "PTCR " + PhysRange.hex(ptcr)
                    + " points to a partition table outside guest RAM; nothing is walked");
            return;
        }
        long processTable = memory.readLong(partitionTable + 8, ByteOrder.BIG_ENDIAN) & 0x0fff_ffff_ffff_f000L;
        if (!memory.isBacked(processTable, 16)) {
            sink.skipped(partitionTable + 8, "partition-table entry 0 points to a process table at "
                    + PhysRange.hex(processTable) + " outside guest RAM; nothing is walked");
            return;
        }
        long pate = memory.readLong(processTable, ByteOrder.BIG_ENDIAN);
        // RTS = RTS1 (bits 1-2) || RTS2 (bits 56-58); the tree translates RTS + 31 bits
        int rts = (int) (((pate >>> 61) & 0x3) << 3 | (pate >>> 5) & 0x7) + 31;
        radix(memory, sink, pate & RADIX_NLB, (int) (pate & RADIX_NLS), Math.min(rts, 52));
    }

    /** Walks a radix tree translating {@code bits} bits of quadrant-3 addresses. */
    static void radix(GuestMemory memory, Sink sink, long root, int rootNls, int bits) throws IOException {
        if (!memory.isBacked(root, 8L << rootNls)) {
            sink.skipped(root, "the radix tree's root at " + PhysRange.hex(root)
                    + " is outside guest RAM; nothing is walked");
            return;
        }
        new Radix(memory, sink).table(root, rootNls, bits, 0);
    }

    private static final class Radix {
        private final GuestMemory memory;
        private final Sink sink;
        private final Deque<Long> path = new ArrayDeque<>();

        Radix(GuestMemory memory, Sink sink) {
            this.memory = memory;
            this.sink = sink;
        }

        void table(long table, int nls, int bits, long offset) throws IOException {
            path.push(table);
            int shift = bits - nls;
            for (int i = 0; i < 1 << nls; i++) {
                long entryAddress = table + 8L * i;
                long e = memory.readLong(entryAddress, ByteOrder.BIG_ENDIAN);
                if ((e & RADIX_VALID) == 0) {
                    continue;
                }
                long at = offset | (long) i << shift;
                if ((e & RADIX_LEAF) != 0) {
                    long size = 1L << shift;
                    WalkLeaves.report(memory, sink, PAGE_OFFSET | at, e & RADIX_RPN & ~(size - 1), size, entryAddress);
                    continue;
                }
                long next = e & RADIX_NLB;
                int nextNls = (int) (e & RADIX_NLS);
                if (nextNls < 5 || shift - nextNls < 12) {
                    sink.skipped(entryAddress, "radix directory entry " + PhysRange.hex(e) + " has next-level size "
                            + nextNls + " with " + shift + " address bits left; not followed");
                } else if (path.contains(next)) {
                    sink.skipped(entryAddress, WalkLeaves.loop(next));
                } else if (!memory.isBacked(next, 8L << nextNls)) {
                    sink.skipped(entryAddress, WalkLeaves.tableOutsideRam(next, 8L << nextNls));
                } else {
                    table(next, nextNls, shift, at);
                }
            }
            path.pop();
        }
    }
}
