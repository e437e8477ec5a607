package io.guestdump.core.kdump;

import java.nio.ByteBuffer;

/**
 * {@code struct page_desc} (makedumpfile {@code diskdump_mod.h}): where one dumped page's data is. 24 bytes in both
 * classes:
 *
 * <pre>
 *  offset      off_t   @0    absolute file offset of the page data
 *  size        u32     @8    bytes stored (the page size when stored raw)
 *  flags       u32     @12   DUMP_DH_COMPRESSED_* of the codec, or 0 for a raw page
 *  page_flags  u64     @16   0
 * </pre>
 *
 * @param offset file offset of the data
 * @param size   bytes stored
 * @param flags  codec flag, or 0
 */
public record PageDesc(long offset, int size, int flags) {
    /** {@code sizeof(struct page_desc)}. */
    public static final int SIZE = 24;

    /** Appends the descriptor to {@code buf} (already in the dump's byte order). */
    public void writeTo(ByteBuffer buf) {
        buf.putLong(offset);
        buf.putInt(size);
        buf.putInt(flags);
        buf.putLong(0); // page_flags
    }
}
