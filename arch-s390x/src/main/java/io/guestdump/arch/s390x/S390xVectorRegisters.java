package io.guestdump.arch.s390x;

import static io.guestdump.arch.s390x.S390xRegisters.COUNT_16;
import static io.guestdump.arch.s390x.S390xRegisters.fpr;
import static io.guestdump.arch.s390x.S390xRegisters.leftDoubleword;
import static io.guestdump.arch.s390x.S390xRegisters.rightDoubleword;
import static io.guestdump.arch.s390x.S390xRegisters.vector;
import static io.guestdump.arch.s390x.S390xRegisters.vr;

import io.guestdump.arch.api.VcpuState;
import java.math.BigInteger;
import java.nio.ByteBuffer;

/**
 * The two LINUX vector-register notes (QEMU {@code S390xElfVregsLo} and {@code S390xElfVregsHi}). The leftmost
 * doublewords of v0-v15 are the floating-point registers and travel in {@code NT_FPREGSET}; only their rightmost
 * doublewords are here.
 *
 * <pre>
 *   NT_S390_VXRS_LOW  (0x309)   @0  16 × u64          rightmost doubleword of v0 … v15      = 128 bytes
 *   NT_S390_VXRS_HIGH (0x30a)   @0  16 × (u64, u64)   v16 … v31, leftmost doubleword first   = 256 bytes
 * </pre>
 */
public final class S390xVectorRegisters {
    /** Descriptor size of {@code NT_S390_VXRS_LOW}. */
    public static final int LOW_SIZE = COUNT_16 * 8;
    /** Descriptor size of {@code NT_S390_VXRS_HIGH}. */
    public static final int HIGH_SIZE = COUNT_16 * 16;
    /** The first vector register in {@code NT_S390_VXRS_HIGH}. */
    public static final int HIGH_FIRST = 16;

    private S390xVectorRegisters() {}

    /** Writes the rightmost doublewords of v0-v15. */
    public static void writeLow(VcpuState cpu, ByteBuffer out) {
        for (int i = 0; i < COUNT_16; i++) {
            out.putLong(8 * i, rightDoubleword(cpu.value(vr(i))));
        }
    }

    /**
     * Reads v0-v15: the rightmost doublewords from this note, the leftmost from {@code f0}-{@code f15} when the
     * {@code NT_FPREGSET} note was read before (0 otherwise).
     */
    public static void readLow(ByteBuffer in, VcpuState.Builder cpu) {
        for (int i = 0; i < COUNT_16; i++) {
            long left = cpu.value(fpr(i)).longValue();
            cpu.set(vr(i), vector(left, in.getLong(8 * i)));
        }
    }

    /** Writes v16-v31 whole. */
    public static void writeHigh(VcpuState cpu, ByteBuffer out) {
        for (int i = 0; i < COUNT_16; i++) {
            BigInteger v = cpu.value(vr(HIGH_FIRST + i));
            out.putLong(16 * i, leftDoubleword(v));
            out.putLong(16 * i + 8, rightDoubleword(v));
        }
    }

    /** Reads v16-v31. */
    public static void readHigh(ByteBuffer in, VcpuState.Builder cpu) {
        for (int i = 0; i < COUNT_16; i++) {
            cpu.set(vr(HIGH_FIRST + i), vector(in.getLong(16 * i), in.getLong(16 * i + 8)));
        }
    }
}
