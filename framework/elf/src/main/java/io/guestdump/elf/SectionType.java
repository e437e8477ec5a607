package io.guestdump.elf;

/** {@code sh_type} values. */
public final class SectionType {
    /** Inactive section header; section 0 of a PN_XNUM file. */
    public static final int SHT_NULL = 0;
    /** String table. */
    public static final int SHT_STRTAB = 3;

    private SectionType() {}
}
