package io.guestdump.arch.arm;

import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.elf.Alignment;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The arm64 Linux SVE regset as QEMU's {@code aarch64_write_elf64_sve} writes it (owner LINUX, {@code NT_ARM_SVE}),
 * for a vector length of {@code vq} quadwords (128-bit units):
 *
 * <pre>
 *   struct user_sve_header { size u32 · max_size u32 · vl u16 (= vq × 16) · max_vl u16 · flags u16 (= 1, SVE regs)
 *                            · reserved u16 }                                   16 bytes
 *   z0..z31       vq × 16 bytes each, from offset 16
 *   p0..p15, ffr  vq × 2 bytes each
 *   pad to 16 · fpsr u32 · fpcr u32 · pad to 16
 * </pre>
 *
 * Sizes: vq 1 → 592, 2 → 1136, 4 → 2224, 8 → 4400, 16 → 8768. The header fields, fpsr and fpcr are in the dump's
 * byte order; the Z, P and FFR bytes are in the architecture's endianness-invariant layout (byte i holds bits
 * 8i+7..8i, i.e. little-endian) whatever the dump's byte order, as Linux and QEMU store them.
 */
public final class Aarch64SveState {
    /** {@code user_sve_header.size}: bytes of this regset for the current vector length. */
    public static final int HEADER_SIZE_OFFSET = 0;
    /** {@code user_sve_header.max_size}: bytes of this regset at the CPU's maximum vector length. */
    public static final int HEADER_MAX_SIZE_OFFSET = 4;
    /** {@code user_sve_header.vl}: current vector length in bytes. */
    public static final int HEADER_VL_OFFSET = 8;
    /** {@code user_sve_header.max_vl}: maximum vector length in bytes. */
    public static final int HEADER_MAX_VL_OFFSET = 10;
    /** {@code user_sve_header.flags}: {@link #SVE_PT_REGS_SVE}. */
    public static final int HEADER_FLAGS_OFFSET = 12;
    /** {@code sizeof(struct user_sve_header)}. */
    public static final int HEADER_SIZE = 16;
    /** {@code SVE_PT_REGS_SVE}: the payload holds full SVE registers (not the FPSIMD view). */
    public static final int SVE_PT_REGS_SVE = 1;
    /** Number of Z registers. */
    public static final int ZREG_COUNT = 32;
    /** Number of P registers; FFR follows them as the 17th predicate. */
    public static final int PREG_COUNT = 16;
    /** Largest vector length in quadwords (2048 bits). */
    public static final int MAX_VQ = 16;

    private static final int QUADWORD = 16;

    private Aarch64SveState() {}

    /** Offset of Z register {@code n} for vector length {@code vq}. */
    public static int zregOffset(int vq, int n) {
        return Alignment.up(HEADER_SIZE, QUADWORD) + vq * QUADWORD * n;
    }

    /** Offset of predicate {@code n} (16 = FFR) for vector length {@code vq}. */
    public static int pregOffset(int vq, int n) {
        return zregOffset(vq, ZREG_COUNT) + vq * QUADWORD / 8 * n;
    }

    /** Offset of fpsr for vector length {@code vq}. */
    public static int fpsrOffset(int vq) {
        return Alignment.up(pregOffset(vq, PREG_COUNT + 1), QUADWORD);
    }

    /** Offset of fpcr for vector length {@code vq}. */
    public static int fpcrOffset(int vq) {
        return fpsrOffset(vq) + 4;
    }

    /** Descriptor size for vector length {@code vq} (QEMU {@code sve_size_vq}). */
    public static int size(int vq) {
        checkVq(vq);
        return Alignment.up(fpcrOffset(vq) + 4, QUADWORD);
    }

    /** Bytes of one Z register. */
    public static int zregSize(int vq) {
        return vq * QUADWORD;
    }

    /** Bytes of one predicate. */
    public static int pregSize(int vq) {
        return vq * QUADWORD / 8;
    }

    private static void checkVq(int vq) {
        if (vq < 1 || vq > MAX_VQ) {
            throw new IllegalArgumentException("SVE vector length must be 1.." + MAX_VQ + " quadwords: " + vq);
        }
    }

