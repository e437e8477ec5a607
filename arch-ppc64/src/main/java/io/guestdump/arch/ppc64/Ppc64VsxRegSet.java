package io.guestdump.arch.ppc64;

import io.guestdump.arch.api.VcpuState;
import java.nio.ByteBuffer;

/**
 * The NT_PPC_VSX descriptor (QEMU's {@code PPCElfVsxregset}), 256 bytes: doubleword 1 of VSR 0..31, the half
 * that the FPRs do not hold.
 *
 * <pre>
 *   @0    vsr[32] u64    vsrl0-vsrl31
 *   = 256
 * </pre>
 */
public final class Ppc64VsxRegSet {
    /** Offset of {@code vsr[0]}. */
    public static final int VSRL_OFFSET = 0;
    /** Descriptor size. */
    public static final int SIZE = 256;

    private Ppc64VsxRegSet() {}

    /** Fills the zeroed descriptor for one vCPU. */
    public static void write(VcpuState cpu, ByteBuffer out) {
        for (int i = 0; i < Ppc64Registers.VSRLS.size(); i++) {
            out.putLong(VSRL_OFFSET + i * Long.BYTES, cpu.u64(Ppc64Registers.VSRLS.get(i)));
        }
    }

    /** Reads the descriptor into the builder. */
    public static void read(ByteBuffer in, VcpuState.Builder into) {
        for (int i = 0; i < Ppc64Registers.VSRLS.size(); i++) {
            into.set(Ppc64Registers.VSRLS.get(i), in.getLong(VSRL_OFFSET + i * Long.BYTES));
        }
    }
}
