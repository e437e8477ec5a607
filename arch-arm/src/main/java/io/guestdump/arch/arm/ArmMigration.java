package io.guestdump.arch.arm;

import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.MigrationDevice;
import io.guestdump.arch.api.RamBlockMapping;
import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.arch.api.VcpuState;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Arm guests of QEMU's {@code virt} board in a migration stream: the {@code cpu} section
 * ({@code target/arm/machine.c}'s {@code vmstate_arm_cpu}) and where {@code mach-virt.ram} lies (0x40000000, the
 * board's {@code VIRT_MEM}). The flash RAMBlocks are ROM devices QEMU's dump leaves out, and so are we.
 *
 * <p>Fields read: {@code env.xregs} (x0..x30, then the current SP), {@code env.pc}, {@code cpsr} (PSTATE in
 * AArch64 state, else the CPSR), {@code env.regs} (r0..r15), {@code env.vfp.zregs[i].d} (two u64, low first),
 * {@code fpscr}, {@code env.elr_el}, {@code env.sp_el}, {@code env.banked_spsr}, and from the coprocessor
 * register list ({@code cpreg_vmstate_indexes} / {@code cpreg_vmstate_values}, KVM register ids) the EL1 system
 * registers of {@link Registers#AARCH64_SYSTEM}.
 */
final class ArmMigration {
    static final String CPU_SECTION = "cpu";
    /** {@code VIRT_MEM} base of the virt board. */
    static final long VIRT_MEM = 0x40000000L;
    static final String VIRT_RAM = "mach-virt.ram";
    /** PSTATE.nRW / CPSR bit 4: the CPU is in AArch32 state. */
    private static final long PSTATE_NRW = 0x10;

    /** KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM64_SYSREG: AArch64 system register ids. */
    private static final long SYSREG = 0x6030000000130000L;

    private ArmMigration() {}

    static boolean virt(String machineType) {
        return machineType.equals("virt") || machineType.startsWith("virt-");
    }

    /** aarch64 when vCPU 0 has 64-bit registers and is in AArch64 state, arm when it is in AArch32 state. */
    static Optional<String> machine(String machineType, List<MigrationDevice> cpus) {
        if (!virt(machineType) || cpus.isEmpty() || !cpus.get(0).has("env.xregs") || !cpus.get(0).has("cpsr")) {
            return Optional.empty();
        }
        boolean aarch32 = (cpus.get(0).unsigned("cpsr") & PSTATE_NRW) != 0;
        return Optional.of(aarch32 ? ArmArchitecture.MACHINE_ARM : ArmArchitecture.MACHINE_AARCH64);
    }

    static List<RamBlockMapping> layout(String machineType, Map<String, Long> blocks) {
        if (!virt(machineType)) {
            throw new UnsupportedGuestException("machine type " + machineType + " is not QEMU's virt board");
        }
        Long ram = blocks.get(VIRT_RAM);
        if (ram == null) {
            throw new InvalidInputException("migration stream of machine " + machineType + " has no " + VIRT_RAM
                    + " RAMBlock (RAMBlocks: " + blocks.keySet() + ")");
        }
        return List.of(new RamBlockMapping(VIRT_RAM, 0, VIRT_MEM, ram));
    }

    static VcpuState cpu(MigrationDevice cpu, String machine) {
        VcpuState.Builder b = VcpuState.builder(cpu.instanceId());
        long pstate = cpu.unsigned("cpsr");
        if (machine.equals(ArmArchitecture.MACHINE_AARCH64)) {
            for (int i = 0; i < 31; i++) {
                b.set("x" + i, cpu.element("env.xregs", i, 8));
            }
            b.set("sp", cpu.element("env.xregs", 31, 8));
            b.set("pc", cpu.unsigned("env.pc"));
            b.set("pstate", pstate);
            for (int i = 0; i < Aarch64FpsimdState.VREG_COUNT; i++) {
                String f = "env.vfp.zregs[" + i + "].d";
                if (cpu.has(f)) {
                    BigInteger lo = unsigned(cpu.element(f, 0, 8));
                    BigInteger hi = unsigned(cpu.element(f, 1, 8));
                    b.set("v" + i, hi.shiftLeft(64).or(lo));
                }
            }
            if (cpu.has("fpscr")) {
                long fpscr = cpu.unsigned("fpscr");
                b.set("fpsr", fpscr & Integer.toUnsignedLong(Aarch32Sync.FPSR_MASK));
                b.set("fpcr", fpscr & Integer.toUnsignedLong(Aarch32Sync.FPCR_MASK));
            }
            if (cpu.has("env.elr_el")) {
                b.set("elr_el1", cpu.element("env.elr_el", 1, 8));
            }
            if (cpu.has("env.sp_el")) {
                b.set("sp_el0", cpu.element("env.sp_el", 0, 8));
                b.set("sp_el1", cpu.element("env.sp_el", 1, 8));
            }
            if (cpu.has("env.banked_spsr")) {
                b.set("spsr_el1", cpu.element("env.banked_spsr", 1, 8));
            }
            b.set("currentel", pstate & 0xc);
            sysregs(b, cpu);
        } else {
            int regs = cpu.bytes("env.regs").length / 4;
            for (int i = 0; i < Math.min(regs, 16); i++) {
                b.set("r" + i, cpu.element("env.regs", i, 4));
            }
            b.set("cpsr", pstate);
            for (int i = 0; i < ArmVfpState.DREG_COUNT / 2; i++) {
                String f = "env.vfp.zregs[" + i + "].d";
                if (cpu.has(f)) {
                    b.set("d" + 2 * i, cpu.element(f, 0, 8));
                    b.set("d" + (2 * i + 1), cpu.element(f, 1, 8));
                }
            }
            if (cpu.has("fpscr")) {
                b.set("fpscr", cpu.unsigned("fpscr"));
            }
        }
        return b.build();
    }

    /** The AArch64 EL1 system registers from the coprocessor list, by KVM id (op0, op1, CRn, CRm, op2). */
    private static void sysregs(VcpuState.Builder b, MigrationDevice cpu) {
        if (!cpu.has("cpreg_vmstate_indexes") || !cpu.has("cpreg_vmstate_values")) {
            return;
        }
        int n = Math.min(cpu.bytes("cpreg_vmstate_indexes").length, cpu.bytes("cpreg_vmstate_values").length) / 8;
        Map<Long, String> wanted = Map.of(
                sysreg(3, 0, 1, 0, 0), "sctlr_el1",
                sysreg(3, 0, 2, 0, 0), "ttbr0_el1",
                sysreg(3, 0, 2, 0, 1), "ttbr1_el1",
                sysreg(3, 0, 2, 0, 2), "tcr_el1",
                sysreg(3, 0, 10, 2, 0), "mair_el1",
                sysreg(3, 0, 12, 0, 0), "vbar_el1",
                sysreg(3, 0, 5, 2, 0), "esr_el1",
                sysreg(3, 0, 6, 0, 0), "far_el1",
                sysreg(3, 0, 13, 0, 4), "tpidr_el1");
        for (int i = 0; i < n; i++) {
            String name = wanted.get(cpu.element("cpreg_vmstate_indexes", i, 8));
            if (name != null) {
                b.set(name, cpu.element("cpreg_vmstate_values", i, 8));
            }
        }
    }

    private static long sysreg(int op0, int op1, int crn, int crm, int op2) {
        return SYSREG | (long) op0 << 14 | (long) op1 << 11 | (long) crn << 7 | (long) crm << 3 | op2;
    }

    private static BigInteger unsigned(long v) {
        return new BigInteger(Long.toUnsignedString(v));
    }
}
