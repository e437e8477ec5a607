package io.guestdump.arch.arm;

import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.PageTableWalker;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.memory.GuestMemory;
import java.io.IOException;

/**
 * The plugin's walker: {@link Aarch64PageTableWalker} for {@code aarch64} guests, {@link Arm32PageTableWalker} for
 * {@code arm} guests. {@link #pagingEnabled} has no guest, so it goes by the vCPU's registers: AArch64 ones
 * ({@code sctlr_el1}, {@code pc}, {@code pstate}) pick the AArch64 rule.
 */
final class ArmPageTableWalker implements PageTableWalker {
    private final Aarch64PageTableWalker aarch64 = new Aarch64PageTableWalker();
    private final Arm32PageTableWalker arm32 = new Arm32PageTableWalker();

    @Override
    public boolean pagingEnabled(VcpuState cpu) {
        boolean a64 = cpu.has("sctlr_el1") || cpu.has("pstate") || cpu.has("pc");
        return a64 ? aarch64.pagingEnabled(cpu) : arm32.pagingEnabled(cpu);
    }

    @Override
    public void walk(GuestState guest, VcpuState cpu, GuestMemory memory, Sink sink) throws IOException {
        if (ArmArchitecture.MACHINE_AARCH64.equals(guest.machine())) {
            aarch64.walk(guest, cpu, memory, sink);
        } else {
            arm32.walk(guest, cpu, memory, sink);
        }
    }
}
