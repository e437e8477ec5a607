package io.guestdump.memory;

/**
 * A half-open range {@code [start, end)} of unsigned 64-bit guest-physical addresses. User-facing options keep
 * QEMU's {@code begin}/{@code length} words; inside the framework everything is {@code start}/{@code end}. An
 * end of 0 is not allowed (it would mean 2^64): the last byte of the address space cannot be described, which
 * no guest needs.
 *
 * @param start first address in the range (unsigned)
 * @param end   first address after the range (unsigned, not below start)
 */
public record PhysRange(long start, long end) {

    /** Checks {@code start <= end} as unsigned values. */
    public PhysRange {
        if (Long.compareUnsigned(start, end) > 0) {
            throw new IllegalArgumentException("range start " + hex(start) + " is above its end " + hex(end));
        }
    }

    /** The range {@code [start, start + length)}; throws when the sum overflows 64 bits. */
    public static PhysRange ofLength(long start, long length) {
        long end = start + length;
        if (Long.compareUnsigned(end, start) < 0 || (length != 0 && end == 0)) {
            throw new ArithmeticException("range " + hex(start) + " + " + hex(length) + " overflows 64 bits");
        }
        return new PhysRange(start, end);
    }

    /** Bytes in the range. */
    public long length() {
        return end - start;
    }

    /** Whether the range holds no byte. */
    public boolean isEmpty() {
        return start == end;
    }

    /** Whether the address lies inside. */
    public boolean contains(long address) {
        return Long.compareUnsigned(address, start) >= 0 && Long.compareUnsigned(address, end) < 0;
    }

    /** Whether the two ranges share at least one byte. */
    public boolean overlaps(PhysRange other) {
        return Long.compareUnsigned(start, other.end) < 0 && Long.compareUnsigned(other.start, end) < 0;
    }

    /** The common part; empty (at the larger start) when there is none. */
    public PhysRange intersect(PhysRange other) {
        long s = Long.compareUnsigned(start, other.start) >= 0 ? start : other.start;
        long e = Long.compareUnsigned(end, other.end) <= 0 ? end : other.end;
        return Long.compareUnsigned(s, e) >= 0 ? new PhysRange(s, s) : new PhysRange(s, e);
    }

    @Override
    public String toString() {
        return "[" + hex(start) + ", " + hex(end) + ")";
    }

    /** {@code 0x}-prefixed unsigned hex. */
    public static String hex(long value) {
        return "0x" + Long.toHexString(value);
    }
}
