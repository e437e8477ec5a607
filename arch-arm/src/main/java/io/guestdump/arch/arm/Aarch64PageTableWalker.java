package io.guestdump.arch.arm;

import io.guestdump.arch.api.GuestVmcoreinfo;
import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.PageTableWalker;
import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.PhysRange;
import java.io.IOException;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * AArch64 stage-1 EL1&0 translation: the TTBR0_EL1 half (low addresses) then the TTBR1_EL1 half (high addresses),
 * each with its own granule (4, 16 or 64 KiB) and size (TCR_EL1.T0SZ/T1SZ, 39 to 52 bits).
 *
 * <p>Registers: {@code sctlr_el1} (M = bit 0, EE = bit 25), {@code tcr_el1}, {@code ttbr0_el1}, {@code ttbr1_el1}.
 * QEMU's monitor text shows none of them; without {@code tcr_el1} and a TTBR the kernel half is found from
 * VMCOREINFO instead: {@code SYMBOL(swapper_pg_dir) - NUMBER(kimage_voffset)} is TTBR1, the size is
 * {@code 64 - NUMBER(TCR_EL1_T1SZ)} (else {@code NUMBER(VA_BITS)}) and the granule is {@code PAGESIZE}.
 */
final class Aarch64PageTableWalker implements PageTableWalker {
    /** SCTLR_EL1.M: stage-1 translation enabled. */
    static final long SCTLR_M = 1L;
    /** SCTLR_EL1.EE: translation tables are big-endian. */
    static final long SCTLR_EE = 1L << 25;
    /** TCR_EL1.EPD0: no walks from TTBR0. */
    static final long TCR_EPD0 = 1L << 7;
    /** TCR_EL1.EPD1: no walks from TTBR1. */
    static final long TCR_EPD1 = 1L << 23;
    /** TCR_EL1.DS: 52-bit addresses with 4/16 KiB granules (FEAT_LPA2). */
    static final long TCR_DS = 1L << 59;
    /** TCR_EL1.IPS value for a 52-bit physical address space. */
    static final int IPS_52 = 0b110;

    @Override
    public boolean pagingEnabled(VcpuState cpu) {
        if (cpu.has("sctlr_el1")) {
            return (cpu.u64("sctlr_el1") & SCTLR_M) != 0;
        }
        // Without SCTLR: a PC in the upper (TTBR1) half can only be fetched with the MMU on.
        return cpu.u64("pc") < 0;
    }

    @Override
    public void walk(GuestState guest, VcpuState cpu, GuestMemory memory, Sink sink) throws IOException {
        for (LongDescriptorWalk.Regime r : regimes(guest, cpu)) {
            LongDescriptorWalk.walk(memory, sink, r);
        }
    }

    /** The regimes to walk, TTBR0 first (ascending virtual order). */
    static List<LongDescriptorWalk.Regime> regimes(GuestState guest, VcpuState cpu) throws IOException {
        ByteOrder order = (cpu.u64("sctlr_el1") & SCTLR_EE) != 0 ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        if (cpu.has("tcr_el1") && (cpu.has("ttbr0_el1") || cpu.has("ttbr1_el1"))) {
            return fromRegisters(cpu, order, kernelTable(guest));
        }
        return List.of(fromVmcoreinfo(guest, cpu, order));
    }

    /**
     * The physical address of {@code swapper_pg_dir}, the kernel's own top-level table, when VMCOREINFO gives it and
     * {@code kimage_voffset}; empty otherwise.
     */
    static OptionalLong kernelTable(GuestState guest) {
        Optional<GuestVmcoreinfo> vi = GuestVmcoreinfo.of(guest);
        Optional<Long> swapper = vi.flatMap(v -> v.symbol("swapper_pg_dir"));
        Optional<Long> voffset = vi.flatMap(v -> v.number("kimage_voffset"));
        return swapper.isPresent() && voffset.isPresent() ? OptionalLong.of(swapper.get() - voffset.get())
                : OptionalLong.empty();
    }

    /**
     * The regimes TCR_EL1 and the TTBRs describe. TTBR1_EL1 is walked from {@code kernelTable} when that is known and
     * differs: a vCPU caught in user space under kernel page-table isolation has TTBR1 on the trampoline table
     * ({@code tramp_pg_dir}), which maps one page, and a dump walked from it has no kernel addresses (a live arm64
     * dump in CI showed it). The kernel switches TTBR1 only between the two, so TCR's size and granule still hold.
     */
    private static List<LongDescriptorWalk.Regime> fromRegisters(VcpuState cpu, ByteOrder order,
            OptionalLong kernelTable) {
        long tcr = cpu.u64("tcr_el1");
        boolean ds = (tcr & TCR_DS) != 0;
        boolean ips52 = ((tcr >>> 32) & 0x7) == IPS_52;
        List<LongDescriptorWalk.Regime> regimes = new ArrayList<>();
        if (cpu.has("ttbr0_el1") && (tcr & TCR_EPD0) == 0) {
            int granule = switch ((int) (tcr >>> 14) & 0x3) {
                case 0b01 -> 16;
                case 0b10 -> 14;
                default -> 12;
            };
            regimes.add(regime("TTBR0_EL1", cpu.u64("ttbr0_el1"), 64 - (int) (tcr & 0x3f), granule, false, ds,
                    ips52, order));
        }
        if (cpu.has("ttbr1_el1") && (tcr & TCR_EPD1) == 0) {
            int granule = switch ((int) (tcr >>> 30) & 0x3) {
                case 0b01 -> 14;
                case 0b11 -> 16;
                default -> 12;
            };
            LongDescriptorWalk.Regime r = regime("TTBR1_EL1", cpu.u64("ttbr1_el1"), 64 - (int) ((tcr >>> 16) & 0x3f),
                    granule, true, ds, ips52, order);
            if (kernelTable.isPresent() && kernelTable.getAsLong() != r.tableBase()) {
                r = new LongDescriptorWalk.Regime("TTBR1_EL1 (swapper_pg_dir " + PhysRange.hex(kernelTable.getAsLong())
                        + " from VMCOREINFO; the vCPU's TTBR1 was " + PhysRange.hex(r.tableBase()) + ")",
                        kernelTable.getAsLong(), r.inputBits(), r.granuleShift(), r.vaBase(), r.limit(), r.ds(),
                        r.pa52(), order);
            }
            regimes.add(r);
        }
        return regimes;
    }

