package io.guestdump.testkit;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;

/** Byte-for-byte comparison with a readable hex diff on failure, and the big-endian fields of migration streams. */
public final class Bytes {
    private Bytes() {}

    /** The values as big-endian u64s, one after another, as QEMU's migration stream writes a field's elements. */
    public static byte[] u64s(long... v) {
        ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.BIG_ENDIAN);
        for (long x : v) {
            b.putLong(x);
        }
        return b.array();
    }

    /** The value's low 32 bits as a big-endian u32, as QEMU's migration stream writes one. */
    public static byte[] u32(long v) {
        return ByteBuffer.allocate(4).order(ByteOrder.BIG_ENDIAN).putInt((int) v).array();
    }

    /** Fails with a hex dump of the first differing 64 bytes when the arrays differ. */
    public static void assertSameBytes(byte[] expected, byte[] actual, String what) {
        int n = Math.min(expected.length, actual.length);
        int first = -1;
        for (int i = 0; i < n; i++) {
            if (expected[i] != actual[i]) {
                first = i;
                break;
            }
        }
        if (first < 0 && expected.length == actual.length) {
            return;
        }
        if (first < 0) {
            first = n;
        }
        int from = Math.max(0, first - 16) & ~15;
        fail(what + ": first difference at byte " + first + " (0x" + Integer.toHexString(first) + "); lengths "
                + expected.length + " expected, " + actual.length + " actual\n  expected " + dump(expected, from)
                + "\n  actual   " + dump(actual, from));
    }

    private static String dump(byte[] b, int from) {
        int to = Math.min(b.length, from + 64);
        if (from >= to) {
            return "(ends at " + b.length + ")";
        }
        return "@0x" + Integer.toHexString(from) + ": " + HexFormat.ofDelimiter(" ").formatHex(b, from, to);
    }
}
