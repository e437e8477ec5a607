package io.guestdump.arch.api;

/**
 * Big-endian reads from a QEMU migration stream, for plugins that skip their architecture's iterative sections.
 * Every read past the end of the stream throws {@link InvalidInputException} naming {@code what}; {@link #skip}
 * checks the length against the bytes left first.
 */
public interface MigrationInput {

    /** An unsigned byte. */
    int u8(String what);

    /** An unsigned 16-bit value. */
    default int u16(String what) {
        return u8(what) << 8 | u8(what);
    }

    /** An unsigned 32-bit value. */
    long u32(String what);

    /** A 64-bit value. */
    long u64(String what);

    /** Skips {@code n} bytes. */
    void skip(long n, String what);

    /** The file position of the next byte, for messages. */
    long position();
}
