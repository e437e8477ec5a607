package io.guestdump.arch.s390x;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The s390x register names guestdump uses, in one canonical order, with their widths in bits. The names are the
 * lower-case forms of QEMU's monitor text ({@code PSW=mask … addr …}, {@code R00}, {@code F00}, {@code V00},
 * {@code C00}) plus the registers the monitor text does not print, named after what they hold.
 *
 * <p>The floating-point registers live inside the vector registers: {@code fN} is the leftmost (most significant)
 * doubleword of {@code vN} (z/Architecture Principles of Operation; QEMU's {@code get_freg} returns
 * {@code &vregs[N][0]}). A state may give either; when it gives both they must agree.
 */
public final class S390xRegisters {
    /** PSW bits 0-63: the mask, condition code included. */
    public static final String PSW_MASK = "psw.mask";
    /** PSW bits 64-127: the instruction address. */
    public static final String PSW_ADDR = "psw.addr";
    /** Floating-point control register (not in the monitor text). */
    public static final String FPC = "fpc";
    /** Prefix register: the absolute address of this CPU's lowcore (not in the monitor text). */
    public static final String PREFIX = "prefix";
    /** CPU timer (not in the monitor text). */
    public static final String CPU_TIMER = "cpu_timer";
    /** TOD clock comparator (not in the monitor text). */
    public static final String CLOCK_COMPARATOR = "clock_comparator";
    /** TOD programmable register (not in the monitor text). */
    public static final String TODPR = "todpr";

    /** Number of general, access, floating-point and control registers. */
    public static final int COUNT_16 = 16;
    /** Number of vector registers. */
    public static final int VECTOR_COUNT = 32;
    /** Doublewords of the guarded-storage control block. */
    public static final int GSCB_COUNT = 4;

    /** The condition-code field of {@link #PSW_MASK}: PSW bits 18-19. */
    public static final long PSW_MASK_CC = 0x0000_3000_0000_0000L;

    private static final Map<String, Integer> WIDTHS = widths();

    private S390xRegisters() {}

    /** General register {@code rN}, 64 bits. */
    public static String gpr(int n) {
        return "r" + n;
    }

    /** Access register {@code aN}, 32 bits (not in the monitor text). */
    public static String acr(int n) {
        return "a" + n;
    }

    /** Floating-point register {@code fN}, 64 bits: the leftmost doubleword of {@code vN}. */
    public static String fpr(int n) {
        return "f" + n;
    }

    /** Vector register {@code vN}, 128 bits. */
    public static String vr(int n) {
        return "v" + n;
    }

    /** Control register {@code cN}, 64 bits. */
    public static String cr(int n) {
        return "c" + n;
    }

    /** Guarded-storage control block doubleword {@code gscbN} (reserved, GSD, GSSM, GS_EPL address). */
    public static String gscb(int n) {
        return "gscb" + n;
    }

    /** Every accepted name, in canonical order. */
    public static List<String> names() {
        return List.copyOf(WIDTHS.keySet());
    }

    /** The width in bits of an accepted register. */
    public static int width(String name) {
        Integer w = WIDTHS.get(name);
        if (w == null) {
            throw new IllegalArgumentException("not an s390x register: " + name);
        }
        return w;
    }

    private static Map<String, Integer> widths() {
        LinkedHashMap<String, Integer> w = new LinkedHashMap<>();
        w.put(PSW_MASK, 64);
        w.put(PSW_ADDR, 64);
        for (int i = 0; i < COUNT_16; i++) {
            w.put(gpr(i), 64);
        }
        for (int i = 0; i < COUNT_16; i++) {
            w.put(acr(i), 32);
        }
        w.put(FPC, 32);
        for (int i = 0; i < COUNT_16; i++) {
            w.put(fpr(i), 64);
        }
        for (int i = 0; i < VECTOR_COUNT; i++) {
            w.put(vr(i), 128);
        }
        for (int i = 0; i < COUNT_16; i++) {
            w.put(cr(i), 64);
        }
        w.put(PREFIX, 32);
        w.put(CPU_TIMER, 64);
        w.put(CLOCK_COMPARATOR, 64);
        w.put(TODPR, 32);
        for (int i = 0; i < GSCB_COUNT; i++) {
            w.put(gscb(i), 64);
        }
        return Collections.unmodifiableMap(w);
    }

    /** The names the monitor text of a CPU with the vector facility supplies, in monitor order. */
    static List<String> monitorNames() {
        List<String> n = new ArrayList<>(List.of(PSW_MASK, PSW_ADDR));
        for (int i = 0; i < COUNT_16; i++) {
            n.add(gpr(i));
        }
        for (int i = 0; i < VECTOR_COUNT; i++) {
            n.add(vr(i));
        }
        for (int i = 0; i < COUNT_16; i++) {
            n.add(cr(i));
        }
        return n;
    }

    /** The leftmost doubleword of a 128-bit vector value. */
    static long leftDoubleword(BigInteger v) {
        return v.shiftRight(64).longValue();
    }

    /** The rightmost doubleword of a 128-bit vector value. */
    static long rightDoubleword(BigInteger v) {
        return v.longValue();
    }

    /** A 128-bit value from its two doublewords. */
    static BigInteger vector(long left, long right) {
        return unsigned(left).shiftLeft(64).or(unsigned(right));
    }

    /**
     * Floating-point register {@code n} of a state: {@code fN} when given, else the leftmost doubleword of
     * {@code vN} (0 when neither is given).
     */
    static long fprValue(io.guestdump.arch.api.VcpuState cpu, int n) {
        return cpu.has(fpr(n)) ? cpu.u64(fpr(n)) : leftDoubleword(cpu.value(vr(n)));
    }

    /** A 64-bit unsigned value. */
    static BigInteger unsigned(long value) {
        return new BigInteger(Long.toUnsignedString(value));
    }
}
