package io.guestdump.arch.riscv64;

import io.guestdump.arch.api.PrStatus;
import io.guestdump.elf.ElfClass;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code struct elf_prstatus} of the riscv64 Linux ABI, as QEMU 7.2's {@code riscv64_elf_prstatus} and the kernel's
 * {@code crash_save_cpu} write it (owner CORE, {@code NT_PRSTATUS}), on the API's one {@link PrStatus} frame:
 *
 * <pre>
 *   pad 32 · pr_pid u32 · pad 76
 *   · pr_reg (struct user_regs_struct: pc, ra, sp, gp, tp, t0..t2, s0, s1, a0..a7, s2..s11, t3..t6 = pc, x1..x31;
 *             32 × u64)
 *   · pr_fpvalid u32 (0: no FP note follows) · pad 4  = 376 bytes
 * </pre>
 */
final class Riscv64PrStatus {
    /** {@code struct user_regs_struct} in order: pc, x1..x31. */
    static final List<String> REGISTERS = registers();
    /** The frame: 32 eight-byte slots. */
    static final PrStatus FRAME = PrStatus.uniform(ElfClass.ELF64, 8, REGISTERS);
    /** {@code pr_pid}: the vCPU index + 1, as QEMU writes it. */
    static final int PID_OFFSET = FRAME.pidOffset();
    /** {@code pr_reg}. */
    static final int REGS_OFFSET = FRAME.regOffset();
    /** {@code pr_fpvalid}: 0; QEMU writes no floating-point note for riscv. */
    static final int FPVALID_OFFSET = FRAME.fpvalidOffset();
    /** {@code sizeof(struct elf_prstatus)} on riscv64. */
    static final int SIZE = FRAME.size();

    private Riscv64PrStatus() {}

    private static List<String> registers() {
        List<String> names = new ArrayList<>(List.of("pc"));
        for (int i = 1; i < Riscv64Registers.GPRS; i++) {
            names.add(Riscv64Registers.gpr(i));
        }
        return List.copyOf(names);
    }
}
