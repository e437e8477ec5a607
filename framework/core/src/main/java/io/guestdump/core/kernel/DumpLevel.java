package io.guestdump.core.kernel;

import io.guestdump.arch.api.InvalidInputException;

/**
 * makedumpfile's dump level ({@code -d}): a sum of the page classes to leave out. The bit values are makedumpfile's
 * {@code DL_EXCLUDE_*}, so a level means here what it means there.
 *
 * @param value 0 to 31
 */
public record DumpLevel(int value) {
    /** {@code DL_EXCLUDE_ZERO}: pages filled with zeros. */
    public static final int DL_EXCLUDE_ZERO = 0x01;
    /** {@code DL_EXCLUDE_CACHE}: page cache without private data. */
    public static final int DL_EXCLUDE_CACHE = 0x02;
    /** {@code DL_EXCLUDE_CACHE_PRI}: page cache with or without private data. */
    public static final int DL_EXCLUDE_CACHE_PRI = 0x04;
    /** {@code DL_EXCLUDE_USER_DATA}: anonymous and hugetlbfs pages of user processes. */
    public static final int DL_EXCLUDE_USER_DATA = 0x08;
    /** {@code DL_EXCLUDE_FREE}: pages in the buddy allocator's free lists. */
    public static final int DL_EXCLUDE_FREE = 0x10;
    /** {@code MAX_DUMP_LEVEL}. */
    public static final int MAX_DUMP_LEVEL = 31;

    /** Checks the range. */
    public DumpLevel {
        if (value < 0 || value > MAX_DUMP_LEVEL) {
            throw new InvalidInputException("--dump-level " + value + " is not between 0 and " + MAX_DUMP_LEVEL
                    + " (a sum of 1 zero pages, 2 page cache, 4 page cache with private data, 8 user pages, 16 free"
                    + " pages, as makedumpfile -d)");
        }
    }

    /** Whether the level has all of {@code bits}. */
    public boolean has(int bits) {
        return (value & bits) == bits;
    }

    /** Whether the level needs the guest's {@code struct page} array (any bit but zero pages). */
    public boolean needsMemMap() {
        return (value & ~DL_EXCLUDE_ZERO) != 0;
    }
}
