package io.guestdump.arch.arm;

import io.guestdump.arch.api.VcpuState;
import io.guestdump.elf.ElfData;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code struct user_fpsimd_state} of arm64 Linux as QEMU's {@code aarch64_user_vfp_state} writes it (owner CORE,
 * {@code NT_PRFPREG}):
 *
 * <pre>
 *   vregs v0..v31 (32 × 128 bits, each as two u64) · fpsr u32 · fpcr u32 · pad 8  = 528 bytes
 * </pre>
 *
 * <p>Each 128-bit V register is two u64 in the dump's byte order: low half first in a little-endian dump, high half
 * first in a big-endian one (QEMU swaps the halves so the 128-bit value reads correctly as one big-endian
 * {@code __uint128_t}).
 */
public final class Aarch64FpsimdState {
    /** {@code vregs[32]}: 16 bytes per register. */
    public static final int VREGS_OFFSET = 0;
    /** Bytes per V register. */
    public static final int VREG_SIZE = 16;
    /** Number of V registers. */
    public static final int VREG_COUNT = 32;
    /** {@code fpsr}. */
    public static final int FPSR_OFFSET = 512;
    /** {@code fpcr}. */
    public static final int FPCR_OFFSET = 516;
    /** {@code sizeof(struct user_fpsimd_state)} including the 8 bytes of padding. */
    public static final int SIZE = 528;

    private static final BigInteger U64_MASK = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

    private Aarch64FpsimdState() {}

    /** Fills the descriptor for one vCPU in the buffer's byte order. */
    public static void write(VcpuState cpu, ByteBuffer out) {
        boolean bigEndian = ElfData.of(out.order()) == ElfData.MSB;
        for (int i = 0; i < VREG_COUNT; i++) {
            BigInteger v = Aarch32Sync.vreg(cpu, i);
            long low = v.longValue();
            long high = v.shiftRight(64).longValue();
            int at = VREGS_OFFSET + VREG_SIZE * i;
            // QEMU: halves swapped in a big-endian dump so that the 16 bytes read as one big-endian 128-bit value
            out.putLong(at, bigEndian ? high : low);
            out.putLong(at + 8, bigEndian ? low : high);
        }
        out.putInt(FPSR_OFFSET, Aarch32Sync.fpsr(cpu));
        out.putInt(FPCR_OFFSET, Aarch32Sync.fpcr(cpu));
    }

    /** The registers of a descriptor: v0..v31, fpsr, fpcr. */
    public static Map<String, BigInteger> read(ByteBuffer in) {
        boolean bigEndian = ElfData.of(in.order()) == ElfData.MSB;
        Map<String, BigInteger> regs = new LinkedHashMap<>();
        for (int i = 0; i < VREG_COUNT; i++) {
            int at = VREGS_OFFSET + VREG_SIZE * i;
            long first = in.getLong(at);
            long second = in.getLong(at + 8);
            long low = bigEndian ? second : first;
            long high = bigEndian ? first : second;
            regs.put("v" + i, Registers.unsigned(high).shiftLeft(64).or(Registers.unsigned(low).and(U64_MASK)));
        }
        regs.put("fpsr", Registers.unsigned(in.getInt(FPSR_OFFSET)));
        regs.put("fpcr", Registers.unsigned(in.getInt(FPCR_OFFSET)));
        return regs;
    }
}
