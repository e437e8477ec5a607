package io.guestdump.arch.arm;

import io.guestdump.arch.api.VcpuState;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code struct elf_prstatus} of the 32-bit ARM Linux ABI as QEMU's {@code arm_elf_prstatus} writes it (owner CORE,
 * {@code NT_PRSTATUS}):
 *
 * <pre>
 *   pad 24 · pr_pid u32 · pad 44 · pr_reg (struct pt_regs: r0..r15, cpsr, ORIG_r0 = 18 × u32) · pr_fpvalid u32
 *   = 148 bytes
 * </pre>
 */
public final class ArmPrStatus {
    /** {@code pr_pid}: QEMU writes the vCPU index + 1. */
    public static final int PID_OFFSET = 24;
    /** {@code pr_reg}: {@link #REGISTERS} as u32 each, then the ORIG_r0 slot. */
    public static final int REGS_OFFSET = 72;
    /** {@code pr_reg[17]} (ORIG_r0): QEMU writes 0. */
    public static final int ORIG_R0_OFFSET = 140;
    /** {@code pr_fpvalid}: 1 when the vCPU has VFP. */
    public static final int FPVALID_OFFSET = 144;
    /** {@code sizeof(struct elf_prstatus)}. */
    public static final int SIZE = 148;

    /** {@code struct pt_regs} in order without ORIG_r0: r0..r15, cpsr. */
    public static final List<String> REGISTERS = registers();

    private ArmPrStatus() {}

    private static List<String> registers() {
        List<String> names = new ArrayList<>();
        for (int i = 0; i <= 15; i++) {
            names.add("r" + i);
        }
        names.add("cpsr");
        return List.copyOf(names);
    }

    /** Fills the descriptor for one vCPU; {@code fpvalid} says whether the guest's vCPUs have VFP. */
    public static void write(VcpuState cpu, boolean fpvalid, ByteBuffer out) {
        out.putInt(PID_OFFSET, cpu.index() + 1);
        for (int i = 0; i < REGISTERS.size(); i++) {
            out.putInt(REGS_OFFSET + 4 * i, cpu.u32(REGISTERS.get(i)));
        }
        out.putInt(ORIG_R0_OFFSET, 0);
        out.putInt(FPVALID_OFFSET, fpvalid ? 1 : 0);
    }

    /** The registers of a descriptor, by {@link #REGISTERS} name. */
    public static Map<String, BigInteger> read(ByteBuffer in) {
        Map<String, BigInteger> regs = new LinkedHashMap<>();
        for (int i = 0; i < REGISTERS.size(); i++) {
            regs.put(REGISTERS.get(i), Registers.unsigned(in.getInt(REGS_OFFSET + 4 * i)));
        }
        return regs;
    }
}
