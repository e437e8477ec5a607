package io.guestdump.arch.arm;

import io.guestdump.arch.api.PrStatus;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.elf.ElfClass;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code struct elf_prstatus} of the 32-bit ARM Linux ABI as QEMU's {@code arm_elf_prstatus} writes it (owner CORE,
 * {@code NT_PRSTATUS}): the Linux frame ({@link PrStatus}, ELF32) around {@code struct pt_regs} (r0..r15, cpsr,
 * ORIG_r0 = 18 × u32), {@code pr_fpvalid} = 148 bytes.
 */
public final class ArmPrStatus {
    /** {@code struct pt_regs} in order without ORIG_r0: r0..r15, cpsr. */
    public static final List<String> REGISTERS = registers();
    /** The frame: {@link #REGISTERS}, then the ORIG_r0 slot QEMU writes as 0. */
    public static final PrStatus FRAME = PrStatus.uniform(ElfClass.ELF32, 4, withOrigR0());
    /** {@code pr_pid}: QEMU writes the vCPU index + 1. */
    public static final int PID_OFFSET = FRAME.pidOffset();
    /** {@code pr_reg}: {@link #REGISTERS} as u32 each, then the ORIG_r0 slot. */
    public static final int REGS_OFFSET = FRAME.regOffset();
    /** {@code pr_reg[17]} (ORIG_r0): QEMU writes 0. */
    public static final int ORIG_R0_OFFSET = REGS_OFFSET + 4 * 17;
    /** {@code pr_fpvalid}: 1 when the vCPU has VFP. */
    public static final int FPVALID_OFFSET = FRAME.fpvalidOffset();
    /** {@code sizeof(struct elf_prstatus)}. */
    public static final int SIZE = FRAME.size();

    private ArmPrStatus() {}

    private static List<String> registers() {
        List<String> names = new ArrayList<>();
        for (int i = 0; i <= 15; i++) {
            names.add("r" + i);
        }
        names.add("cpsr");
        return List.copyOf(names);
    }

    private static List<String> withOrigR0() {
        List<String> names = new ArrayList<>(registers());
        names.add(null);
        return names;
    }

    /** Fills the descriptor for one vCPU; {@code fpvalid} says whether the guest's vCPUs have VFP. */
    public static void write(VcpuState cpu, boolean fpvalid, ByteBuffer out) {
        FRAME.write(cpu, out, (c, r) -> Integer.toUnsignedLong(c.u32(r)));
        FRAME.writeFpvalid(out, fpvalid);
    }

    /** Reads the registers of a descriptor by {@link #REGISTERS} name, and {@code pr_pid}. */
    public static void read(ByteBuffer in, VcpuState.Builder into) {
        FRAME.read(in, into);
    }
}
