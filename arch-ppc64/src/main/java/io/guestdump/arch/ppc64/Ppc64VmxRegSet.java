package io.guestdump.arch.ppc64;

import io.guestdump.arch.api.VcpuState;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The NT_PPC_VMX descriptor (Altivec state, QEMU's {@code PPCElfVmxregset}), 34 quadwords = 544 bytes:
 *
 * <pre>
 *   @0    vr[32] 16 bytes each   vr0-vr31, each the 128-bit value in the dump's byte order
 *   @512  quadword 32: pad 12, vscr u32 @524 (the last word)
 *   @528  quadword 33: vrsave u32 @528 (the first word, Linux's layout), pad 12
 *   = 544
 * </pre>
 *
 * <p>"The 128-bit value in the dump's byte order" is what QEMU's half-and-byte swap amounts to: for a big-endian
 * dump the most significant byte comes first; for a little-endian dump the least significant byte comes first,
 * i.e. the low doubleword precedes the high one, each little-endian.
 */
public final class Ppc64VmxRegSet {
    /** Bytes of one vector register. */
    public static final int VR_SIZE = 16;
    /** Offset of {@code vr[0]}. */
    public static final int VR_OFFSET = 0;
    /** Offset of {@code vscr}: last word of quadword 32. */
    public static final int VSCR_OFFSET = 32 * VR_SIZE + 12;
    /** Offset of {@code vrsave}: first word of quadword 33. */
    public static final int VRSAVE_OFFSET = 33 * VR_SIZE;
    /** Descriptor size. */
    public static final int SIZE = 34 * VR_SIZE;

    private static final BigInteger MASK_64 = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

    private Ppc64VmxRegSet() {}

    /** Fills the zeroed descriptor for one vCPU. */
    public static void write(VcpuState cpu, ByteBuffer out) {
        for (int i = 0; i < Ppc64Registers.VRS.size(); i++) {
            put128(out, VR_OFFSET + i * VR_SIZE, cpu.value(Ppc64Registers.VRS.get(i)));
        }
        out.putInt(VSCR_OFFSET, cpu.u32(Ppc64Registers.VSCR));
        out.putInt(VRSAVE_OFFSET, cpu.u32("vrsave"));
    }

    /** Reads the descriptor into the builder. */
    public static void read(ByteBuffer in, VcpuState.Builder into) {
        for (int i = 0; i < Ppc64Registers.VRS.size(); i++) {
            into.set(Ppc64Registers.VRS.get(i), get128(in, VR_OFFSET + i * VR_SIZE));
        }
        into.set(Ppc64Registers.VSCR, Integer.toUnsignedLong(in.getInt(VSCR_OFFSET)));
        into.set("vrsave", Integer.toUnsignedLong(in.getInt(VRSAVE_OFFSET)));
    }

    /** Writes a 128-bit unsigned value as 16 bytes in the buffer's byte order. */
    static void put128(ByteBuffer out, int offset, BigInteger value) {
        if (value.bitLength() > 128) {
            throw new IllegalArgumentException("vector register value 0x" + value.toString(16)
                    + " does not fit 128 bits");
        }
        long high = value.shiftRight(64).longValue();
        long low = value.and(MASK_64).longValue();
        boolean bigEndian = out.order() == ByteOrder.BIG_ENDIAN;
        out.putLong(offset, bigEndian ? high : low);
        out.putLong(offset + Long.BYTES, bigEndian ? low : high);
    }

    /** Reads 16 bytes in the buffer's byte order as a 128-bit unsigned value. */
    static BigInteger get128(ByteBuffer in, int offset) {
        boolean bigEndian = in.order() == ByteOrder.BIG_ENDIAN;
        long first = in.getLong(offset);
        long second = in.getLong(offset + Long.BYTES);
        long high = bigEndian ? first : second;
        long low = bigEndian ? second : first;
        return unsigned(high).shiftLeft(64).or(unsigned(low));
    }

    private static BigInteger unsigned(long value) {
        return new BigInteger(Long.toUnsignedString(value));
    }
}
