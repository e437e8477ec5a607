package io.guestdump.arch.s390x;

/** The s390x ELF constants this plugin declares (Linux {@code include/uapi/linux/elf.h}). */
public final class S390xElf {
    /** {@code e_machine}: IBM S/390. */
    public static final int EM_S390 = 22;
    /** {@code n_type}: alias of {@code NT_PRFPREG} that s390 uses. */
    public static final int NT_FPREGSET = 2;
    /** {@code n_type}: CPU timer. */
    public static final int NT_S390_TIMER = 0x301;
    /** {@code n_type}: TOD clock comparator. */
    public static final int NT_S390_TODCMP = 0x302;
    /** {@code n_type}: TOD programmable register. */
    public static final int NT_S390_TODPREG = 0x303;
    /** {@code n_type}: control registers. */
    public static final int NT_S390_CTRS = 0x304;
    /** {@code n_type}: prefix register. */
    public static final int NT_S390_PREFIX = 0x305;
    /** {@code n_type}: vector registers 0-15, low doublewords. */
    public static final int NT_S390_VXRS_LOW = 0x309;
    /** {@code n_type}: vector registers 16-31. */
    public static final int NT_S390_VXRS_HIGH = 0x30a;
    /** {@code n_type}: guarded-storage control block. */
    public static final int NT_S390_GS_CB = 0x30b;

    private S390xElf() {}
}
