package io.guestdump.arch.s390x;

import static io.guestdump.arch.s390x.S390xRegisters.COUNT_16;
import static io.guestdump.arch.s390x.S390xRegisters.fpr;
import static io.guestdump.arch.s390x.S390xRegisters.unsigned;

import io.guestdump.arch.api.VcpuState;
import java.math.BigInteger;
import java.nio.ByteBuffer;

/**
 * The s390x {@code elf_fpregset_t} (QEMU {@code S390xElfFpregset}), descriptor of the CORE {@code NT_FPREGSET}
 * note:
 *
 * <pre>
 *   @0   fpc   u32
 *   @4   pad   u32          zero
 *   @8   fprs  16 × u64     f0 … f15 (fN = leftmost doubleword of vN)
 *   = 136 bytes, big-endian
 * </pre>
 */
public final class S390xFpregset {
    /** Descriptor size. */
    public static final int SIZE = 136;
    /** {@code fpc}. */
    public static final int FPC_OFFSET = 0;
    /** {@code fprs[0]}. */
    public static final int FPRS_OFFSET = 8;

    private S390xFpregset() {}

    /** Writes the descriptor of one vCPU. */
    public static void write(VcpuState cpu, ByteBuffer out) {
        out.putInt(FPC_OFFSET, cpu.u32(S390xRegisters.FPC));
        for (int i = 0; i < COUNT_16; i++) {
            out.putLong(FPRS_OFFSET + 8 * i, S390xRegisters.fprValue(cpu, i));
        }
    }

    /** Reads {@code fpc} and {@code f0}-{@code f15}. */
    public static void read(ByteBuffer in, VcpuState.Builder cpu) {
        cpu.set(S390xRegisters.FPC, unsigned(Integer.toUnsignedLong(in.getInt(FPC_OFFSET))));
        for (int i = 0; i < COUNT_16; i++) {
            cpu.set(fpr(i), unsigned(in.getLong(FPRS_OFFSET + 8 * i)));
        }
    }
}
