package io.guestdump.elf;

/**
 * Corresponds to {@code Elf32_Phdr} / {@code Elf64_Phdr}.
 *
 * @param type   {@code p_type}: {@link SegmentType#PT_LOAD} or {@link SegmentType#PT_NOTE} in a vmcore
 * @param flags  {@code p_flags}: segment permissions; 0 in QEMU's vmcores
 * @param offset {@code p_offset}: file offset of the segment's first byte
 * @param vaddr  {@code p_vaddr}: virtual address of the segment
 * @param paddr  {@code p_paddr}: physical address of the segment
 * @param filesz {@code p_filesz}: bytes of the segment present in the file; may be less than memsz
 * @param memsz  {@code p_memsz}: bytes of the segment in memory
 * @param align  {@code p_align}: alignment; 0 in QEMU's vmcores
 */
public record ProgramHeader(int type, long flags, long offset, long vaddr, long paddr, long filesz, long memsz, long align) {

    /** The end of the segment's bytes in the file, {@code offset + filesz}, overflow-checked. */
    public long fileEnd() {
        return Math.addExact(offset, filesz);
    }
}
