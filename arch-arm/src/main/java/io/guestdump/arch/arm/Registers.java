package io.guestdump.arch.arm;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The register names this plugin accepts, per guest machine, and small conversions. Names are lower case; the
 * monitor text's {@code X05}, {@code Q12}, {@code R03}, {@code d07} become {@code x5}, {@code v12}, {@code r3},
 * {@code d7}.
 */
public final class Registers {
    /** {@code SCTLR_EL1.EE} / {@code SCTLR.EE}: exceptions (and the kernel) run big-endian. */
    public static final int SCTLR_EE_BIT = 25;

    /** AArch64 system registers a snapshot may give; only {@code sctlr_el1} is used by the notes. */
    public static final List<String> AARCH64_SYSTEM = List.of(
            "sctlr_el1", "ttbr0_el1", "ttbr1_el1", "tcr_el1", "mair_el1", "vbar_el1", "esr_el1", "far_el1",
            "elr_el1", "spsr_el1", "sp_el0", "sp_el1", "tpidr_el1", "currentel", "zcr_el1");

    /** AArch32 system registers a snapshot may give; only {@code sctlr} is used by the notes. */
    public static final List<String> AARCH32_SYSTEM = List.of(
            "sctlr", "ttbr0", "ttbr1", "ttbcr", "dacr", "prrr", "nmrr", "mair0", "mair1", "contextidr");

    private static final Set<String> AARCH32 = aarch32();
    private static final Set<String> AARCH64 = aarch64();

    private Registers() {}

    /** The names accepted for a vCPU of the machine ({@code aarch64} or {@code arm}); empty for any other. */
    public static Set<String> names(String machine) {
        return switch (machine) {
            case ArmArchitecture.MACHINE_AARCH64 -> AARCH64;
            case ArmArchitecture.MACHINE_ARM -> AARCH32;
            default -> Set.of();
        };
    }

    private static Set<String> aarch32() {
        Set<String> names = new LinkedHashSet<>(ArmPrStatus.REGISTERS);
        for (int i = 0; i < ArmVfpState.DREG_COUNT; i++) {
            names.add("d" + i);
        }
        names.add("fpscr");
        names.addAll(AARCH32_SYSTEM);
        return Collections.unmodifiableSet(names);
    }

    private static Set<String> aarch64() {
        Set<String> names = new LinkedHashSet<>(Aarch64PrStatus.REGISTERS);
        for (int i = 0; i < Aarch64FpsimdState.VREG_COUNT; i++) {
            names.add("v" + i);
        }
        names.add("fpsr");
        names.add("fpcr");
        names.addAll(AARCH64_SYSTEM);
        List<String> sve = new ArrayList<>();
        for (int i = 0; i < Aarch64SveState.ZREG_COUNT; i++) {
            sve.add("z" + i);
        }
        for (int i = 0; i < Aarch64SveState.PREG_COUNT; i++) {
            sve.add("p" + i);
        }
        sve.add("ffr");
        sve.add(SveConfig.SVE_VQ);
        sve.add(SveConfig.SVE_MAX_VQ);
        names.addAll(sve);
        // a vCPU of an AArch64 guest that is in AArch32 state (the monitor prints R00.., PSR=, dNN, FPSCR)
        names.addAll(AARCH32);
        return Collections.unmodifiableSet(names);
    }

    /** A u64 as an unsigned value. */
    public static BigInteger unsigned(long value) {
        return new BigInteger(Long.toUnsignedString(value));
    }

    /** A u32 as an unsigned value. */
    public static BigInteger unsigned(int value) {
        return BigInteger.valueOf(Integer.toUnsignedLong(value));
    }
}
