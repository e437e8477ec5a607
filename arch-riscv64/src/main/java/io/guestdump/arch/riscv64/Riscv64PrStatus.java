package io.guestdump.arch.riscv64;

import io.guestdump.arch.api.VcpuState;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code struct elf_prstatus} of the riscv64 Linux ABI, as QEMU 7.2's {@code riscv64_elf_prstatus} and the kernel's
 * {@code crash_save_cpu} write it (owner CORE, {@code NT_PRSTATUS}):
 *
 * <pre>
 *   pad 32 · pr_pid u32 · pad 76
 *   · pr_reg (struct user_regs_struct: pc, ra, sp, gp, tp, t0..t2, s0, s1, a0..a7, s2..s11, t3..t6 = pc, x1..x31;
 *             32 × u64)
 *   · pr_fpvalid u32 (0: no FP note follows) · pad 4  = 376 bytes
 * </pre>
 */
final class Riscv64PrStatus {
    /** {@code pr_pid}: the vCPU index + 1, as QEMU writes it. */
    static final int PID_OFFSET = 32;
    /** {@code pr_reg}: {@link #REGISTERS} as u64 each. */
    static final int REGS_OFFSET = 112;
    /** {@code pr_fpvalid}: 0; QEMU writes no floating-point note for riscv. */
    static final int FPVALID_OFFSET = 368;
    /** {@code sizeof(struct elf_prstatus)} on riscv64. */
    static final int SIZE = 376;

    /** {@code struct user_regs_struct} in order: pc, x1..x31. */
    static final List<String> REGISTERS = registers();

    private Riscv64PrStatus() {}

    private static List<String> registers() {
        List<String> names = new ArrayList<>(List.of("pc"));
        for (int i = 1; i < Riscv64Registers.GPRS; i++) {
            names.add(Riscv64Registers.gpr(i));
        }
        return List.copyOf(names);
    }

    /** Fills the descriptor for one vCPU (the buffer is zero-filled and in the dump's byte order). */
    static void write(VcpuState cpu, ByteBuffer out) {
        out.putInt(PID_OFFSET, cpu.index() + 1);
        for (int i = 0; i < REGISTERS.size(); i++) {
            out.putLong(REGS_OFFSET + 8 * i, cpu.u64(REGISTERS.get(i)));
        }
    }

    /** The registers of a descriptor, by {@link #REGISTERS} name. */
    static Map<String, BigInteger> read(ByteBuffer in) {
        Map<String, BigInteger> regs = new LinkedHashMap<>();
        for (int i = 0; i < REGISTERS.size(); i++) {
            regs.put(REGISTERS.get(i), new BigInteger(Long.toUnsignedString(in.getLong(REGS_OFFSET + 8 * i))));
        }
        return regs;
    }
}
