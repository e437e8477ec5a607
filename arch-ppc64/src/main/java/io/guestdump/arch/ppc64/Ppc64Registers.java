package io.guestdump.arch.ppc64;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The register vocabulary of a ppc64 vCPU: lower-case names, QEMU's own words ({@code gpr}, {@code fpr},
 * {@code nip}, {@code lr}, SPR names as {@code info registers} prints them), shared by the note layouts, the
 * monitor parser, the decoder and the tests.
 *
 * <p>Widths: every register is 64-bit except {@code cr}, {@code vscr}, {@code vrsave} and {@code spefscr}
 * (32-bit) and {@code vr0}..{@code vr31} (128-bit).
 */
public final class Ppc64Registers {
    /** General-purpose registers {@code gpr0}..{@code gpr31} ({@code GPR00} in the monitor text). */
    public static final List<String> GPRS = numbered("gpr", 32);
    /** Floating-point registers {@code fpr0}..{@code fpr31}: doubleword 0 of VSR 0..31. */
    public static final List<String> FPRS = numbered("fpr", 32);
    /** Vector (Altivec/VMX) registers {@code vr0}..{@code vr31}, 128 bits each: VSR 32..63. */
    public static final List<String> VRS = numbered("vr", 32);
    /**
     * Doubleword 1 (the low-order half) of VSR 0..31, {@code vsrl0}..{@code vsrl31} after QEMU's
     * {@code cpu_vsrl_ptr}; gdb calls them {@code vs0h}..{@code vs31h}.
     */
    public static final List<String> VSRLS = numbered("vsrl", 32);

    /** The 32-bit condition register, CR0 in the top nibble. */
    public static final String CR = "cr";
    /** The machine state register. */
    public static final String MSR = "msr";
    /** Logical partitioning control register. */
    public static final String LPCR = "lpcr";
    /** Hardware implementation register 0. */
    public static final String HID0 = "hid0";
    /** Processor version register. */
    public static final String PVR = "pvr";

    /** Registers the monitor's first lines carry besides the GPRs and FPRs. */
    public static final List<String> CORE_MONITOR =
            List.of("nip", "lr", "ctr", "xer", "pir", MSR, HID0, "tb", "decr", CR, "fpscr");

    /**
     * Special-purpose registers QEMU's {@code info registers} prints as {@code NAME value} pairs, by CPU family
     * (Book3S, BookE, 40x, BookE 2.06 MMU). Their monitor name is the upper-case form.
     */
    public static final List<String> MONITOR_SPRS = List.of(
            "srr0", "srr1", PVR, "vrsave",
            "sprg0", "sprg1", "sprg2", "sprg3", "sprg4", "sprg5", "sprg6", "sprg7", "sprg8",
            "hsrr0", "hsrr1", "cfar", LPCR, "sdr1", "ptcr", "dar", "dsisr",
            "csrr0", "csrr1", "mcsrr0", "mcsrr1", "tcr", "tsr", "esr", "dear", "decar", "ivpr", "epcr",
            "mcsr", "epr", "mcar", "pid1", "pid2", "svr", "evpr", "srr2", "srr3", "pid",
            "mas0", "mas1", "mas2", "mas3", "mas4", "mas6", "mas7", "mmucfg", "tlb0cfg", "tlb1cfg");

    /** Slots of Linux {@code pt_regs} that no monitor line shows: set them in a snapshot or they read as 0. */
    public static final List<String> PT_REGS_ONLY = List.of("orig_gpr3", "softe", "trap", "result");

    /** Vector status and control register (32-bit). */
    public static final String VSCR = "vscr";
    /** SPE accumulator (64-bit). */
    public static final String SPE_ACC = "spe_acc";
    /** SPE floating-point status and control register (32-bit). */
    public static final String SPEFSCR = "spefscr";

    /** Every name a snapshot or the monitor parser may use for a ppc64 vCPU. */
    public static final Set<String> ALL = all();

    private Ppc64Registers() {}

    /**
     * Packs the eight 4-bit CR fields (QEMU's {@code crf[0..7]}) into the 32-bit CR, CR0 in the top nibble, as
     * QEMU's {@code ppc_write_elf_prstatus} does for {@code ccr}.
     */
    public static long packCr(int[] fields) {
        if (fields.length != 8) {
            throw new IllegalArgumentException("CR has 8 fields, got " + fields.length);
        }
        long cr = 0;
        for (int i = 0; i < 8; i++) {
            if ((fields[i] & ~0xf) != 0) {
                throw new IllegalArgumentException("CR field " + i + " is 4 bits, got " + fields[i]);
            }
            cr |= (long) fields[i] << (32 - (i + 1) * 4);
        }
        return cr;
    }

    /** The eight 4-bit fields of a 32-bit CR, CR0 first. */
    public static int[] unpackCr(long cr) {
        int[] fields = new int[8];
        for (int i = 0; i < 8; i++) {
            fields[i] = (int) (cr >>> (32 - (i + 1) * 4)) & 0xf;
        }
        return fields;
    }

    private static List<String> numbered(String prefix, int count) {
        List<String> names = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            names.add(prefix + i);
        }
        return List.copyOf(names);
    }

    private static Set<String> all() {
        Set<String> names = new LinkedHashSet<>();
        names.addAll(GPRS);
        names.addAll(CORE_MONITOR);
        names.addAll(FPRS);
        names.addAll(MONITOR_SPRS);
        names.addAll(PT_REGS_ONLY);
        names.addAll(VRS);
        names.add(VSCR);
        names.addAll(VSRLS);
        names.add(SPE_ACC);
        names.add(SPEFSCR);
        return Collections.unmodifiableSet(names);
    }
}
