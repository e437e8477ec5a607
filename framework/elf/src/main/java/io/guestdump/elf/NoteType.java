package io.guestdump.elf;

/** {@code n_type} values of core-file notes (Linux {@code include/uapi/linux/elf.h}). */
public final class NoteType {
    /** {@code prstatus} (owner CORE). */
    public static final int NT_PRSTATUS = 1;
    /** {@code prfpregset}/{@code user_fpsimd_state} (owner CORE). */
    public static final int NT_PRFPREG = 2;
    /** Alias of {@link #NT_PRFPREG} used by s390x. */
    public static final int NT_FPREGSET = 2;
    /** PowerPC Altivec/VMX registers. */
    public static final int NT_PPC_VMX = 0x100;
    /** PowerPC SPE/EVR registers. */
    public static final int NT_PPC_SPE = 0x101;
    /** PowerPC VSX registers. */
    public static final int NT_PPC_VSX = 0x102;
    /** s390 timer. */
    public static final int NT_S390_TIMER = 0x301;
    /** s390 TOD clock comparator. */
    public static final int NT_S390_TODCMP = 0x302;
    /** s390 TOD programmable register. */
    public static final int NT_S390_TODPREG = 0x303;
    /** s390 control registers. */
    public static final int NT_S390_CTRS = 0x304;
    /** s390 prefix register. */
    public static final int NT_S390_PREFIX = 0x305;
    /** s390 vector registers 0-15, low doublewords. */
    public static final int NT_S390_VXRS_LOW = 0x309;
    /** s390 vector registers 16-31. */
    public static final int NT_S390_VXRS_HIGH = 0x30a;
    /** s390 guarded-storage control block. */
    public static final int NT_S390_GS_CB = 0x30b;
    /** ARM VFP/NEON registers. */
    public static final int NT_ARM_VFP = 0x400;
    /** ARM SVE registers. */
    public static final int NT_ARM_SVE = 0x405;
    /** The "QEMU" CPU-state note and the "VMCOREINFO" note both use type 0. */
    public static final int NT_QEMU_CPU_STATE = 0;
    /** Type of the guest kernel's VMCOREINFO note. */
    public static final int NT_VMCOREINFO = 0;

    private NoteType() {}
}
