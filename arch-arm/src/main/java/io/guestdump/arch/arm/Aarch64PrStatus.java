package io.guestdump.arch.arm;

import io.guestdump.arch.api.PrStatus;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.elf.ElfClass;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code struct elf_prstatus} of the arm64 Linux ABI as QEMU's {@code aarch64_elf_prstatus} writes it (owner CORE,
 * {@code NT_PRSTATUS}): the Linux frame ({@link PrStatus}, ELF64) around {@code struct user_pt_regs}
 * (x0..x30, sp, pc, pstate = 34 × u64), {@code pr_fpvalid} 1 = 392 bytes.
 *
 * <p>A vCPU in AArch32 state is written as QEMU does: its 32-bit registers are first mapped onto the AArch64 view
 * ({@link Aarch32Sync}), pstate holds the CPSR and sp is 0.
 */
public final class Aarch64PrStatus {
    /** {@code struct user_pt_regs} in order: x0..x30, sp, pc, pstate. */
    public static final List<String> REGISTERS = registers();
    /** The frame. */
    public static final PrStatus FRAME = PrStatus.uniform(ElfClass.ELF64, 8, REGISTERS);
    /** {@code pr_pid}: QEMU writes the vCPU index + 1. */
    public static final int PID_OFFSET = FRAME.pidOffset();
    /** {@code pr_reg}: {@link #REGISTERS} as u64 each. */
    public static final int REGS_OFFSET = FRAME.regOffset();
    /** {@code pr_fpvalid}: always 1 (every AArch64 CPU has FP/SIMD). */
    public static final int FPVALID_OFFSET = FRAME.fpvalidOffset();
    /** {@code sizeof(struct elf_prstatus)}. */
    public static final int SIZE = FRAME.size();

    private Aarch64PrStatus() {}

    private static List<String> registers() {
        List<String> names = new ArrayList<>();
        for (int i = 0; i <= 30; i++) {
            names.add("x" + i);
        }
        names.add("sp");
        names.add("pc");
        names.add("pstate");
        return List.copyOf(names);
    }

    /** Fills the descriptor for one vCPU (an AArch32 vCPU through {@link Aarch32Sync}). */
    public static void write(VcpuState cpu, ByteBuffer out) {
        long[] regs = Aarch32Sync.userPtRegs(cpu);
        FRAME.write(cpu, out, (c, r) -> regs[REGISTERS.indexOf(r)]);
        FRAME.writeFpvalid(out, true);
    }

    /** Reads the registers of a descriptor by {@link #REGISTERS} name, and {@code pr_pid}. */
    public static void read(ByteBuffer in, VcpuState.Builder into) {
        FRAME.read(in, into);
    }
}
