package io.guestdump.arch.x86_64;

import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestState;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfData;

/** QEMU's x86 {@code cpu_get_dump_info}: always little-endian, 4 KiB pages. */
public final class X86DumpTargets {
    /** The x86 page size, the kdump block size QEMU uses. */
    public static final long PAGE_SIZE = 4096;

    private X86DumpTargets() {}

    /** A guest whose first vCPU runs in long mode: ELF64, {@code EM_X86_64}. */
    public static DumpTarget longMode() {
        return new DumpTarget(X86Elf.EM_X86_64, ElfClass.ELF64, ElfData.LSB, PAGE_SIZE);
    }

    /**
     * A guest outside long mode (every qemu-system-i386 guest): {@code EM_386}, ELF32 unless some memory block ends
     * above 4 GiB, where ELF64 is needed to address it (QEMU tests each block's exclusive end against 0xffffffff,
     * so a block ending exactly at 4 GiB, like {@code pc.bios}, already selects ELF64).
     */
    public static DumpTarget legacy(GuestState guest) {
        ElfClass elfClass = guest.hasMemoryAbove4GiB() ? ElfClass.ELF64 : ElfClass.ELF32;
        return new DumpTarget(X86Elf.EM_386, elfClass, ElfData.LSB, PAGE_SIZE);
    }
}
