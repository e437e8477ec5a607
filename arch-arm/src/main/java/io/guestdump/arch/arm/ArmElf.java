package io.guestdump.arch.arm;

/** The ARM ELF constants this plugin declares (Linux {@code include/uapi/linux/elf.h}, the gABI). */
public final class ArmElf {
    /** {@code e_machine}: ARM 32-bit. */
    public static final int EM_ARM = 40;
    /** {@code e_machine}: ARM 64-bit. */
    public static final int EM_AARCH64 = 183;
    /** {@code n_type}: ARM VFP/NEON registers (owner LINUX). */
    public static final int NT_ARM_VFP = 0x400;
    /** {@code n_type}: ARM SVE registers (owner LINUX). */
    public static final int NT_ARM_SVE = 0x405;

    /** elf.h spelling of an {@code e_machine} this plugin declares, else null. */
    public static String name(int machine) {
        return switch (machine) {
            case EM_ARM -> "EM_ARM";
            case EM_AARCH64 -> "EM_AARCH64";
            default -> null;
        };
    }

    /** {@code "EM_ARM (40)"}, or the bare number for a value this plugin does not declare. */
    public static String describe(int machine) {
        String n = name(machine);
        return (n == null ? "e_machine" : n) + " (" + machine + ")";
    }

    private ArmElf() {}
}
