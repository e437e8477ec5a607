package io.guestdump.elf;

/**
 * {@code n_type} values of core-file notes every architecture shares (Linux {@code include/uapi/linux/elf.h}).
 * Register-set notes of one architecture are declared by its plugin.
 */
public final class NoteType {
    /** {@code prstatus} (owner CORE). */
    public static final int NT_PRSTATUS = 1;
    /** {@code prfpregset}/{@code user_fpsimd_state} (owner CORE). */
    public static final int NT_PRFPREG = 2;
    /** The "QEMU" CPU-state note and the "VMCOREINFO" note both use type 0. */
    public static final int NT_QEMU_CPU_STATE = 0;
    /** Type of the guest kernel's VMCOREINFO note. */
    public static final int NT_VMCOREINFO = 0;

    private NoteType() {}
}
