package io.guestdump.arch.arm;

import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.arch.api.VcpuState;
import java.math.BigInteger;
import java.util.List;
import java.util.Optional;

/**
 * Whether an AArch64 vCPU has SVE, and its vector lengths in quadwords.
 *
 * <p>A vCPU has SVE when it carries {@code sve_vq} (the current vector length in quadwords, as the monitor text's Z
 * register width shows it) or any of {@code z0..z31}, {@code p0..p15}, {@code ffr}, {@code zcr_el1}. Its current
 * length is {@code sve_vq}, else {@code ZCR_EL1.LEN + 1}; its maximum ({@code user_sve_header.max_vl}) is
 * {@code sve_max_vq}, else the current length.
 *
 * @param vq    current vector length in quadwords (QEMU {@code sve_current_vq})
 * @param maxVq maximum vector length in quadwords (QEMU {@code cpu->sve_max_vq})
 */
public record SveConfig(int vq, int maxVq) {
    /** Pseudo-register: the current SVE vector length in quadwords (1..16). */
    public static final String SVE_VQ = "sve_vq";
    /** Pseudo-register: the CPU's maximum SVE vector length in quadwords (1..16). */
    public static final String SVE_MAX_VQ = "sve_max_vq";

    /** Checks the lengths. */
    public SveConfig {
        if (vq < 1 || vq > Aarch64SveState.MAX_VQ || maxVq < vq || maxVq > Aarch64SveState.MAX_VQ) {
            throw new IllegalArgumentException("SVE lengths must satisfy 1 <= vq <= max_vq <= 16: vq=" + vq
                    + " max_vq=" + maxVq);
        }
    }

    /** The SVE lengths of one vCPU, empty when it has no SVE. */
    public static Optional<SveConfig> of(VcpuState cpu) {
        if (!hasSve(cpu)) {
            return Optional.empty();
        }
        int vq;
        if (cpu.has(SVE_VQ)) {
            vq = checked(cpu, SVE_VQ);
        } else if (cpu.has("zcr_el1")) {
            vq = (cpu.u32("zcr_el1") & 0xf) + 1;
        } else {
            throw new InvalidInputException("vCPU " + cpu.index() + " has SVE registers but no vector length;"
                    + " add " + SVE_VQ + " = <quadwords, 1..16> (or zcr_el1) to its registers");
        }
        int maxVq = cpu.has(SVE_MAX_VQ) ? checked(cpu, SVE_MAX_VQ) : vq;
        if (maxVq < vq) {
            throw new InvalidInputException("vCPU " + cpu.index() + ": " + SVE_MAX_VQ + "=" + maxVq + " is below "
                    + SVE_VQ + "=" + vq + "; the maximum vector length cannot be shorter than the current one");
        }
        return Optional.of(new SveConfig(vq, maxVq));
    }

    /**
     * The one SVE configuration of the guest, decided from the first vCPU as QEMU's {@code cpu_get_note_size} does.
     * Every vCPU must agree, because the note table gives one descriptor size for all vCPUs.
     */
    public static Optional<SveConfig> ofGuest(List<VcpuState> cpus) {
        if (cpus.isEmpty()) {
            return Optional.empty();
        }
        Optional<SveConfig> first = of(cpus.get(0));
        for (VcpuState cpu : cpus) {
            Optional<SveConfig> mine = of(cpu);
            if (!mine.equals(first)) {
                throw new UnsupportedGuestException("vCPU " + cpu.index() + " has SVE "
                        + mine.map(SveConfig::describe).orElse("absent") + " but vCPU " + cpus.get(0).index()
                        + " has " + first.map(SveConfig::describe).orElse("no SVE") + "; the NT_ARM_SVE note must"
                        + " have one size for every vCPU (QEMU sizes it from the first vCPU and would write a"
                        + " corrupt segment). Set the same sve_vq on every vCPU, or dump without SVE registers.");
            }
        }
        return first;
    }

    private String describe() {
        return "vq=" + vq + " max_vq=" + maxVq;
    }

    /** Whether the vCPU carries any SVE state. */
    public static boolean hasSve(VcpuState cpu) {
        if ((cpu.has(SVE_VQ) && cpu.value(SVE_VQ).signum() != 0) || cpu.has("ffr") || cpu.has("zcr_el1")) {
            return true;
        }
        for (int i = 0; i < Aarch64SveState.ZREG_COUNT; i++) {
            if (cpu.has("z" + i) || (i < Aarch64SveState.PREG_COUNT && cpu.has("p" + i))) {
                return true;
            }
        }
        return false;
    }

    private static int checked(VcpuState cpu, String name) {
        BigInteger v = cpu.value(name);
        if (v.signum() == 0 || v.compareTo(BigInteger.valueOf(Aarch64SveState.MAX_VQ)) > 0) {
            throw new InvalidInputException("vCPU " + cpu.index() + ": " + name + "=" + v + " is not a vector length"
                    + " in quadwords; use 1..16 (vl = 16 × vq bytes)");
        }
        return v.intValue();
    }
}
