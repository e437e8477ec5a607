package io.guestdump.elf;

/**
 * Corresponds to {@code Elf32_Nhdr} / {@code Elf64_Nhdr}: three 32-bit words in both classes.
 *
 * @param namesz {@code n_namesz}: bytes of the owner name including its NUL
 * @param descsz {@code n_descsz}: bytes of the descriptor
 * @param type   {@code n_type}: see {@link NoteType}
 */
public record NoteHeader(long namesz, long descsz, long type) {
    /** {@code sizeof(ElfN_Nhdr)}. */
    public static final int SIZE = 12;
}