    private static LongDescriptorWalk.Regime regime(String name, long ttbr, int inputBits, int granule, boolean upper,
            boolean ds, boolean ips52, ByteOrder order) {
        int bits = Math.min(Math.max(inputBits, 16), 52);
        boolean pa52 = granule == 16 && ips52;
        long base;
        if (ds && granule != 16 || pa52) {
            // TTBR.BADDR[5:2] holds PA[51:48] with 52-bit output addresses
            base = ttbr & 0x0000_ffff_ffff_ffc0L | ((ttbr >>> 2) & 0xf) << 48;
        } else {
            base = ttbr & 0x0000_ffff_ffff_fffeL;
        }
        return new LongDescriptorWalk.Regime(name, base, bits, granule, upper ? -(1L << bits) : 0, 0,
                ds && granule != 16, pa52, order);
    }

    private static LongDescriptorWalk.Regime fromVmcoreinfo(GuestState guest, VcpuState cpu, ByteOrder order)
            throws IOException {
        Optional<GuestVmcoreinfo> found = GuestVmcoreinfo.of(guest);
        String remedy = "give the vCPU's tcr_el1 and ttbr1_el1 (and ttbr0_el1) in the snapshot, or dump a guest"
                + " whose kernel publishes VMCOREINFO (QEMU -device vmcoreinfo)";
        if (found.isEmpty()) {
            throw new UnsupportedGuestException("cannot walk the page tables of aarch64 vCPU " + cpu.index()
                    + ": it has no tcr_el1/ttbr*_el1 registers (QEMU's monitor text does not show them) and the guest"
                    + " has no VMCOREINFO to find swapper_pg_dir in; " + remedy);
        }
        GuestVmcoreinfo vi = found.get();
        Optional<Long> swapper = vi.symbol("swapper_pg_dir");
        Optional<Long> voffset = vi.number("kimage_voffset");
        Optional<Long> pageSize = vi.pageSize();
        Optional<Integer> bits = vi.number("TCR_EL1_T1SZ").map(t1sz -> 64 - t1sz.intValue())
                .or(() -> vi.number("VA_BITS").map(Long::intValue));
        if (swapper.isEmpty() || voffset.isEmpty() || pageSize.isEmpty() || bits.isEmpty()) {
            throw new UnsupportedGuestException("cannot walk the page tables of aarch64 vCPU " + cpu.index()
                    + ": the guest's VMCOREINFO lacks one of SYMBOL(swapper_pg_dir)=" + hex(swapper)
                    + ", NUMBER(kimage_voffset)=" + hex(voffset) + ", PAGESIZE=" + pageSize.orElse(null)
                    + ", NUMBER(VA_BITS)/NUMBER(TCR_EL1_T1SZ)=" + bits.orElse(null) + "; " + remedy);
        }
        int granule = Long.numberOfTrailingZeros(pageSize.get());
        if (Long.bitCount(pageSize.get()) != 1 || granule != 12 && granule != 14 && granule != 16) {
            throw new UnsupportedGuestException("aarch64 guest VMCOREINFO says PAGESIZE=" + pageSize.get()
                    + ", which is not an AArch64 granule (4096, 16384 or 65536); " + remedy);
        }
        // 52-bit descriptors: FEAT_LPA2 (4/16 KiB) only with a 52-bit VA; FEAT_LPA (64 KiB) with 52-bit PAs
        boolean ds = bits.get() > 48 && granule != 16;
        boolean pa52 = granule == 16 && (bits.get() > 48 || vi.number("MAX_PHYSMEM_BITS").orElse(48L) > 48);
        long base = swapper.get() - voffset.get();
        return new LongDescriptorWalk.Regime("TTBR1_EL1 (swapper_pg_dir " + PhysRange.hex(base)
                + " from VMCOREINFO)", base, bits.get(), granule, -(1L << bits.get()), 0,
                ds, pa52, order);
    }

    private static String hex(Optional<Long> v) {
        return v.map(PhysRange::hex).orElse("(absent)");
    }
}
