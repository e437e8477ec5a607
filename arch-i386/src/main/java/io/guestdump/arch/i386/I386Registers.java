package io.guestdump.arch.i386;

import io.guestdump.arch.api.VcpuState;
import io.guestdump.arch.x86_64.X86Registers;
import java.math.BigInteger;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * The register names of a qemu-system-i386 vCPU: the 32-bit names QEMU's monitor prints for it ({@code eax},
 * {@code ebx}, {@code ecx}, {@code edx}, {@code esi}, {@code edi}, {@code ebp}, {@code esp}, {@code eip},
 * {@code eflags}) and, for everything else, the shared x86 names of {@link X86Registers} without the 64-bit-only
 * ones ({@code r8}…{@code r15}, {@code kernel_gs_base}). The shared layout classes read canonical (x86_64)
 * names, so states are renamed on the way in and out.
 */
public final class I386Registers {
    private static final Map<String, String> TO_CANONICAL = Map.of(
            "eax", "rax", "ebx", "rbx", "ecx", "rcx", "edx", "rdx",
            "esi", "rsi", "edi", "rdi", "ebp", "rbp", "esp", "rsp",
            "eip", X86Registers.RIP, "eflags", X86Registers.RFLAGS);
    private static final Map<String, String> FROM_CANONICAL = invert(TO_CANONICAL);

    /** Every name a qemu-system-i386 vCPU accepts. */
    public static final Set<String> NAMES = names();

    private I386Registers() {}

    /**
     * The state with canonical names, as the x86 layout classes read it. Only i386 names pass: the notes of a
     * qemu-system-i386 guest hold zero for r8…r15 and kernel_gs_base whatever the state says.
     */
    public static VcpuState toCanonical(VcpuState cpu) {
        LinkedHashMap<String, BigInteger> out = new LinkedHashMap<>();
        cpu.registers().forEach((name, value) -> {
            if (NAMES.contains(name)) {
                out.put(TO_CANONICAL.getOrDefault(name, name), value);
            }
        });
        return new VcpuState(cpu.index(), out);
    }

    /**
     * The state with i386 names. Registers a qemu-system-i386 vCPU does not have (an EM_386 dump of a 64-bit
     * guest outside long mode carries r8…r15 and kernel_gs_base in its QEMU note) are left out.
     */
    public static VcpuState fromCanonical(VcpuState cpu) {
        LinkedHashMap<String, BigInteger> out = new LinkedHashMap<>();
        cpu.registers().forEach((name, value) -> {
            String renamed = FROM_CANONICAL.getOrDefault(name, name);
            if (NAMES.contains(renamed)) {
                out.put(renamed, value);
            }
        });
        return new VcpuState(cpu.index(), out);
    }

    private static Set<String> names() {
        LinkedHashSet<String> names = new LinkedHashSet<>();
        for (String canonical : X86Registers.names(false)) {
            names.add(FROM_CANONICAL.getOrDefault(canonical, canonical));
        }
        return Collections.unmodifiableSet(names);
    }

    private static Map<String, String> invert(Map<String, String> map) {
        Map<String, String> inverse = new LinkedHashMap<>();
        map.forEach((k, v) -> inverse.put(v, k));
        return Map.copyOf(inverse);
    }
}
