package io.guestdump.arch.ppc64;

import io.guestdump.arch.api.VcpuState;
import java.nio.ByteBuffer;

/**
 * The NT_PRFPREG descriptor ({@code elf_fpregset_t}, QEMU's {@code PPCElfFpregset}), 264 bytes:
 *
 * <pre>
 *   @0    fpr[32] u64     fpr0-fpr31
 *   @256  fpscr u64
 *   = 264
 * </pre>
 */
public final class Ppc64FpRegSet {
    /** Offset of {@code fpr[0]}. */
    public static final int FPR_OFFSET = 0;
    /** Offset of {@code fpscr}. */
    public static final int FPSCR_OFFSET = 256;
    /** Descriptor size. */
    public static final int SIZE = 264;

    private Ppc64FpRegSet() {}

    /** Fills the zeroed descriptor for one vCPU. */
    public static void write(VcpuState cpu, ByteBuffer out) {
        for (int i = 0; i < Ppc64Registers.FPRS.size(); i++) {
            out.putLong(FPR_OFFSET + i * Long.BYTES, cpu.u64(Ppc64Registers.FPRS.get(i)));
        }
        out.putLong(FPSCR_OFFSET, cpu.u64("fpscr"));
    }

    /** Reads the descriptor into the builder. */
    public static void read(ByteBuffer in, VcpuState.Builder into) {
        for (int i = 0; i < Ppc64Registers.FPRS.size(); i++) {
            into.set(Ppc64Registers.FPRS.get(i), in.getLong(FPR_OFFSET + i * Long.BYTES));
        }
        into.set("fpscr", in.getLong(FPSCR_OFFSET));
    }
}
