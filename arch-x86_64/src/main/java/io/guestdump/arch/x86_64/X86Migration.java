package io.guestdump.arch.x86_64;

import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.MigrationDevice;
import io.guestdump.arch.api.RamBlockMapping;
import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.arch.api.VcpuState;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * x86 guests in a QEMU migration stream, shared by the x86_64 and i386 plugins: the {@code cpu} section
 * ({@code target/i386/machine.c}'s {@code vmstate_x86_cpu}) decoded to the canonical register names of
 * {@link X86Registers}, and where the pc and q35 boards put {@code pc.ram} and {@code pc.bios}.
 *
 * <p>Fields read ({@code target_ulong} fields are 8 bytes from qemu-system-x86_64, 4 from qemu-system-i386):
 * {@code env.regs} (in QEMU's R_EAX, R_ECX, R_EDX, R_EBX, R_ESP, R_EBP, R_ESI, R_EDI, R8.. order), {@code env.eip},
 * {@code env.eflags}, {@code env.segs[i]} (R_ES, R_CS, R_SS, R_DS, R_FS, R_GS) and {@code env.ldt}, {@code env.tr},
 * {@code env.gdt}, {@code env.idt} (each selector · base · limit · flags), {@code env.cr[0|2|3|4]}, {@code env.dr},
 * {@code env.efer}, {@code env.kernelgsbase}, {@code env.fpuc}, {@code env.fpus_vmstate},
 * {@code env.fptag_vmstate}, {@code env.mxcsr}, {@code env.fpregs[i].tmp} (u64 mantissa · u16 exponent),
 * {@code env.xmm_regs[0][i]} and {@code env.xmm_regs[1][i]} (the YMM high halves).
 */
public final class X86Migration {
    /** The section id string of a vCPU. */
    public static final String CPU_SECTION = "cpu";

    /** QEMU's order of {@code env.regs}. */
    private static final List<String> GPR_ORDER = List.of("rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
            "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15");
    /** QEMU's order of {@code env.segs}. */
    private static final List<String> SEG_ORDER = List.of("es", "cs", "ss", "ds", "fs", "gs");

    private static final long GIB = 1L << 30;
    private static final long FOUR_GIB = 4 * GIB;
    /**
     * The legacy VGA window, [0xa0000, 0xc0000): with a VGA device (SMRAM closed) its MMIO covers pc.ram there and
     * QEMU's dump leaves it out; without one (libvirt's {@code -nodefaults} and no {@code <video>}) nothing covers
     * pc.ram and QEMU's dump shows it as RAM.
     */
    private static final long VGA_START = 0xa0000;
    private static final long VGA_END = 0xc0000;

    private X86Migration() {}

    /** Whether the machine type is one of QEMU's PC boards. */
    public static boolean pcMachine(String machineType) {
        return machineType.startsWith("pc") || machineType.startsWith("q35") || machineType.equals("isapc");
    }

    /**
     * The guest machine when the stream is a PC board's whose vCPUs have {@code target_ulong} of {@code width}
     * bytes (8: x86_64, 4: i386).
     */
    public static Optional<String> machine(String machineType, List<MigrationDevice> cpus, int width, String name) {
        if (!pcMachine(machineType) || cpus.isEmpty() || !cpus.get(0).has("env.eip")) {
            return Optional.empty();
        }
        return cpus.get(0).bytes("env.eip").length == width ? Optional.of(name) : Optional.empty();
    }

    /**
     * pc.ram below 4 GiB (without the VGA window when the stream has a VGA device's vga.vram) and above, and pc.bios
     * ending at 4 GiB. The split follows QEMU
     * 7.2's boards with default properties: i440fx keeps 0xe0000000 below 4 GiB (0xc0000000 when the RAM does not
     * fit), q35 keeps 0xb0000000 (0x80000000 when the RAM reaches that). [0xc0000, 0x100000) is shown as pc.ram,
     * as the PAM registers map it once the firmware has shadowed itself.
     */
    public static List<RamBlockMapping> layout(String machineType, Map<String, Long> blocks) {
        if (!pcMachine(machineType)) {
            throw new UnsupportedGuestException("machine type " + machineType + " is not a PC board (pc-*, q35)");
        }
        Long ram = blocks.get("pc.ram");
        if (ram == null) {
            throw new InvalidInputException("migration stream of machine " + machineType + " has no pc.ram RAMBlock "
                    + "(RAMBlocks: " + blocks.keySet() + ")");
        }
        boolean q35 = machineType.contains("q35");
        long lowmem;
        if (q35) {
            lowmem = Long.compareUnsigned(ram, 0xb0000000L) >= 0 ? 0x80000000L : 0xb0000000L;
        } else {
            lowmem = Long.compareUnsigned(ram, 0xe0000000L) >= 0 ? 0xc0000000L : 0xe0000000L;
        }
        long below = Math.min(ram, lowmem);
        List<RamBlockMapping> out = new ArrayList<>();
        // the VGA core of QEMU (std VGA, cirrus, qxl-vga, virtio-vga) names its RAMBlock "<pci address>/vga.vram"
        boolean vga = blocks.keySet().stream().anyMatch(id -> id.equals("vga.vram") || id.endsWith("/vga.vram"));
        if (below <= VGA_START || !vga) {
            out.add(new RamBlockMapping("pc.ram", 0, 0, below));
        } else {
            out.add(new RamBlockMapping("pc.ram", 0, 0, VGA_START));
            if (below > VGA_END) {
                out.add(new RamBlockMapping("pc.ram", VGA_END, VGA_END, below - VGA_END));
            }
        }
        if (ram > below) {
            out.add(new RamBlockMapping("pc.ram", below, FOUR_GIB, ram - below));
        }
        Long bios = blocks.get("pc.bios");
        if (bios != null && bios > 0 && bios <= 16L << 20) {
            out.add(new RamBlockMapping("pc.bios", 0, FOUR_GIB - bios, bios));
        }
        return out;
    }

    /** One vCPU; register values are truncated to {@code target_ulong} as QEMU keeps them. */
    public static VcpuState cpu(MigrationDevice cpu, boolean longMode) {
        int w = cpu.bytes("env.eip").length;
        VcpuState.Builder b = VcpuState.builder(cpu.instanceId());
        int gprs = cpu.bytes("env.regs").length / w;
        for (int i = 0; i < Math.min(gprs, GPR_ORDER.size()); i++) {
            b.set(GPR_ORDER.get(i), cpu.element("env.regs", i, w));
        }
        b.set(X86Registers.RIP, cpu.unsigned("env.eip"));
        b.set(X86Registers.RFLAGS, cpu.unsigned("env.eflags"));
        for (int i = 0; i < SEG_ORDER.size(); i++) {
            segment(b, cpu, "env.segs[" + i + "].", SEG_ORDER.get(i), true);
        }
        segment(b, cpu, "env.ldt.", "ldt", true);
        segment(b, cpu, "env.tr.", "tr", true);
        segment(b, cpu, "env.gdt.", "gdt", false);
        segment(b, cpu, "env.idt.", "idt", false);
        for (int cr : new int[] {0, 2, 3, 4}) {
            b.set("cr" + cr, cpu.unsigned("env.cr[" + cr + "]"));
        }
        if (cpu.has("env.efer")) {
            b.set(X86Registers.EFER, cpu.unsigned("env.efer"));
        }
        if (longMode && cpu.has("env.kernelgsbase")) {
            b.set(X86Registers.KERNEL_GS_BASE, cpu.unsigned("env.kernelgsbase"));
        }
        if (cpu.has("env.dr")) {
            int dw = cpu.bytes("env.dr").length / 8;
            for (int i : new int[] {0, 1, 2, 3, 6, 7}) {
                b.set("dr" + i, cpu.element("env.dr", i, dw));
            }
        }
        optional(b, cpu, "fcw", "env.fpuc");
        optional(b, cpu, "fsw", "env.fpus_vmstate");
        optional(b, cpu, "ftw", "env.fptag_vmstate");
        optional(b, cpu, "mxcsr", "env.mxcsr");
        for (int i = 0; i < X86Registers.FPR_COUNT; i++) {
            String f = "env.fpregs[" + i + "].tmp";
            if (cpu.has(f) && cpu.bytes(f).length == 10) {
                long mant = cpu.element(f, 0, 8);
                long exp = (cpu.bytes(f)[8] & 0xff) << 8 | (cpu.bytes(f)[9] & 0xff);
                b.set("fpr" + i, BigInteger.valueOf(exp).shiftLeft(64).or(unsigned(mant)));
            }
        }
        for (int i = 0; i < X86Registers.vectorCount(longMode); i++) {
            String lo = "env.xmm_regs[0][" + i + "]._q_ZMMReg[0]";
            String hi = "env.xmm_regs[0][" + i + "]._q_ZMMReg[1]";
            if (!cpu.has(lo) || !cpu.has(hi)) {
                continue;
            }
            BigInteger xmm = unsigned(cpu.unsigned(hi)).shiftLeft(64).or(unsigned(cpu.unsigned(lo)));
            b.set("xmm" + i, xmm);
            String y0 = "env.xmm_regs[1][" + i + "]._q_ZMMReg[2]";
            String y1 = "env.xmm_regs[1][" + i + "]._q_ZMMReg[3]";
            if (cpu.has(y0) && cpu.has(y1)) {
                BigInteger high = unsigned(cpu.unsigned(y1)).shiftLeft(64).or(unsigned(cpu.unsigned(y0)));
                b.set("ymm" + i, high.shiftLeft(128).or(xmm));
            }
        }
        return b.build();
    }

    private static void segment(VcpuState.Builder b, MigrationDevice cpu, String prefix, String name, boolean full) {
        if (full) {
            b.set(X86Registers.segment(name, "selector"), cpu.unsigned(prefix + "selector"));
        }
        b.set(X86Registers.segment(name, "base"), cpu.unsigned(prefix + "base"));
        b.set(X86Registers.segment(name, "limit"), cpu.unsigned(prefix + "limit"));
        if (full) {
            b.set(X86Registers.segment(name, "flags"), cpu.unsigned(prefix + "flags"));
        }
    }

    private static void optional(VcpuState.Builder b, MigrationDevice cpu, String reg, String field) {
        if (cpu.has(field)) {
            b.set(reg, cpu.unsigned(field));
        }
    }

    private static BigInteger unsigned(long v) {
        return new BigInteger(Long.toUnsignedString(v));
    }

    /** The sections this plugin reads. */
    public static Set<String> sections() {
        return Set.of(CPU_SECTION);
    }
}
