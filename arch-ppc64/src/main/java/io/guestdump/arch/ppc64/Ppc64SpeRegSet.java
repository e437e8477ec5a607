package io.guestdump.arch.ppc64;

import io.guestdump.arch.api.VcpuState;
import java.nio.ByteBuffer;

/**
 * The NT_PPC_SPE descriptor (QEMU's packed {@code PPCElfSperegset}), 140 bytes:
 *
 * <pre>
 *   @0    evr[32] u32    upper GPR halves; QEMU writes zeros, so do we
 *   @128  spe_acc u64
 *   @136  spefscr u32
 *   = 140
 * </pre>
 */
public final class Ppc64SpeRegSet {
    /** Offset of {@code evr[0]}. */
    public static final int EVR_OFFSET = 0;
    /** Offset of {@code spe_acc}. */
    public static final int SPE_ACC_OFFSET = 128;
    /** Offset of {@code spefscr}. */
    public static final int SPEFSCR_OFFSET = 136;
    /** Descriptor size. */
    public static final int SIZE = 140;

    private Ppc64SpeRegSet() {}

    /** Fills the zeroed descriptor for one vCPU. */
    public static void write(VcpuState cpu, ByteBuffer out) {
        out.putLong(SPE_ACC_OFFSET, cpu.u64(Ppc64Registers.SPE_ACC));
        out.putInt(SPEFSCR_OFFSET, cpu.u32(Ppc64Registers.SPEFSCR));
    }

    /** Reads the descriptor into the builder; {@code evr} is not kept. */
    public static void read(ByteBuffer in, VcpuState.Builder into) {
        into.set(Ppc64Registers.SPE_ACC, in.getLong(SPE_ACC_OFFSET));
        into.set(Ppc64Registers.SPEFSCR, Integer.toUnsignedLong(in.getInt(SPEFSCR_OFFSET)));
    }
}