    /** Fills the descriptor of one vCPU with vector length {@code vq} (the table's, see {@link SveConfig}). */
    public static void write(VcpuState cpu, int vq, int maxVq, ByteBuffer out) {
        out.putInt(HEADER_SIZE_OFFSET, size(vq));
        out.putInt(HEADER_MAX_SIZE_OFFSET, size(maxVq));
        out.putShort(HEADER_VL_OFFSET, (short) (vq * QUADWORD));
        out.putShort(HEADER_MAX_VL_OFFSET, (short) (maxVq * QUADWORD));
        out.putShort(HEADER_FLAGS_OFFSET, (short) SVE_PT_REGS_SVE);
        for (int n = 0; n < ZREG_COUNT; n++) {
            String name = "z" + n;
            BigInteger z = cpu.has(name) ? cpu.value(name) : Aarch32Sync.vreg(cpu, n);
            putLittleEndian(out, zregOffset(vq, n), zregSize(vq), z, cpu, name, vq);
        }
        for (int n = 0; n <= PREG_COUNT; n++) {
            String name = n == PREG_COUNT ? "ffr" : "p" + n;
            putLittleEndian(out, pregOffset(vq, n), pregSize(vq), cpu.value(name), cpu, name, vq);
        }
        out.putInt(fpsrOffset(vq), Aarch32Sync.fpsr(cpu));
        out.putInt(fpcrOffset(vq), Aarch32Sync.fpcr(cpu));
    }

    /** The registers of a descriptor: z0..z31, p0..p15, ffr, fpsr, fpcr, sve_vq, sve_max_vq. */
    public static Map<String, BigInteger> read(ByteBuffer in, String where) {
        if (in.capacity() < HEADER_SIZE) {
            throw new InvalidInputException(where + ": NT_ARM_SVE descriptor of " + in.capacity()
                    + " bytes is shorter than its " + HEADER_SIZE + "-byte header");
        }
        int vl = Short.toUnsignedInt(in.getShort(HEADER_VL_OFFSET));
        int maxVl = Short.toUnsignedInt(in.getShort(HEADER_MAX_VL_OFFSET));
        int flags = Short.toUnsignedInt(in.getShort(HEADER_FLAGS_OFFSET));
        int vq = vl / QUADWORD;
        if (vl % QUADWORD != 0 || vq < 1 || vq > MAX_VQ || in.capacity() < size(vq)) {
            throw new InvalidInputException(where + ": NT_ARM_SVE header says vl=" + vl + " bytes but the descriptor"
                    + " has " + in.capacity() + " bytes; vl must be a multiple of 16 up to 256 and the descriptor"
                    + " at least the size that vl implies");
        }
        if ((flags & SVE_PT_REGS_SVE) == 0) {
            throw new InvalidInputException(where + ": NT_ARM_SVE flags=0x" + Integer.toHexString(flags)
                    + " hold the FPSIMD view, not SVE registers; only SVE_PT_REGS_SVE payloads (as QEMU writes)"
                    + " can be read");
        }
        Map<String, BigInteger> regs = new LinkedHashMap<>();
        for (int n = 0; n < ZREG_COUNT; n++) {
            regs.put("z" + n, getLittleEndian(in, zregOffset(vq, n), zregSize(vq)));
        }
        for (int n = 0; n < PREG_COUNT; n++) {
            regs.put("p" + n, getLittleEndian(in, pregOffset(vq, n), pregSize(vq)));
        }
        regs.put("ffr", getLittleEndian(in, pregOffset(vq, PREG_COUNT), pregSize(vq)));
        regs.put("fpsr", Registers.unsigned(in.getInt(fpsrOffset(vq))));
        regs.put("fpcr", Registers.unsigned(in.getInt(fpcrOffset(vq))));
        regs.put(SveConfig.SVE_VQ, BigInteger.valueOf(vq));
        regs.put(SveConfig.SVE_MAX_VQ, BigInteger.valueOf(maxVl % QUADWORD == 0 && maxVl >= vl ? maxVl / QUADWORD : vq));
        return regs;
    }

    private static void putLittleEndian(ByteBuffer out, int at, int size, BigInteger value, VcpuState cpu,
            String name, int vq) {
        if (value.bitLength() > size * 8) {
            throw new InvalidInputException("vCPU " + cpu.index() + ": " + name + " = 0x" + value.toString(16)
                    + " does not fit " + size * 8 + " bits, its width at the SVE vector length of " + vq
                    + " quadwords; raise sve_vq or correct the register value");
        }
        byte[] big = value.toByteArray();
        for (int i = 0; i < size; i++) {
            int from = big.length - 1 - i;
            out.put(at + i, from >= 0 ? big[from] : 0);
        }
    }

    private static BigInteger getLittleEndian(ByteBuffer in, int at, int size) {
        byte[] big = new byte[size];
        for (int i = 0; i < size; i++) {
            big[size - 1 - i] = in.get(at + i);
        }
        return new BigInteger(1, big);
    }
}
