package io.guestdump.arch.api;

import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfData;

/**
 * QEMU's {@code ArchDumpInfo}: how a guest's vmcore is written, decided per guest.
 *
 * @param machine  {@code e_machine}, see {@link io.guestdump.elf.Machine}
 * @param elfClass ELF32 or ELF64
 * @param data     byte order of every field, the notes included
 * @param pageSize the dump page size (kdump block size), a power of two
 */
public record DumpTarget(int machine, ElfClass elfClass, ElfData data, long pageSize) {

    /** Checks the page size. */
    public DumpTarget {
        if (pageSize <= 0 || Long.bitCount(pageSize) != 1) {
            throw new IllegalArgumentException("page size must be a power of two: " + pageSize);
        }
    }
}
