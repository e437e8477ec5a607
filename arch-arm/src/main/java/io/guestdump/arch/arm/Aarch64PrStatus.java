package io.guestdump.arch.arm;

import io.guestdump.arch.api.VcpuState;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code struct elf_prstatus} of the arm64 Linux ABI as QEMU's {@code aarch64_elf_prstatus} writes it (owner CORE,
 * {@code NT_PRSTATUS}):
 *
 * <pre>
 *   pad 32 · pr_pid u32 · pad 76 · pr_reg (struct user_pt_regs: x0..x30, sp, pc, pstate = 34 × u64)
 *   · pr_fpvalid u32 · pad 4  = 392 bytes
 * </pre>
 *
 * <p>A vCPU in AArch32 state is written as QEMU does: its 32-bit registers are first mapped onto the AArch64 view
 * ({@link Aarch32Sync}), pstate holds the CPSR and sp is 0.
 */
public final class Aarch64PrStatus {
    /** {@code pr_pid}: QEMU writes the vCPU index + 1. */
    public static final int PID_OFFSET = 32;
    /** {@code pr_reg}: {@link #REGISTERS} as u64 each. */
    public static final int REGS_OFFSET = 112;
    /** {@code pr_fpvalid}: always 1 (every AArch64 CPU has FP/SIMD). */
    public static final int FPVALID_OFFSET = 384;
    /** {@code sizeof(struct elf_prstatus)}. */
    public static final int SIZE = 392;

    /** {@code struct user_pt_regs} in order: x0..x30, sp, pc, pstate. */
    public static final List<String> REGISTERS = registers();

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

    /** Fills the descriptor for one vCPU. */
    public static void write(VcpuState cpu, ByteBuffer out) {
        long[] regs = Aarch32Sync.userPtRegs(cpu);
        out.putInt(PID_OFFSET, cpu.index() + 1);
        for (int i = 0; i < regs.length; i++) {
            out.putLong(REGS_OFFSET + 8 * i, regs[i]);
        }
        out.putInt(FPVALID_OFFSET, 1);
    }

    /** The registers of a descriptor, by {@link #REGISTERS} name. */
    public static Map<String, BigInteger> read(ByteBuffer in) {
        Map<String, BigInteger> regs = new LinkedHashMap<>();
        for (int i = 0; i < REGISTERS.size(); i++) {
            regs.put(REGISTERS.get(i), Registers.unsigned(in.getLong(REGS_OFFSET + 8 * i)));
        }
        return regs;
    }
}
