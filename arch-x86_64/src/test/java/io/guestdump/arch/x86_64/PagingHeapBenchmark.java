package io.guestdump.arch.x86_64;

import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.core.paging.MappingTable;
import io.guestdump.core.paging.PagingPlanner;
import io.guestdump.core.vmcore.VmcoreLayout;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfCodec;
import io.guestdump.elf.ElfData;
import io.guestdump.elf.ProgramHeader;
import io.guestdump.memory.BlockData;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.PhysRange;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Heap benchmark for paging mode (run by {@code bench/paging-heap.sh}): a 4 GiB guest whose 4-level tables map
 * all 1,048,576 physical pages one by one, none contiguous with its virtual neighbour (virtual page i holds physical
 * page 2i, then 2i+1 for the second half), walked for two vCPUs, planned and its program headers encoded. The
 * page tables are synthesised on read; nothing of the guest is held in memory.
 */
public final class PagingHeapBenchmark {
    static final long RAM = 4L << 30;
    static final long PAGES = RAM >>> 12;
    static final long TABLES = RAM - (16L << 20);
    static final long PML4 = TABLES;
    static final long PDPT = TABLES + 0x1000;
    static final long PD = TABLES + 0x2000; // 4 of them
    static final long PT = TABLES + 0x10000; // 2048 of them
    static final long DIRECT_MAP = 0xffff_8880_0000_0000L;

    private PagingHeapBenchmark() {}

    /** Physical page of virtual page i. */
    static long physPage(long i) {
        return i < PAGES / 2 ? 2 * i : 2 * (i - PAGES / 2) + 1;
    }

    /** The 8-byte entry at a physical address. */
    static long entryAt(long addr) {
        long p = 1 | 2;
        if (addr >= PML4 && addr < PML4 + 0x1000) {
            return (addr - PML4) / 8 == 273 ? PDPT | p : 0;
        }
        if (addr >= PDPT && addr < PDPT + 0x1000) {
            long k = (addr - PDPT) / 8;
            return k < 4 ? (PD + k * 0x1000) | p : 0;
        }
        if (addr >= PD && addr < PD + 0x4000) {
            long e = (addr - PD) / 8;
            return (PT + e * 0x1000) | p;
        }
        if (addr >= PT && addr < PT + 2048 * 0x1000L) {
            long i = (addr - PT) / 8;
            return (physPage(i) << 12) | p;
        }
        return 0;
    }

    /** 4 GiB whose bytes are page-table entries where the tables are and zeros elsewhere. */
    static final class SyntheticRam implements BlockData {
        @Override
        public long size() {
            return RAM;
        }

        @Override
        public void read(long offset, ByteBuffer dst) {
            ByteBuffer le = dst.duplicate().order(java.nio.ByteOrder.LITTLE_ENDIAN);
            int n = le.remaining();
            for (int k = 0; k < n; k += 8) {
                le.putLong(entryAt(offset + k)); // the walker reads whole, aligned tables
            }
            dst.position(dst.position() + n);
        }
    }

    public static void main(String[] args) throws Exception {
        GuestMemory memory = new GuestMemory(List.of(new GuestBlock(new PhysRange(0, RAM), new SyntheticRam(),
                "synthetic")));
        List<VcpuState> cpus = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            cpus.add(VcpuState.builder(i).set("cr0", 0x80050033L).set("cr3", PML4).set("cr4", 0x6b0)
                    .set("efer", 0xd01).build());
        }
        GuestState guest = new GuestState("x86_64", memory, cpus, Map.of(), Optional.empty());
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            pool.resetPeakUsage();
        }
        long t0 = System.nanoTime();
        PagingPlanner.Plan plan = PagingPlanner.plan(new X86PageTableWalker(true, X86PageTableWalker.Fidelity.FIXED),
                guest, Optional.empty());
        long t1 = System.nanoTime();
        MappingTable table = plan.mappings();
        VmcoreLayout layout = VmcoreLayout.plan(new DumpTarget(X86Elf.EM_X86_64, ElfClass.ELF64, ElfData.LSB, 4096),
                4096, table, memory.blocks());
        ByteBuffer buf = ElfData.LSB.allocate(1 << 20);
        long headerBytes = 0;
        for (ProgramHeader p : layout.programHeaders()) {
            if (buf.remaining() < ElfClass.ELF64.phdrSize()) {
                headerBytes += buf.position();
                buf.clear();
            }
            ElfCodec.writeProgramHeader(buf, ElfClass.ELF64, p);
        }
        headerBytes += buf.position();
        long t2 = System.nanoTime();
        long peak = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                peak += pool.getPeakUsage().getUsed();
            }
        }
        System.gc();
        long retained = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        if (table.size() != PAGES) {
            throw new AssertionError("expected " + PAGES + " mappings, got " + table.size());
        }
        System.out.printf("guest: 4 GiB, %d pages mapped one by one, 2 vCPUs walked%n", PAGES);
        System.out.printf("mappings: %d (PN_XNUM: e_phnum %#x), %d program-header bytes streamed%n", table.size(),
                layout.header().phnum(), headerBytes);
        System.out.printf("walk+merge: %.2f s, layout+headers: %.2f s%n", (t1 - t0) / 1e9, (t2 - t1) / 1e9);
        System.out.printf("mapping table: %d MiB; heap peak (sum of pool peaks): %d MiB; heap after GC with the "
                + "table live: %d MiB; max heap: %d MiB%n", table.arrayBytes() >> 20, peak >> 20, retained >> 20,
                Runtime.getRuntime().maxMemory() >> 20);
    }
}
