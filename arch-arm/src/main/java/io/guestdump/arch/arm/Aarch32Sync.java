package io.guestdump.arch.arm;

import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.VcpuState;
import java.math.BigInteger;

/**
 * The AArch64 view of a vCPU, whichever state it is in: QEMU's {@code aarch64_sync_32_to_64} for a vCPU of an
 * AArch64 guest that runs in AArch32 state, and the FP/SIMD register views that QEMU reads from one storage.
 *
 * <p>A vCPU is in AArch32 state when it carries {@code cpsr} and no {@code pstate}; the monitor text shows such a
 * vCPU with {@code R00..R15} and {@code PSR=} lines instead of {@code PC=}/{@code X00..}/{@code PSTATE=}. Its
 * current-mode registers {@code r0..r15} are placed in the AArch64 slots the architecture assigns to the mode (for
 * example {@code r13}/{@code r14} of SVC mode in {@code x19}/{@code x18}); the banked registers of the other modes
 * are taken from {@code x*} registers a snapshot may supply, else 0 (the monitor text does not show them).
 */
public final class Aarch32Sync {
    /** {@code CPSR.M} of User mode. */
    public static final int MODE_USR = 0x10;
    /** {@code CPSR.M} of FIQ mode. */
    public static final int MODE_FIQ = 0x11;
    /** {@code CPSR.M} of IRQ mode. */
    public static final int MODE_IRQ = 0x12;
    /** {@code CPSR.M} of Supervisor mode. */
    public static final int MODE_SVC = 0x13;
    /** {@code CPSR.M} of Abort mode. */
    public static final int MODE_ABT = 0x17;
    /** {@code CPSR.M} of Hyp mode. */
    public static final int MODE_HYP = 0x1a;
    /** {@code CPSR.M} of Undefined mode. */
    public static final int MODE_UND = 0x1b;
    /** {@code CPSR.M} of System mode. */
    public static final int MODE_SYS = 0x1f;

    /** QEMU {@code FPSR_MASK}: the FPSCR bits that AArch64 shows in FPSR. */
    public static final int FPSR_MASK = 0xf800009f;
    /** QEMU {@code FPCR_MASK}: the FPSCR bits that AArch64 shows in FPCR. */
    public static final int FPCR_MASK = 0x07ff9f00;

    private static final BigInteger U128_MASK = BigInteger.ONE.shiftLeft(128).subtract(BigInteger.ONE);
    private static final BigInteger U64_MASK = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

    private Aarch32Sync() {}

    /** Whether the vCPU of an AArch64 guest is in AArch32 state; throws when it claims both states. */
    public static boolean inAarch32State(VcpuState cpu) {
        if (cpu.has("cpsr") && cpu.has("pstate")) {
            throw new InvalidInputException("vCPU " + cpu.index() + " has both pstate (AArch64 state) and cpsr"
                    + " (AArch32 state); give pstate for a vCPU in AArch64 state, cpsr for one in AArch32 state");
        }
        return cpu.has("cpsr");
    }

    /** {@code struct user_pt_regs} of the vCPU: x0..x30, sp, pc, pstate, as QEMU writes them. */
    public static long[] userPtRegs(VcpuState cpu) {
        long[] regs = new long[Aarch64PrStatus.REGISTERS.size()];
        for (int i = 0; i < regs.length; i++) {
            regs[i] = cpu.u64(Aarch64PrStatus.REGISTERS.get(i));
        }
        if (!inAarch32State(cpu)) {
            return regs;
        }
        int mode = cpu.u32("cpsr") & 0x1f;
        long[] r = new long[16];
        for (int i = 0; i < 16; i++) {
            r[i] = Integer.toUnsignedLong(cpu.u32("r" + i));
        }
        for (int i = 0; i < 8; i++) {
            regs[i] = r[i];
        }
        if (mode != MODE_FIQ) {
            for (int i = 8; i < 13; i++) {
                regs[i] = r[i];
            }
        }
        if (mode == MODE_USR || mode == MODE_SYS) {
            regs[13] = r[13];
            regs[14] = r[14];
        } else if (mode == MODE_HYP) {
            regs[14] = r[14];
            regs[15] = r[13];
        }
        bankedPair(regs, mode, MODE_IRQ, 16, r);
        bankedPair(regs, mode, MODE_SVC, 18, r);
        bankedPair(regs, mode, MODE_ABT, 20, r);
        bankedPair(regs, mode, MODE_UND, 22, r);
        if (mode == MODE_FIQ) {
            for (int i = 24; i <= 30; i++) {
                regs[i] = r[i - 16];
            }
        }
        regs[31] = 0; // QEMU: sp = 0 for a vCPU in AArch32 state
        regs[32] = r[15];
        regs[33] = Integer.toUnsignedLong(cpu.u32("cpsr"));
        return regs;
    }

    private static void bankedPair(long[] regs, int mode, int bankMode, int lrSlot, long[] r) {
        if (mode == bankMode) {
            regs[lrSlot] = r[14];
            regs[lrSlot + 1] = r[13];
        }
    }

    /**
     * V register {@code n} (128 bits): the low 128 bits of {@code zN} (which must agree with {@code vN} when both
     * are given), else {@code vN}, else the pair
     * {@code d(2N)} (low) and {@code d(2N+1)} (high) of the AArch32 view.
     */
    public static BigInteger vreg(VcpuState cpu, int n) {
        if (cpu.has("z" + n)) {
            BigInteger low = cpu.value("z" + n).and(U128_MASK);
            if (cpu.has("v" + n) && !cpu.value("v" + n).equals(low)) {
                throw new InvalidInputException("vCPU " + cpu.index() + ": v" + n + " = 0x"
                        + cpu.value("v" + n).toString(16) + " differs from the low 128 bits of z" + n + " = 0x"
                        + low.toString(16) + "; V registers are the low halves of the SVE Z registers, so give"
                        + " z" + n + " alone or make them agree");
            }
            return low;
        }
        if (cpu.has("v" + n)) {
            return cpu.value("v" + n);
        }
        return cpu.value("d" + (2 * n + 1)).and(U64_MASK).shiftLeft(64).or(cpu.value("d" + 2 * n).and(U64_MASK));
    }

    /** FPSR: {@code fpsr}, else the FPSR bits of {@code fpscr}. */
    public static int fpsr(VcpuState cpu) {
        return cpu.has("fpsr") ? cpu.u32("fpsr") : cpu.u32("fpscr") & FPSR_MASK;
    }

    /** FPCR: {@code fpcr}, else the FPCR bits of {@code fpscr}. */
    public static int fpcr(VcpuState cpu) {
        return cpu.has("fpcr") ? cpu.u32("fpcr") : cpu.u32("fpscr") & FPCR_MASK;
    }
}
