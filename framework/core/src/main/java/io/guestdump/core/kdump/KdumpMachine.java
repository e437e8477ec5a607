package io.guestdump.core.kdump;

import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.elf.ElfData;
import io.guestdump.elf.Machine;
import io.guestdump.memory.GuestBlock;
import java.util.List;
import java.util.Optional;

/**
 * The per-architecture header values of a kdump file: {@code utsname.machine} and {@code phys_base}.
 *
 * <p>{@code utsname.machine} is what the guest's {@code uname -m} prints, which is what crash compares
 * (case-sensitive prefixes {@code i686}, {@code x86_64}, {@code ppc64}, {@code arm}, {@code s390x},
 * {@code aarch64} in {@code diskdump.c}) and libkdumpfile maps to an architecture ({@code ppc64le} is its own
 * architecture there). QEMU writes {@code S390X} and {@code Unknown} for several targets, which readers reject.
 *
 * <p>{@code phys_base} comes from VMCOREINFO in the radix the kernel prints it in: x86_64
 * {@code NUMBER(phys_base)=%ld} is decimal and may be negative; arm64 {@code NUMBER(PHYS_OFFSET)=0x%llx} is hex.
 * QEMU parses both as hex, which is wrong on x86_64 (an unmerged 2024 patch fixes it). Without VMCOREINFO, arm and
 * aarch64 use the lowest guest-physical address (QEMU's guess, and crash's); every other architecture uses 0.
 */
public final class KdumpMachine {
    private KdumpMachine() {}

    /** {@code utsname.machine} for a dump target. */
    public static String utsMachine(DumpTarget target) {
        return switch (target.machine()) {
            case Machine.EM_X86_64 -> "x86_64";
            case Machine.EM_386 -> "i686";
            case Machine.EM_PPC64 -> target.data() == ElfData.LSB ? "ppc64le" : "ppc64";
            case Machine.EM_S390 -> "s390x";
            case Machine.EM_AARCH64 -> "aarch64";
            case Machine.EM_ARM -> "arm";
            case Machine.EM_RISCV -> "riscv64";
            default -> "unknown";
        };
    }

    /**
     * {@code phys_base} for the sub-header.
     *
     * @param target     the dump target
     * @param vmcoreinfo the guest's VMCOREINFO text, or null
     * @param blocks     all guest memory (not only the dumped part)
     */
    public static long physBase(DumpTarget target, String vmcoreinfo, List<GuestBlock> blocks) {
        return switch (target.machine()) {
            case Machine.EM_X86_64 -> number(vmcoreinfo, "phys_base").orElse(0L);
            case Machine.EM_AARCH64, Machine.EM_ARM -> number(vmcoreinfo, "PHYS_OFFSET")
                    .orElseGet(() -> lowest(blocks));
            default -> 0L;
        };
    }

    /**
     * The value of {@code NUMBER(name)=} in VMCOREINFO. The kernel prints NUMBER() with {@code %ld}, except where a
     * {@code 0x} prefix says it is hex (arm64 PHYS_OFFSET); a leading minus sign is allowed in both.
     */
    public static Optional<Long> number(String vmcoreinfo, String name) {
        if (vmcoreinfo == null) {
            return Optional.empty();
        }
        String key = "NUMBER(" + name + ")=";
        for (String line : vmcoreinfo.split("\n")) {
            if (line.startsWith(key)) {
                return Optional.of(parse(line.substring(key.length()).trim(), key));
            }
        }
        return Optional.empty();
    }

    static long parse(String text, String key) {
        boolean negative = text.startsWith("-");
        String digits = negative ? text.substring(1) : text;
        try {
            long v = digits.startsWith("0x") || digits.startsWith("0X")
                    ? Long.parseUnsignedLong(digits.substring(2), 16)
                    : Long.parseUnsignedLong(digits);
            return negative ? -v : v;
        } catch (NumberFormatException e) {
            throw new InvalidInputException("VMCOREINFO " + key + text + " is not a number (decimal, or hex with 0x); "
                    + "fix the snapshot's VMCOREINFO text", e);
        }
    }

    private static long lowest(List<GuestBlock> blocks) {
        long min = -1L;
        for (GuestBlock b : blocks) {
            if (Long.compareUnsigned(b.range().start(), min) < 0) {
                min = b.range().start();
            }
        }
        return blocks.isEmpty() ? 0 : min;
    }
}
