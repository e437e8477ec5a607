package io.guestdump.arch.arm;

import io.guestdump.arch.api.GuestVmcoreinfo;
import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.PageTableWalker;
import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.PhysRange;
import java.io.IOException;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Optional;

/**
 * 32-bit ARM (ARMv7-A) stage-1 translation: LPAE long descriptors when {@code TTBCR.EAE} (bit 31) is set, else
 * short descriptors.
 *
 * <p>Registers: {@code sctlr} (M = bit 0, EE = bit 25), {@code ttbcr}, {@code ttbr0}, {@code ttbr1} (64-bit with
 * LPAE). QEMU's monitor text shows none of them; without {@code ttbcr} and a TTBR the kernel's tables are found
 * from VMCOREINFO: {@code SYMBOL(swapper_pg_dir)} (a virtual address in the kernel's linear map) and
 * {@code CONFIG_ARM_LPAE=y} for the format. VMCOREINFO of 32-bit ARM has no PAGE_OFFSET or PHYS_OFFSET, so the
 * walker tries the three VMSPLIT page offsets against each RAM block start and keeps the one under which the
 * tables map {@code swapper_pg_dir} to itself; that table is walked as a TTBR0 covering all 4 GiB.
 */
final class Arm32PageTableWalker implements PageTableWalker {
    /** SCTLR.M: MMU enabled. */
    static final long SCTLR_M = 1L;
    /** SCTLR.EE: translation tables are big-endian. */
    static final long SCTLR_EE = 1L << 25;
    /** TTBCR.EAE: long-descriptor (LPAE) format. */
    static final long TTBCR_EAE = 1L << 31;
    /** TTBCR.EPD0 (LPAE) / PD0 (short): no walks from TTBR0. */
    static final long TTBCR_EPD0 = 1L << 7;
    /** TTBCR.EPD1 (LPAE): no walks from TTBR1. */
    static final long TTBCR_EPD1 = 1L << 23;
    /** TTBCR.PD0 (short descriptors). */
    static final long TTBCR_PD0 = 1L << 4;
    /** TTBCR.PD1 (short descriptors). */
    static final long TTBCR_PD1 = 1L << 5;
    /** Linux's possible PAGE_OFFSETs (CONFIG_VMSPLIT_3G, _2G, _1G). */
    static final List<Long> PAGE_OFFSETS = List.of(0xc000_0000L, 0x8000_0000L, 0x4000_0000L);
    private static final long FOUR_GIB = 1L << 32;

    @Override
    public boolean pagingEnabled(VcpuState cpu) {
        // Without SCTLR (the monitor text never shows it) a running Linux guest is taken to have its MMU on.
        return !cpu.has("sctlr") || (cpu.u64("sctlr") & SCTLR_M) != 0;
    }

    @Override
    public void walk(GuestState guest, VcpuState cpu, GuestMemory memory, Sink sink) throws IOException {
        ByteOrder order = (cpu.u64("sctlr") & SCTLR_EE) != 0 ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        if (cpu.has("ttbcr") && (cpu.has("ttbr0") || cpu.has("ttbr1"))) {
            fromRegisters(cpu, memory, sink, order);
        } else {
            fromVmcoreinfo(guest, cpu, memory, sink, order);
        }
    }

    private static void fromRegisters(VcpuState cpu, GuestMemory memory, Sink sink, ByteOrder order)
            throws IOException {
        long ttbcr = cpu.u64("ttbcr");
        if ((ttbcr & TTBCR_EAE) != 0) {
            int t0sz = (int) (ttbcr & 0x7);
            int t1sz = (int) ((ttbcr >>> 16) & 0x7);
            long ttbr1Start = t1sz == 0 ? FOUR_GIB : FOUR_GIB - (1L << (32 - t1sz));
            if (cpu.has("ttbr0") && (ttbcr & TTBCR_EPD0) == 0) {
                long limit = Math.min(1L << (32 - t0sz), ttbr1Start);
                LongDescriptorWalk.walk(memory, sink, lpae("TTBR0", cpu.u64("ttbr0"), 32 - t0sz, 0, limit, order));
            }
            if (t1sz != 0 && cpu.has("ttbr1") && (ttbcr & TTBCR_EPD1) == 0) {
                LongDescriptorWalk.walk(memory, sink, lpae("TTBR1", cpu.u64("ttbr1"), 32 - t1sz, ttbr1Start, 0,
                        order));
            }
        } else {
            int n = (int) (ttbcr & 0x7);
            int split = 4096 >> n;
            if (cpu.has("ttbr0") && (ttbcr & TTBCR_PD0) == 0) {
                long table = cpu.u64("ttbr0") & 0xffff_ffffL & ~((0x4000L >> n) - 1);
                ShortDescriptorWalk.walk(memory, sink, "TTBR0", table, 0, split, order);
            }
            if (n != 0 && cpu.has("ttbr1") && (ttbcr & TTBCR_PD1) == 0) {
                long table = cpu.u64("ttbr1") & 0xffff_c000L;
                ShortDescriptorWalk.walk(memory, sink, "TTBR1", table, split, 4096, order);
            }
        }
    }

