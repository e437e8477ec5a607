package io.guestdump.elf;

/** Rounding to power-of-two alignments, overflow-checked. */
public final class Alignment {
    private Alignment() {}

    /** Rounds {@code value} up to a multiple of {@code alignment}, a power of two; throws on overflow. */
    public static long up(long value, long alignment) {
        requirePowerOfTwo(alignment);
        long mask = alignment - 1;
        return Math.addExact(value, mask) & ~mask;
    }

    /** Int variant of {@link #up(long, long)}. */
    public static int up(int value, int alignment) {
        return Math.toIntExact(up((long) value, alignment));
    }

    /** Rounds down to a multiple of a power-of-two alignment. */
    public static long down(long value, long alignment) {
        requirePowerOfTwo(alignment);
        return value & ~(alignment - 1);
    }

    private static void requirePowerOfTwo(long alignment) {
        if (alignment <= 0 || Long.bitCount(alignment) != 1) {
            throw new IllegalArgumentException("alignment must be a power of two: " + alignment);
        }
    }
}
