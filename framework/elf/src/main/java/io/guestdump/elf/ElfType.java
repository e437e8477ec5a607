package io.guestdump.elf;

/** {@code e_type} values. */
public final class ElfType {
    /** No file type. */
    public static final int ET_NONE = 0;
    /** Core file: what a vmcore is. */
    public static final int ET_CORE = 4;

    private ElfType() {}
}
