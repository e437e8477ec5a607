package io.guestdump.testkit;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.HexFormat;

/** Byte-for-byte comparison with a readable hex diff on failure. */
public final class Bytes {
    private Bytes() {}

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
