package io.guestdump.arch.s390x;

import static io.guestdump.arch.s390x.S390xRegisters.COUNT_16;
import static io.guestdump.arch.s390x.S390xRegisters.GSCB_COUNT;
import static io.guestdump.arch.s390x.S390xRegisters.cr;
import static io.guestdump.arch.s390x.S390xRegisters.gscb;
import static io.guestdump.arch.s390x.S390xRegisters.unsigned;

import io.guestdump.arch.api.VcpuState;
import java.math.BigInteger;
import java.nio.ByteBuffer;

/**
 * The LINUX notes holding one system register or a small array of them (QEMU's {@code contents.prefix},
 * {@code ctrs}, {@code timer}, {@code todcmp}, {@code todpreg}, {@code gscb}), big-endian:
 *
 * <pre>
 *   NT_S390_PREFIX  (0x305)  u32         prefix                         =   4 bytes
 *   NT_S390_CTRS    (0x304)  16 × u64    c0 … c15                       = 128 bytes
 *   NT_S390_TIMER   (0x301)  u64         cpu_timer                      =   8 bytes
 *   NT_S390_TODCMP  (0x302)  u64         clock_comparator               =   8 bytes
 *   NT_S390_TODPREG (0x303)  u32         todpr                          =   4 bytes
 *   NT_S390_GS_CB   (0x30b)  4 × u64     gscb0 … gscb3                  =  32 bytes
 * </pre>
 */
public final class S390xSystemRegisters {
    /** {@code NT_S390_PREFIX} descriptor size. */
    public static final int PREFIX_SIZE = 4;
    /** {@code NT_S390_CTRS} descriptor size. */
    public static final int CTRS_SIZE = COUNT_16 * 8;
    /** {@code NT_S390_TIMER} descriptor size. */
    public static final int TIMER_SIZE = 8;
    /** {@code NT_S390_TODCMP} descriptor size. */
    public static final int TODCMP_SIZE = 8;
    /** {@code NT_S390_TODPREG} descriptor size. */
    public static final int TODPREG_SIZE = 4;
    /** {@code NT_S390_GS_CB} descriptor size. */
    public static final int GS_CB_SIZE = GSCB_COUNT * 8;

    private S390xSystemRegisters() {}

    /** Writes the prefix register. */
    public static void writePrefix(VcpuState cpu, ByteBuffer out) {
        out.putInt(0, cpu.u32(S390xRegisters.PREFIX));
    }

    /** Reads the prefix register. */
    public static void readPrefix(ByteBuffer in, VcpuState.Builder cpu) {
        cpu.set(S390xRegisters.PREFIX, unsigned(Integer.toUnsignedLong(in.getInt(0))));
    }

    /** Writes c0-c15. */
    public static void writeControlRegisters(VcpuState cpu, ByteBuffer out) {
        for (int i = 0; i < COUNT_16; i++) {
            out.putLong(8 * i, cpu.u64(cr(i)));
        }
    }

    /** Reads c0-c15. */
    public static void readControlRegisters(ByteBuffer in, VcpuState.Builder cpu) {
        for (int i = 0; i < COUNT_16; i++) {
            cpu.set(cr(i), unsigned(in.getLong(8 * i)));
        }
    }

    /** Writes the CPU timer. */
    public static void writeTimer(VcpuState cpu, ByteBuffer out) {
        out.putLong(0, cpu.u64(S390xRegisters.CPU_TIMER));
    }

    /** Reads the CPU timer. */
    public static void readTimer(ByteBuffer in, VcpuState.Builder cpu) {
        cpu.set(S390xRegisters.CPU_TIMER, unsigned(in.getLong(0)));
    }

    /** Writes the clock comparator. */
    public static void writeClockComparator(VcpuState cpu, ByteBuffer out) {
        out.putLong(0, cpu.u64(S390xRegisters.CLOCK_COMPARATOR));
    }

    /** Reads the clock comparator. */
    public static void readClockComparator(ByteBuffer in, VcpuState.Builder cpu) {
        cpu.set(S390xRegisters.CLOCK_COMPARATOR, unsigned(in.getLong(0)));
    }

    /** Writes the TOD programmable register. */
    public static void writeTodProgrammable(VcpuState cpu, ByteBuffer out) {
        out.putInt(0, cpu.u32(S390xRegisters.TODPR));
    }

    /** Reads the TOD programmable register. */
    public static void readTodProgrammable(ByteBuffer in, VcpuState.Builder cpu) {
        cpu.set(S390xRegisters.TODPR, unsigned(Integer.toUnsignedLong(in.getInt(0))));
    }

    /** Writes the guarded-storage control block. */
    public static void writeGuardedStorage(VcpuState cpu, ByteBuffer out) {
        for (int i = 0; i < GSCB_COUNT; i++) {
            out.putLong(8 * i, cpu.u64(gscb(i)));
        }
    }

    /** Reads the guarded-storage control block. */
    public static void readGuardedStorage(ByteBuffer in, VcpuState.Builder cpu) {
        for (int i = 0; i < GSCB_COUNT; i++) {
            cpu.set(gscb(i), unsigned(in.getLong(8 * i)));
        }
    }
}
