package io.guestdump.arch.riscv64;

import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.MigrationDevice;
import io.guestdump.arch.api.RamBlockMapping;
import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.arch.api.VcpuState;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * riscv64 guests of QEMU's {@code virt} board in a migration stream: where the board's RAMBlocks lie, and the
 * {@code cpu} section of each vCPU ({@code target/riscv/machine.c}'s {@code vmstate_riscv_cpu}).
 *
 * <p>RAM: {@code riscv_virt_board.ram} at {@code VIRT_DRAM} (0x80000000) and the boot ROM
 * {@code riscv_virt_board.mrom} at {@code VIRT_MROM} (0x1000), the two ranges QEMU's own dump holds; the flash
 * RAMBlocks ({@code virt.flash0}, {@code virt.flash1}) are ROM devices QEMU's dump leaves out, and so are we.
 *
 * <p>The {@code cpu} section, read by the field names and widths of the stream's own JSON description:
 *
 * <table>
 *   <caption>fields read</caption>
 *   <tr><th>field</th><th>bytes</th><th>registers</th></tr>
 *   <tr><td>{@code env.gpr}</td><td>32 × 8</td><td>x1..x31 (x0 must read 0)</td></tr>
 *   <tr><td>{@code env.fpr}</td><td>32 × 8</td><td>f0..f31</td></tr>
 *   <tr><td>{@code env.pc}</td><td>8</td><td>pc</td></tr>
 *   <tr><td>{@code env.misa_mxl}</td><td>4</td><td>must be 2 (MXL_RV64)</td></tr>
 *   <tr><td>{@code env.mhartid} … {@code env.satp}</td><td>8 each</td><td>the M- and S-mode CSRs of
 *       {@link #CSR_FIELDS}</td></tr>
 *   <tr><td>subsection {@code cpu/hyper}, when written (the H extension)</td><td>8 each</td><td>hstatus,
 *       hideleg, hedeleg, vsstatus, vstvec, vsepc, vscause, htval, mtval2 ({@link #HYPER_FIELDS}; hstatus with
 *       VSXL = misa.MXL, which QEMU supplies on every read instead of storing it), and {@code v}
 *       from {@code env.virt} bit 0 ({@code VIRT_ONOFF}, section version 5) or {@code env.virt_enabled}
 *       (a bool, later versions); subsection versions 2 (QEMU 7.2) to 5</td></tr>
 * </table>
 *
 * Section versions {@value #MIN_VERSION} (QEMU 7.2) to {@value #MAX_VERSION} are read; any other version, a
 * missing field or a field of another width is an {@link InvalidInputException} naming it, never a guess. fcsr is
 * not decoded: QEMU keeps the accrued exception flags in its softfloat state, which the section does not carry.
 */
final class Riscv64Migration {
    static final String CPU_SECTION = "cpu";
    /** {@code VIRT_DRAM} of the virt board. */
    static final long VIRT_DRAM = 0x80000000L;
    /** {@code VIRT_MROM} of the virt board: the reset vector and device-tree pointer. */
    static final long VIRT_MROM = 0x1000L;
    static final String VIRT_RAM = "riscv_virt_board.ram";
    static final String VIRT_ROM = "riscv_virt_board.mrom";
    /** The {@code vmstate_riscv_cpu} version QEMU 7.2 writes. */
    static final int MIN_VERSION = 5;
    /** The newest {@code vmstate_riscv_cpu} version whose fields are known here (QEMU 10). */
    static final int MAX_VERSION = 11;
    /** {@code MXL_RV64}: misa.MXL of a 64-bit hart. */
    static final long MXL_RV64 = 2;
    /** The {@code cpu/hyper} version QEMU 7.2 writes. */
    static final long MIN_HYPER_VERSION = 2;
    /** The newest {@code cpu/hyper} version whose fields are known here (QEMU 10). */
    static final long MAX_HYPER_VERSION = 5;
    /** The hyper subsection's vmsd name, the scope of its fields. */
    static final String HYPER = "cpu/hyper";
    /** hstatus.VSXL (bits 33:32), the XLEN of VS-mode. */
    static final long HSTATUS_VSXL = 3L << 32;
    private static final int HSTATUS_VSXL_SHIFT = 32;
    /** {@code VIRT_ONOFF}, bit 0 of {@code env.virt} in section version 5. */
    private static final long VIRT_ONOFF = 1;

    /** Register name to field: the CSRs of the section's own fields, all 8 bytes wide. */
    static final Map<String, String> CSR_FIELDS = orderedMap("mhartid", "mstatus", "mip", "mie", "mideleg",
            "medeleg", "mtvec", "stvec", "mepc", "sepc", "mcause", "scause", "mtval", "stval", "mscratch",
            "sscratch", "satp");
    /** Register name to field: the CSRs of the {@code cpu/hyper} subsection, all 8 bytes wide. */
    static final Map<String, String> HYPER_FIELDS = orderedMap("hstatus", "hideleg", "hedeleg", "vsstatus",
            "vstvec", "vsepc", "vscause", "htval", "mtval2");

    private Riscv64Migration() {}

    /** The virt board: QEMU 7.2 names it {@code virt}, with no version. */
    static boolean virt(String machineType) {
        return machineType.equals("virt") || machineType.startsWith("virt-");
    }

    /**
     * riscv64 when the machine is virt and vCPU 0's section is a RISC-V one (it has {@code env.gpr} and
     * {@code env.misa_mxl}); an RV32 or RV128 hart is refused here rather than passed on as nobody's.
     */
    static Optional<String> machine(String machineType, List<MigrationDevice> cpus) {
        if (!virt(machineType) || cpus.isEmpty() || !cpus.get(0).has("env.gpr") || !cpus.get(0).has("env.misa_mxl")) {
            return Optional.empty();
        }
        long mxl = cpus.get(0).unsigned("env.misa_mxl");
        if (mxl != MXL_RV64) {
            throw new UnsupportedGuestException("migration stream: vCPU " + cpus.get(0).instanceId()
                    + " has misa.MXL " + mxl + " (" + (mxl == 1 ? "RV32" : mxl == 3 ? "RV128" : "unknown")
                    + "); the riscv64 plugin reads 64-bit harts (MXL 2) only");
        }
        return Optional.of(Riscv64Architecture.ID);
    }

    static List<RamBlockMapping> layout(String machineType, Map<String, Long> blocks) {
        if (!virt(machineType)) {
            throw new UnsupportedGuestException("machine type " + machineType + " is not QEMU's riscv virt board");
        }
        Long ram = blocks.get(VIRT_RAM);
        if (ram == null) {
            throw new InvalidInputException("migration stream of machine " + machineType + " has no " + VIRT_RAM
                    + " RAMBlock (RAMBlocks: " + blocks.keySet() + ")");
        }
        List<RamBlockMapping> out = new ArrayList<>();
        Long rom = blocks.get(VIRT_ROM);
        if (rom != null) {
            out.add(new RamBlockMapping(VIRT_ROM, 0, VIRT_MROM, rom));
        }
        out.add(new RamBlockMapping(VIRT_RAM, 0, VIRT_DRAM, ram));
        return out;
    }

    static VcpuState cpu(MigrationDevice cpu) {
        if (cpu.version() < MIN_VERSION || cpu.version() > MAX_VERSION) {
            throw new InvalidInputException("migration stream: riscv cpu section of vCPU " + cpu.instanceId()
                    + " has version " + cpu.version() + "; the riscv64 plugin reads versions " + MIN_VERSION
                    + " (QEMU 7.2) to " + MAX_VERSION + "; its layout is unknown here. Dump such a guest with `qmp:SOCKET "
                    + "--live=never` (registers from the monitor)");
        }
        long mxl = width(cpu, "env.misa_mxl", 4);
        if (mxl != MXL_RV64) {
            throw new UnsupportedGuestException("migration stream: vCPU " + cpu.instanceId() + " has misa.MXL " + mxl
                    + "; the riscv64 plugin reads 64-bit harts (MXL 2) only");
        }
        VcpuState.Builder b = VcpuState.builder(cpu.instanceId());
        b.set("pc", width(cpu, "env.pc", 8));
        array(cpu, "env.gpr");
        if (cpu.element("env.gpr", 0, 8) != 0) {
            throw new InvalidInputException("migration stream: vCPU " + cpu.instanceId() + " has x0 = 0x"
                    + Long.toHexString(cpu.element("env.gpr", 0, 8)) + " in env.gpr, but x0 is hard-wired to zero;"
                    + " the section is not QEMU's riscv cpu state");
        }
        for (int i = 1; i < Riscv64Registers.GPRS; i++) {
            b.set(Riscv64Registers.gpr(i), cpu.element("env.gpr", i, 8));
        }
        array(cpu, "env.fpr");
        for (int i = 0; i < Riscv64Registers.GPRS; i++) {
            b.set(Riscv64Registers.fpr(i), cpu.element("env.fpr", i, 8));
        }
        for (Map.Entry<String, String> e : CSR_FIELDS.entrySet()) {
            b.set(e.getKey(), width(cpu, e.getValue(), 8));
        }
        String scope = HYPER + ":";
        if (cpu.has(scope + "env.hstatus")) {
            Long hyper = cpu.subsections().get(HYPER);
            if (hyper != null && (hyper < MIN_HYPER_VERSION || hyper > MAX_HYPER_VERSION)) {
                throw new InvalidInputException("migration stream: subsection " + HYPER + " of vCPU "
                        + cpu.instanceId() + " has version " + hyper + "; the riscv64 plugin reads versions "
                        + MIN_HYPER_VERSION + " (QEMU 7.2) to " + MAX_HYPER_VERSION + "; its layout is unknown here");
            }
            for (Map.Entry<String, String> e : HYPER_FIELDS.entrySet()) {
                b.set(e.getKey(), width(cpu, scope + e.getValue(), 8));
            }
            // hstatus.VSXL is read-only, and QEMU supplies it on every read rather than storing it: misa.MXL
            long hstatus = width(cpu, scope + "env.hstatus", 8);
            b.set("hstatus", (hstatus & ~HSTATUS_VSXL) | mxl << HSTATUS_VSXL_SHIFT);
            b.set("v", virt(cpu));
        }
        return b.build();
    }

    /** The virtualisation mode: {@code env.virt}'s VIRT_ONOFF bit, or the later {@code env.virt_enabled} bool. */
    private static long virt(MigrationDevice cpu) {
        boolean old = cpu.has("env.virt");
        boolean bool = cpu.has("env.virt_enabled");
        if (old == bool) {
            throw new InvalidInputException("migration stream: riscv cpu section of vCPU " + cpu.instanceId()
                    + " (version " + cpu.version() + ") has " + (old ? "both env.virt and env.virt_enabled"
                    : "neither env.virt nor env.virt_enabled") + "; QEMU writes exactly one");
        }
        long v = old ? width(cpu, "env.virt", 8) & VIRT_ONOFF : width(cpu, "env.virt_enabled", 1);
        if (v > 1) {
            throw new InvalidInputException("migration stream: env.virt_enabled of vCPU " + cpu.instanceId() + " is "
                    + v + "; a bool is 0 or 1");
        }
        return v;
    }

    /** The field as an integer, which must be exactly {@code bytes} wide. */
    private static long width(MigrationDevice cpu, String field, int bytes) {
        int n = cpu.bytes(field).length;
        if (n != bytes) {
            throw new InvalidInputException("migration stream: field " + field + " of the riscv cpu section of vCPU "
                    + cpu.instanceId() + " (version " + cpu.version() + ") has " + n + " bytes; QEMU writes " + bytes);
        }
        return cpu.unsigned(field);
    }

    /** A register file of 32 eight-byte registers, exactly. */
    private static void array(MigrationDevice cpu, String field) {
        int n = cpu.bytes(field).length;
        if (n != Riscv64Registers.GPRS * 8) {
            throw new InvalidInputException("migration stream: field " + field + " of the riscv cpu section of vCPU "
                    + cpu.instanceId() + " (version " + cpu.version() + ") has " + n + " bytes; QEMU writes "
                    + Riscv64Registers.GPRS + " registers of 8 bytes (RV64)");
        }
    }

    /** {@code name → env.name}, in order. */
    private static Map<String, String> orderedMap(String... names) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String n : names) {
            m.put(n, "env." + n);
        }
        return Collections.unmodifiableMap(m);
    }
}
