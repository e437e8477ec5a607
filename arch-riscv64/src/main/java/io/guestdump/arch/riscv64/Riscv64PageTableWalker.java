package io.guestdump.arch.riscv64;

import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.GuestVmcoreinfo;
import io.guestdump.arch.api.PageTableWalker;
import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.PhysRange;
import java.io.IOException;
import java.nio.ByteOrder;
import java.util.Optional;

/**
 * Supervisor address translation from {@code satp}: MODE (bits 63:60) 8 = Sv39, 9 = Sv48, 10 = Sv57, 0 = Bare
 * (no translation); PPN (bits 43:0) × 4096 is the root table. QEMU's monitor text prints satp, so a live or
 * monitor-text guest always has it. A snapshot without satp falls back to VMCOREINFO: the kernel's
 * {@code SYMBOL(swapper_pg_dir) - NUMBER(va_kernel_pa_offset)} is the root and {@code NUMBER(VA_BITS)} (39, 48 or
 * 57) the mode.
 */
final class Riscv64PageTableWalker implements PageTableWalker {
    /** satp.MODE for Sv39. */
    static final int SATP_MODE_SV39 = 8;
    /** satp.MODE for Sv48. */
    static final int SATP_MODE_SV48 = 9;
    /** satp.MODE for Sv57. */
    static final int SATP_MODE_SV57 = 10;
    /** satp.PPN, bits 43:0. */
    static final long SATP_PPN_MASK = (1L << 44) - 1;

    @Override
    public boolean pagingEnabled(VcpuState cpu) {
        if (cpu.has("satp")) {
            return cpu.u64("satp") >>> 60 != 0;
        }
        // Without satp: a pc in the upper half can only be fetched with translation on.
        return cpu.u64("pc") < 0;
    }

    @Override
    public void walk(GuestState guest, VcpuState cpu, GuestMemory memory, Sink sink) throws IOException {
        ByteOrder order = (cpu.u64("mstatus") & Riscv64Registers.MSTATUS_SBE) != 0 ? ByteOrder.BIG_ENDIAN
                : ByteOrder.LITTLE_ENDIAN;
        if (cpu.has("satp")) {
            long satp = cpu.u64("satp");
            int mode = (int) (satp >>> 60);
            long root = (satp & SATP_PPN_MASK) << SvWalk.PAGE_SHIFT;
            switch (mode) {
                case 0 -> { } // Bare: nothing is translated
                case SATP_MODE_SV39 -> SvWalk.walk(memory, sink, root, "Sv39", 3, order);
                case SATP_MODE_SV48 -> SvWalk.walk(memory, sink, root, "Sv48", 4, order);
                case SATP_MODE_SV57 -> SvWalk.walk(memory, sink, root, "Sv57", 5, order);
                default -> throw new UnsupportedGuestException("riscv64 vCPU " + cpu.index() + " has satp "
                        + PhysRange.hex(satp) + " with MODE " + mode + ", which is not Bare (0), Sv39 (8), Sv48 (9)"
                        + " or Sv57 (10); correct satp, or dump without --paging");
            }
            return;
        }
        fromVmcoreinfo(guest, cpu, memory, sink, order);
    }

    private static void fromVmcoreinfo(GuestState guest, VcpuState cpu, GuestMemory memory, Sink sink,
            ByteOrder order) throws IOException {
        String remedy = "give the vCPU's satp in the snapshot (QEMU's `info registers -a` prints it), or dump a guest"
                + " whose kernel's VMCOREINFO is known";
        Optional<GuestVmcoreinfo> found = GuestVmcoreinfo.of(guest);
        if (found.isEmpty()) {
            throw new UnsupportedGuestException("cannot walk the page tables of riscv64 vCPU " + cpu.index()
                    + ": it has no satp register and the guest has no VMCOREINFO to find swapper_pg_dir in; "
                    + remedy);
        }
        GuestVmcoreinfo vi = found.get();
        Optional<Long> swapper = vi.symbol("swapper_pg_dir");
        Optional<Long> offset = vi.number("va_kernel_pa_offset");
        Optional<Long> bits = vi.number("VA_BITS");
        if (swapper.isEmpty() || offset.isEmpty() || bits.isEmpty()) {
            throw new UnsupportedGuestException("cannot walk the page tables of riscv64 vCPU " + cpu.index()
                    + ": it has no satp and the guest's VMCOREINFO lacks one of SYMBOL(swapper_pg_dir)="
                    + swapper.map(PhysRange::hex).orElse("(absent)") + ", NUMBER(va_kernel_pa_offset)="
                    + offset.map(PhysRange::hex).orElse("(absent)") + ", NUMBER(VA_BITS)="
                    + bits.map(String::valueOf).orElse("(absent)") + "; " + remedy);
        }
        int levels = switch (bits.get().intValue()) {
            case 39 -> 3;
            case 48 -> 4;
            case 57 -> 5;
            default -> throw new UnsupportedGuestException("riscv64 guest VMCOREINFO says NUMBER(VA_BITS)="
                    + bits.get() + ", which is not Sv39, Sv48 or Sv57 (39, 48, 57); " + remedy);
        };
        long root = swapper.get() - offset.get();
        SvWalk.walk(memory, sink, root, "Sv" + bits.get() + " (swapper_pg_dir " + PhysRange.hex(root)
                + " from VMCOREINFO)", levels, order);
    }
}
