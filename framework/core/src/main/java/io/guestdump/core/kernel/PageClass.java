package io.guestdump.core.kernel;

/** Why a guest page is left out of a dump, or that it is kept; makedumpfile's {@code pfn_*} counters. */
public enum PageClass {
    /** Dumped. */
    KEPT,
    /** {@code pfn_cache}: page cache without private data (level bit 2, or 4). */
    CACHE,
    /** {@code pfn_cache_private}: page cache with private data (level bit 4). */
    CACHE_PRIVATE,
    /** {@code pfn_user}: anonymous or hugetlbfs pages of user processes (level bit 8). */
    USER,
    /** {@code pfn_free}: pages in the buddy allocator's free lists (level bit 16). */
    FREE,
    /** {@code pfn_hwpoison}: pages with a memory error, always left out. */
    HWPOISON,
    /** {@code pfn_offline}: logically offline pages (ballooned), always left out. */
    OFFLINE;

    static final PageClass[] CODES = {KEPT, CACHE, CACHE_PRIVATE, USER, FREE, HWPOISON, OFFLINE, KEPT};
}
