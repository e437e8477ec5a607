package io.guestdump.elf;

/** Identification bytes and sentinels of the ELF format. */
public final class ElfConstants {
    /** {@code EI_NIDENT}: bytes of {@code e_ident}. */
    public static final int EI_NIDENT = 16;
    /** {@code EV_CURRENT}: the only ELF version. */
    public static final int EV_CURRENT = 1;
    /** {@code ELFOSABI_NONE}. */
    public static final int ELFOSABI_NONE = 0;
    /**
     * {@code PN_XNUM}: in {@code e_phnum}, "the real count is in section header 0's {@code sh_info}"
     * (elf.h: used when the number of program headers is 0xffff or more).
     */
    public static final int PN_XNUM = 0xffff;
    /** {@code SHN_UNDEF}. */
    public static final int SHN_UNDEF = 0;
    /** Note records are 4-aligned in both classes (the Linux and QEMU convention for core files). */
    public static final int NOTE_ALIGNMENT = 4;

    private ElfConstants() {}

    /** {@code ELFMAG}: 0x7f 'E' 'L' 'F'. */
    public static byte[] magic() {
        return new byte[] {0x7f, 'E', 'L', 'F'};
    }
}
