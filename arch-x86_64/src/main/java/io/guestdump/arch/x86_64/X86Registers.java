package io.guestdump.arch.x86_64;

import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.VcpuState;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The x86 register names shared by the x86_64 and i386 plugins, in QEMU's spelling, lower case. These are the
 * <em>canonical</em> names the layout classes read: the i386 plugin renames its {@code eax}… to them first.
 *
 * <p>Segment-like registers ({@link #SEGMENTS}) have four dotted parts, {@code cs.selector}, {@code cs.base},
 * {@code cs.limit}, {@code cs.flags}, which are QEMU's {@code SegmentCache} fields: {@code flags} is the whole
 * word QEMU keeps (the descriptor's high dword), not the {@code flags & 0x00ffff00} the monitor prints.
 */
public final class X86Registers {
    /** The general-purpose registers every x86 guest has, in QEMU's {@code R_EAX}… order. */
    public static final List<String> LEGACY_GPRS = List.of("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp");

    /** The registers only a 64-bit build of QEMU has. */
    public static final List<String> LONG_GPRS = List.of("r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15");

    /** The segment-like registers, in the order {@code info registers} prints them. */
    public static final List<String> SEGMENTS = List.of("es", "cs", "ss", "ds", "fs", "gs", "ldt", "tr");

    /** The parts of a segment register. */
    public static final List<String> SEGMENT_PARTS = List.of("selector", "base", "limit", "flags");

    /** The control registers kept ({@code cr1} is reserved; QEMU writes its zero). */
    public static final List<String> CONTROL = List.of("cr0", "cr2", "cr3", "cr4");

    /** Instruction pointer. */
    public static final String RIP = "rip";
    /** Flags register. */
    public static final String RFLAGS = "rflags";
    /** Extended feature enable register (MSR 0xc0000080). */
    public static final String EFER = "efer";
    /** The swapped GS base (MSR 0xc0000102), absent from the monitor text. */
    public static final String KERNEL_GS_BASE = "kernel_gs_base";

    /** {@code EFER.LMA}: long mode active. QEMU's {@code HF_LMA} mirrors it. */
    public static final long EFER_LMA = 1L << 10;
    /** {@code CR0.PE}: protected mode. */
    public static final long CR0_PE = 1L;
    /** {@code EFLAGS.VM}: virtual-8086 mode. */
    public static final long EFLAGS_VM = 1L << 17;

    /** The debug registers the monitor prints. */
    public static final List<String> DEBUG = List.of("dr0", "dr1", "dr2", "dr3", "dr6", "dr7");

    /** The x87/SSE control words the monitor prints. */
    public static final List<String> FPU_CONTROL = List.of("fcw", "fsw", "ftw", "mxcsr");

    /** x87 data registers (80 bits each). */
    public static final int FPR_COUNT = 8;
    /** AVX-512 opmask registers. */
    public static final int OPMASK_COUNT = 8;

    private X86Registers() {}

    /** {@code <segment>.<part>}, e.g. {@code cs.selector}. */
    public static String segment(String segment, String part) {
        return segment + "." + part;
    }

    /**
     * Every name a vCPU of this kind accepts.
     *
     * @param longMode      whether the build has r8…r15, kernel_gs_base and 16/32 vector registers (x86_64)
     */
    public static Set<String> names(boolean longMode) {
        List<String> names = new ArrayList<>(LEGACY_GPRS);
        if (longMode) {
            names.addAll(LONG_GPRS);
        }
        names.add(RIP);
        names.add(RFLAGS);
        for (String s : SEGMENTS) {
            for (String p : SEGMENT_PARTS) {
                names.add(segment(s, p));
            }
        }
        for (String t : List.of("gdt", "idt")) {
            names.add(segment(t, "base"));
            names.add(segment(t, "limit"));
        }
        names.addAll(CONTROL);
        names.add(EFER);
        if (longMode) {
            names.add(KERNEL_GS_BASE);
        }
        names.addAll(DEBUG);
        names.addAll(FPU_CONTROL);
        for (int i = 0; i < FPR_COUNT; i++) {
            names.add("fpr" + i);
        }
        int vectors = vectorCount(longMode);
        for (int i = 0; i < vectors; i++) {
            names.add("xmm" + i);
            names.add("ymm" + i);
        }
        for (int i = 0; i < zmmCount(longMode); i++) {
            names.add("zmm" + i);
        }
        for (int i = 0; i < OPMASK_COUNT; i++) {
            names.add("k" + i);
        }
        return Collections.unmodifiableSet(new LinkedHashSet<>(names));
    }

    /** XMM/YMM registers QEMU prints: 16 in 64-bit code, 8 otherwise. */
    public static int vectorCount(boolean longMode) {
        return longMode ? 16 : 8;
    }

    /** ZMM registers QEMU prints: 32 in 64-bit code, 8 otherwise. */
    public static int zmmCount(boolean longMode) {
        return longMode ? 32 : 8;
    }

    /** Whether the vCPU has long mode active ({@code EFER.LMA}), QEMU's {@code HF_LMA}. */
    public static boolean longModeActive(VcpuState cpu) {
        return (cpu.u64(EFER) & EFER_LMA) != 0;
    }

    /** The register's value for a 64-bit field; refuses values wider than 64 bits rather than truncating. */
    public static long u64(VcpuState cpu, String name) {
        return checked(cpu, name, 64).longValue();
    }

    /** The register's value for a 32-bit field; refuses values wider than 32 bits rather than truncating. */
    public static int u32(VcpuState cpu, String name) {
        return checked(cpu, name, 32).intValue();
    }

    private static BigInteger checked(VcpuState cpu, String name, int bits) {
        BigInteger v = cpu.value(name);
        if (v.bitLength() > bits) {
            throw new InvalidInputException("vCPU " + cpu.index() + " register " + name + " = 0x" + v.toString(16)
                    + " does not fit the " + bits + "-bit field QEMU's notes keep it in; give a value below 2^"
                    + bits);
        }
        return v;
    }
}
