package io.guestdump.arch.ppc64;

/** The 64-bit PowerPC ELF constants this plugin declares (Linux {@code include/uapi/linux/elf.h}). */
public final class Ppc64Elf {
    /** {@code e_machine}: 64-bit PowerPC. */
    public static final int EM_PPC64 = 21;
    /** {@code n_type}: Altivec/VMX registers. */
    public static final int NT_PPC_VMX = 0x100;
    /** {@code n_type}: SPE/EVR registers. */
    public static final int NT_PPC_SPE = 0x101;
    /** {@code n_type}: VSX registers. */
    public static final int NT_PPC_VSX = 0x102;

    private Ppc64Elf() {}
}
