package io.guestdump.arch.ppc64;

import io.guestdump.arch.api.VcpuState;

/**
 * The byte order of a ppc64 guest's kernel: the endianness in which its vCPU takes interrupts (QEMU's
 * {@code ppc_interrupts_little_endian}), never MSR[LE], which only tells the mode of the code running at the pause.
 *
 * <ol>
 *   <li>A vCPU in hypervisor state (MSR[HV] set; powernv and other bare-metal machines) takes interrupts in the
 *       endianness of HID0[HILE]: bit {@link #HID0_POWER9_HILE} on ISA 3.00 processors (POWER9 and later, or an
 *       unknown PVR), bit {@link #HID0_HILE} on POWER7/POWER8.</li>
 *   <li>Otherwise, on a pseries machine or whenever the vCPU has an LPCR: LPCR[ILE].</li>
 *   <li>Otherwise (processors without LPCR): MSR[ILE].</li>
 * </ol>
 *
 * <p>Bit numbers: the ISA numbers bits from the most significant end ({@code PPC_BIT(n) = 1 << (63 - n)}).
 */
public final class Ppc64InterruptEndian {
    /** MSR[HV], {@code PPC_BIT(3)}: the vCPU runs in hypervisor state. */
    public static final long MSR_HV = 1L << 60;
    /** MSR[ILE], {@code PPC_BIT(47)}: interrupts little-endian, on processors without LPCR[ILE]. */
    public static final long MSR_ILE = 1L << 16;
    /** LPCR[ILE], {@code PPC_BIT(38)} = {@code 0x0000000002000000}. */
    public static final long LPCR_ILE = 1L << 25;
    /** HID0[HILE] of POWER7/POWER8, {@code PPC_BIT(19)}. */
    public static final long HID0_HILE = 1L << 44;
    /** HID0[HILE] of ISA 3.00 processors (POWER9 on), {@code PPC_BIT(4)}. */
    public static final long HID0_POWER9_HILE = 1L << 59;

    private Ppc64InterruptEndian() {}

    /** Whether the vCPU takes interrupts little-endian. */
    public static boolean littleEndian(VcpuState cpu, boolean pseries) {
        long msr = cpu.u64(Ppc64Registers.MSR);
        if (!pseries && (msr & MSR_HV) != 0) {
            long hile = isa300(cpu) ? HID0_POWER9_HILE : HID0_HILE;
            return (cpu.u64(Ppc64Registers.HID0) & hile) != 0;
        }
        if (pseries || cpu.has(Ppc64Registers.LPCR)) {
            return (cpu.u64(Ppc64Registers.LPCR) & LPCR_ILE) != 0;
        }
        return (msr & MSR_ILE) != 0;
    }

    /**
     * Whether the vCPU implements ISA 3.00 or later, from the version half of its PVR: POWER9 (0x004e),
     * POWER10 (0x0080), POWER11 (0x0082). Without a PVR, yes: QEMU's powernv machines default to POWER9 and later.
     */
    static boolean isa300(VcpuState cpu) {
        if (!cpu.has(Ppc64Registers.PVR)) {
            return true;
        }
        int version = (int) (cpu.u64(Ppc64Registers.PVR) >>> 16) & 0xffff;
        return version == 0x004e || version == 0x0080 || version == 0x0082;
    }
}