    /** An LPAE regime: 4 KiB granule, 40-bit output addresses ({@code TTBR.BADDR} is bits [39:x]). */
    static LongDescriptorWalk.Regime lpae(String name, long ttbr, int inputBits, long vaBase, long limit,
            ByteOrder order) {
        long base = ttbr & 0x00ff_ffff_fff8L;
        long windowLimit = limit == 0 || limit - vaBase >= 1L << inputBits ? 0 : limit - vaBase;
        return new LongDescriptorWalk.Regime(name, base, inputBits, 12, vaBase, windowLimit, false, false, order);
    }

    private static void fromVmcoreinfo(GuestState guest, VcpuState cpu, GuestMemory memory, Sink sink,
            ByteOrder order) throws IOException {
        String remedy = "give the vCPU's ttbcr and ttbr0/ttbr1 in the snapshot, or dump a guest whose kernel"
                + " VMCOREINFO note is in its memory";
        Optional<GuestVmcoreinfo> vi = GuestVmcoreinfo.of(guest);
        Optional<Long> swapper = vi.flatMap(v -> v.symbol("swapper_pg_dir"));
        if (swapper.isEmpty()) {
            throw new UnsupportedGuestException("cannot walk the page tables of arm vCPU " + cpu.index()
                    + ": it has no ttbcr/ttbr0/ttbr1 registers (QEMU's monitor text does not show them) and the"
                    + " guest has no VMCOREINFO with SYMBOL(swapper_pg_dir); " + remedy);
        }
        boolean lpae = vi.get().config("ARM_LPAE");
        long virt = swapper.get();
        for (long pageOffset : PAGE_OFFSETS) {
            if (Long.compareUnsigned(virt, pageOffset) < 0) {
                continue;
            }
            for (GuestBlock b : memory.blocks()) {
                long phys = virt - pageOffset + b.range().start();
                if (memory.isBacked(phys, lpae ? 32 : 0x4000) && translate(memory, phys, lpae, order, virt) == phys) {
                    walkWhole(memory, sink, phys, lpae, order);
                    return;
                }
            }
        }
        throw new UnsupportedGuestException("cannot walk the page tables of arm vCPU " + cpu.index()
                + ": swapper_pg_dir (" + PhysRange.hex(virt) + ") does not map itself under any PAGE_OFFSET "
                + PAGE_OFFSETS.stream().map(PhysRange::hex).toList() + " and any RAM block start as PHYS_OFFSET; "
                + remedy);
    }

    private static void walkWhole(GuestMemory memory, Sink sink, long table, boolean lpae, ByteOrder order)
            throws IOException {
        if (lpae) {
            LongDescriptorWalk.walk(memory, sink, lpae("swapper_pg_dir", table, 32, 0, 0, order));
        } else {
            ShortDescriptorWalk.walk(memory, sink, "swapper_pg_dir", table, 0, 4096, order);
        }
    }

    /** Where the tables at {@code table} map {@code virt}, or -1. */
    private static long translate(GuestMemory memory, long table, boolean lpae, ByteOrder order, long virt)
            throws IOException {
        long[] found = {-1};
        walkWhole(memory, new Sink() {
            @Override
            public void map(long v, long p, long length) {
                if (Long.compareUnsigned(virt - v, length) < 0) {
                    found[0] = p + (virt - v);
                }
            }

            @Override
            public void skipped(long tableEntryAddress, String reason) {}
        }, table, lpae, order);
        return found[0];
    }
}
