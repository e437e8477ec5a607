package io.guestdump.elf;

/** {@code e_machine} values of the architectures guestdump knows. */
public final class Machine {
    /** Intel 80386. */
    public static final int EM_386 = 3;
    /** PowerPC. */
    public static final int EM_PPC = 20;
    /** 64-bit PowerPC. */
    public static final int EM_PPC64 = 21;
    /** IBM S/390. */
    public static final int EM_S390 = 22;
    /** ARM 32-bit. */
    public static final int EM_ARM = 40;
    /** AMD x86-64. */
    public static final int EM_X86_64 = 62;
    /** ARM 64-bit. */
    public static final int EM_AARCH64 = 183;
    /** RISC-V. */
    public static final int EM_RISCV = 243;

    private Machine() {}

    /** A readable name for an {@code e_machine} value, e.g. {@code "EM_X86_64 (62)"}. */
    public static String name(int machine) {
        String n = switch (machine) {
            case EM_386 -> "EM_386";
            case EM_PPC -> "EM_PPC";
            case EM_PPC64 -> "EM_PPC64";
            case EM_S390 -> "EM_S390";
            case EM_ARM -> "EM_ARM";
            case EM_X86_64 -> "EM_X86_64";
            case EM_AARCH64 -> "EM_AARCH64";
            case EM_RISCV -> "EM_RISCV";
            default -> "EM_?";
        };
        return n + " (" + machine + ")";
    }
}
