package io.guestdump.core;

/** {@code e_machine} values core's tests use; the framework itself names none (the plugins declare them). */
public final class TestMachines {
    /** Intel 80386. */
    public static final int EM_386 = 3;
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
    /** RISC-V, the toy test architecture's value. */
    public static final int EM_RISCV = 243;

    private TestMachines() {}
}
