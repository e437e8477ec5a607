package io.guestdump.arch.arm;

import io.guestdump.arch.api.VcpuState;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code struct user_vfp} of 32-bit ARM Linux as QEMU's {@code arm_user_vfp_state} writes it (owner LINUX,
 * {@code NT_ARM_VFP}):
 *
 * <pre>
 *   fpregs d0..d31 (32 × u64) · fpscr u32  = 260 bytes
 * </pre>
 */
public final class ArmVfpState {
    /** {@code fpregs[32]}. */
    public static final int DREGS_OFFSET = 0;
    /** Number of D registers QEMU writes (always 32; the upper 16 are 0 on a VFP-D16 CPU). */
    public static final int DREG_COUNT = 32;
    /** {@code fpscr}. */
    public static final int FPSCR_OFFSET = 256;
    /** {@code sizeof(struct user_vfp)}. */
    public static final int SIZE = 260;

    private ArmVfpState() {}

    /** Whether the vCPU has VFP: it carries a D register or {@code fpscr} (the monitor prints them only then). */
    public static boolean hasVfp(VcpuState cpu) {
        if (cpu.has("fpscr")) {
            return true;
        }
        for (int i = 0; i < DREG_COUNT; i++) {
            if (cpu.has("d" + i)) {
                return true;
            }
        }
        return false;
    }

    /** Fills the descriptor for one vCPU. */
    public static void write(VcpuState cpu, ByteBuffer out) {
        for (int i = 0; i < DREG_COUNT; i++) {
            out.putLong(DREGS_OFFSET + 8 * i, cpu.u64("d" + i));
        }
        out.putInt(FPSCR_OFFSET, cpu.u32("fpscr"));
    }

    /** The registers of a descriptor: d0..d31, fpscr. */
    public static Map<String, BigInteger> read(ByteBuffer in) {
        Map<String, BigInteger> regs = new LinkedHashMap<>();
        for (int i = 0; i < DREG_COUNT; i++) {
            regs.put("d" + i, Registers.unsigned(in.getLong(DREGS_OFFSET + 8 * i)));
        }
        regs.put("fpscr", Registers.unsigned(in.getInt(FPSCR_OFFSET)));
        return regs;
    }
}
