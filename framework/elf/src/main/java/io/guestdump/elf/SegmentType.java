package io.guestdump.elf;

/** {@code p_type} values. */
public final class SegmentType {
    /** Unused entry. */
    public static final int PT_NULL = 0;
    /** Loadable segment: guest memory. */
    public static final int PT_LOAD = 1;
    /** Auxiliary information: the notes. */
    public static final int PT_NOTE = 4;

    private SegmentType() {}
}
