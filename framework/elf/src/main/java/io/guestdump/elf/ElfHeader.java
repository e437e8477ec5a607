package io.guestdump.elf;

/**
 * Corresponds to {@code Elf32_Ehdr} / {@code Elf64_Ehdr}. Unsigned fields are held in {@code long} (addresses,
 * offsets, words) or {@code int} (halves).
 *
 * @param elfClass  {@code e_ident[EI_CLASS]}: 32- or 64-bit
 * @param data      {@code e_ident[EI_DATA]}: byte order
 * @param type      {@code e_type}: {@link ElfType#ET_CORE} for a vmcore
 * @param machine   {@code e_machine}: see {@link Machine}
 * @param version   {@code e_version}: {@link ElfConstants#EV_CURRENT}
 * @param entry     {@code e_entry}: 0 in a core file
 * @param phoff     {@code e_phoff}: file offset of the program header table
 * @param shoff     {@code e_shoff}: file offset of the section header table, 0 if none
 * @param flags     {@code e_flags}: 0 for every vmcore QEMU writes
 * @param ehsize    {@code e_ehsize}: size of this header (52 or 64)
 * @param phentsize {@code e_phentsize}: size of one program header
 * @param phnum     {@code e_phnum}: program header count, or {@link ElfConstants#PN_XNUM}
 * @param shentsize {@code e_shentsize}: size of one section header, 0 if none
 * @param shnum     {@code e_shnum}: section header count
 * @param shstrndx  {@code e_shstrndx}: index of the section name string table
 */
public record ElfHeader(
        ElfClass elfClass,
        ElfData data,
        int type,
        int machine,
        long version,
        long entry,
        long phoff,
        long shoff,
        long flags,
        int ehsize,
        int phentsize,
        int phnum,
        int shentsize,
        int shnum,
        int shstrndx) {

    /** Validates the half-word fields. */
    public ElfHeader {
        checkHalf("e_type", type);
        checkHalf("e_machine", machine);
        checkHalf("e_ehsize", ehsize);
        checkHalf("e_phentsize", phentsize);
        checkHalf("e_phnum", phnum);
        checkHalf("e_shentsize", shentsize);
        checkHalf("e_shnum", shnum);
        checkHalf("e_shstrndx", shstrndx);
    }

    static void checkHalf(String field, int value) {
        if (value < 0 || value > 0xffff) {
            throw new IllegalArgumentException(field + " " + value + " does not fit 16 bits");
        }
    }
}
