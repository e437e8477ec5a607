package io.guestdump.arch.x86_64;

/** The x86 ELF constants this plugin declares (Linux {@code include/uapi/linux/elf.h}, the gABI). */
public final class X86Elf {
    /** {@code e_machine}: Intel 80386. */
    public static final int EM_386 = 3;
    /** {@code e_machine}: AMD x86-64. */
    public static final int EM_X86_64 = 62;

    /** elf.h spelling of an {@code e_machine} this plugin declares, else null. */
    public static String name(int machine) {
        return switch (machine) {
            case EM_386 -> "EM_386";
            case EM_X86_64 -> "EM_X86_64";
            default -> null;
        };
    }

    private X86Elf() {}
}
