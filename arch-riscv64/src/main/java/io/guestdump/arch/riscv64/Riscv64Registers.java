package io.guestdump.arch.riscv64;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The register names of a riscv64 vCPU, lower case: {@code pc}, the integer registers {@code x1}..{@code x31}
 * ({@code x0} is hard-wired to zero and not kept), the floating-point registers {@code f0}..{@code f31} (raw 64-bit
 * contents), {@code v} (QEMU's virtualisation mode, 0 or 1) and the CSRs QEMU 7.2's monitor prints, by their
 * privileged-spec names ({@code satp}, {@code mstatus}, …).
 */
final class Riscv64Registers {
    /** The CSRs {@code riscv_cpu_dump_state} prints (QEMU 7.2, RV64), plus {@code fcsr}. */
    static final List<String> CSRS = List.of("mhartid", "mstatus", "hstatus", "vsstatus", "mip", "mie", "mideleg",
            "hideleg", "medeleg", "hedeleg", "mtvec", "stvec", "vstvec", "mepc", "sepc", "vsepc", "mcause", "scause",
            "vscause", "mtval", "stval", "htval", "mtval2", "mscratch", "sscratch", "satp", "fcsr");
    /** Integer registers 1..31 in order (the {@code regs[31]} of {@code struct user_regs_struct}). */
    static final int GPRS = 32;
    /** mstatus.SBE (bit 36): S-mode data accesses, page-table walks included, are big-endian. */
    static final long MSTATUS_SBE = 1L << 36;

    /** The integer registers' ABI names, by number (as QEMU's monitor prints them after the slash). */
    static final List<String> ABI_NAMES = List.of("zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0",
            "a1", "a2", "a3", "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11",
            "t3", "t4", "t5", "t6");
    /** The floating-point registers' ABI names, by number. */
    static final List<String> FP_ABI_NAMES = List.of("ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7", "fs0",
            "fs1", "fa0", "fa1", "fa2", "fa3", "fa4", "fa5", "fa6", "fa7", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7",
            "fs8", "fs9", "fs10", "fs11", "ft8", "ft9", "ft10", "ft11");

    private static final Set<String> NAMES = names();

    private Riscv64Registers() {}

    /** Every name a snapshot may set. */
    static Set<String> all() {
        return NAMES;
    }

    private static Set<String> names() {
        List<String> names = new ArrayList<>(List.of("pc"));
        for (int i = 1; i < GPRS; i++) {
            names.add(gpr(i));
        }
        for (int i = 0; i < GPRS; i++) {
            names.add(fpr(i));
        }
        names.add("v");
        names.addAll(CSRS);
        return Collections.unmodifiableSet(new LinkedHashSet<>(names));
    }

    /** {@code x<n>}. */
    static String gpr(int n) {
        return "x" + n;
    }

    /** {@code f<n>}. */
    static String fpr(int n) {
        return "f" + n;
    }
}
