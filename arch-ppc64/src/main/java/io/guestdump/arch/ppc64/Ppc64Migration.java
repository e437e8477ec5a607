package io.guestdump.arch.ppc64;

import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.MigrationDevice;
import io.guestdump.arch.api.MigrationInput;
import io.guestdump.arch.api.RamBlockMapping;
import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.arch.api.VcpuState;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * ppc64 guests of QEMU's {@code pseries} board in a migration stream: {@code ppc_spapr.ram} at 0, the {@code cpu}
 * section ({@code target/ppc/machine.c}) and the iterative {@code spapr/htab} section (stepped over).
 *
 * <p>Fields read: {@code env.gpr}, {@code env.nip}, {@code env.msr}, {@code env.crf} (eight 4-bit fields),
 * {@code env.spr} (all 1024 SPRs by number; QEMU copies LR, CTR and XER into it before saving), and from the
 * subsections {@code cpu/fpu:env.vsr} (the FPRs), {@code env.fpscr}, {@code cpu/altivec:env.vsr} (the VRs, written as
 * the host's two doublewords in memory order: a little-endian host's low doubleword first), {@code vscr} and
 * {@code cpu/vsx:env.vsr} (doubleword 1 of VSR 0..31).
 */
final class Ppc64Migration {
    static final String CPU_SECTION = "cpu";
    static final String RAM = "ppc_spapr.ram";
    static final String HTAB = "spapr/htab";
    /** {@code HASH_PTE_SIZE_64}. */
    private static final int HASH_PTE_SIZE_64 = 16;

    /** SPR numbers. */
    private static final Map<String, Integer> SPRS = Map.ofEntries(
            Map.entry("xer", 1), Map.entry("lr", 8), Map.entry("ctr", 9), Map.entry("dsisr", 18),
            Map.entry("dar", 19), Map.entry("sdr1", 25), Map.entry("srr0", 26), Map.entry("srr1", 27),
            Map.entry("vrsave", 256), Map.entry("sprg0", 272), Map.entry("sprg1", 273), Map.entry("sprg2", 274),
            Map.entry("sprg3", 275), Map.entry(Ppc64Registers.PVR, 287), Map.entry("hsrr0", 314),
            Map.entry("hsrr1", 315), Map.entry(Ppc64Registers.LPCR, 318), Map.entry("ptcr", 464),
            Map.entry("pir", 1023));

    private Ppc64Migration() {}

    static boolean pseries(String machineType) {
        return machineType.startsWith("pseries");
    }

    static Optional<String> machine(String machineType, List<MigrationDevice> cpus) {
        return pseries(machineType) && !cpus.isEmpty() && cpus.get(0).has("env.gpr")
                ? Optional.of(Ppc64Architecture.ID) : Optional.empty();
    }

    static List<RamBlockMapping> layout(String machineType, Map<String, Long> blocks) {
        if (!pseries(machineType)) {
            throw new UnsupportedGuestException("machine type " + machineType + " is not pseries");
        }
        Long ram = blocks.get(RAM);
        if (ram == null) {
            throw new InvalidInputException("migration stream of machine " + machineType + " has no " + RAM
                    + " RAMBlock (RAMBlocks: " + blocks.keySet() + ")");
        }
        return List.of(new RamBlockMapping(RAM, 0, 0, ram));
    }

    /**
     * One part of {@code spapr/htab}: u32 header; -1 (no hash table) or the table's shift end the part; 0 is
     * followed by chunks (u32 index · u16 n_valid · u16 n_invalid · n_valid 16-byte PTEs) up to an all-zero one.
     */
    static void skipHtab(MigrationInput in) {
        long header = in.u32("the hash-table section header");
        if (header != 0) {
            return;
        }
        while (true) {
            long index = in.u32("a hash-table chunk index");
            int valid = in.u16("a hash-table chunk");
            int invalid = in.u16("a hash-table chunk");
            if (index == 0 && valid == 0 && invalid == 0) {
                return;
            }
            in.skip((long) valid * HASH_PTE_SIZE_64, "hash-table entries");
        }
    }

    static VcpuState cpu(MigrationDevice cpu) {
        VcpuState.Builder b = VcpuState.builder(cpu.instanceId());
        for (int i = 0; i < 32; i++) {
            b.set(Ppc64Registers.GPRS.get(i), cpu.element("env.gpr", i, 8));
        }
        b.set("nip", cpu.unsigned("env.nip"));
        b.set(Ppc64Registers.MSR, cpu.unsigned("env.msr"));
        long cr = 0;
        for (int i = 0; i < 8; i++) {
            cr |= (cpu.element("env.crf", i, 4) & 0xf) << (4 * (7 - i));
        }
        b.set(Ppc64Registers.CR, cr);
        for (Map.Entry<String, Integer> e : SPRS.entrySet()) {
            b.set(e.getKey(), cpu.element("env.spr", e.getValue(), 8));
        }
        if (cpu.has("cpu/fpu:env.vsr")) {
            for (int i = 0; i < 32; i++) {
                b.set(Ppc64Registers.FPRS.get(i), cpu.element("cpu/fpu:env.vsr", i, 8));
            }
            b.set("fpscr", cpu.unsigned("env.fpscr"));
        }
        if (cpu.has("cpu/altivec:env.vsr")) {
            for (int i = 0; i < 32; i++) {
                BigInteger low = unsigned(cpu.element("cpu/altivec:env.vsr", 2 * i, 8));
                BigInteger high = unsigned(cpu.element("cpu/altivec:env.vsr", 2 * i + 1, 8));
                b.set(Ppc64Registers.VRS.get(i), high.shiftLeft(64).or(low));
            }
            if (cpu.has("vscr")) {
                b.set(Ppc64Registers.VSCR, cpu.unsigned("vscr"));
            }
        }
        if (cpu.has("cpu/vsx:env.vsr")) {
            for (int i = 0; i < 32; i++) {
                b.set(Ppc64Registers.VSRLS.get(i), cpu.element("cpu/vsx:env.vsr", i, 8));
            }
        }
        return b.build();
    }

    private static BigInteger unsigned(long v) {
        return new BigInteger(Long.toUnsignedString(v));
    }
}
