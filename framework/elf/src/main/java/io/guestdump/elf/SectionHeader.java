package io.guestdump.elf;

/**
 * Corresponds to {@code Elf32_Shdr} / {@code Elf64_Shdr}. A vmcore carries at most section 0 (for PN_XNUM) and
 * perhaps a string table.
 *
 * @param name      {@code sh_name}: offset of the name in the section name string table
 * @param type      {@code sh_type}: see {@link SectionType}
 * @param flags     {@code sh_flags}
 * @param addr      {@code sh_addr}
 * @param offset    {@code sh_offset}: file offset of the section's bytes
 * @param size      {@code sh_size}: bytes of the section
 * @param link      {@code sh_link}
 * @param info      {@code sh_info}: in section 0 of a PN_XNUM file, the real program header count
 * @param addralign {@code sh_addralign}
 * @param entsize   {@code sh_entsize}
 */
public record SectionHeader(
        long name, int type, long flags, long addr, long offset, long size, long link, long info, long addralign, long entsize) {

    /** Section 0 of a file using extended program header numbering: all zero but {@code sh_info}. */
    public static SectionHeader extendedNumbering(long realPhnum) {
        return new SectionHeader(0, SectionType.SHT_NULL, 0, 0, 0, 0, 0, realPhnum, 0, 0);
    }
}
