package io.guestdump.arch.arm;

import io.guestdump.arch.api.VcpuState;
import java.math.BigInteger;

/** Writes {@code info registers -a} blocks the way QEMU 7.2's {@code arm_cpu_dump_state} prints them. */
final class QemuMonitorText {
    private QemuMonitorText() {}

    /** An AArch64-state vCPU; with SVE ({@code sve_vq} set) it prints P/FFR/Z instead of Q registers. */
    static String aarch64(VcpuState cpu) {
        StringBuilder s = new StringBuilder("CPU#" + cpu.index() + "\n");
        s.append(String.format(" PC=%016x ", cpu.u64("pc")));
        for (int i = 0; i < 31; i++) {
            s.append(String.format("X%02d=%016x%s", i, cpu.u64("x" + i), (i + 2) % 3 != 0 ? " " : "\n"));
        }
        s.append(String.format(" SP=%016x\n", cpu.u64("sp")));
        s.append(String.format("PSTATE=%08x -Z-- EL1h     FPCR=%08x FPSR=%08x\n", cpu.u32("pstate"),
                cpu.u32("fpcr"), cpu.u32("fpsr")));
        if (!cpu.has(SveConfig.SVE_VQ)) {
            for (int i = 0; i < 32; i++) {
                BigInteger q = cpu.value("v" + i);
                s.append(String.format("Q%02d=%016x:%016x%s", i, word(q, 1), word(q, 0), (i & 1) != 0 ? "\n" : " "));
            }
            return s.toString();
        }
        int zcrLen = cpu.u32(SveConfig.SVE_VQ) - 1;
        for (int i = 0; i <= 16; i++) {
            boolean eol;
            BigInteger p;
            if (i == 16) {
                s.append("FFR=");
                eol = true;
                p = cpu.value("ffr");
            } else {
                s.append(String.format("P%02d=", i));
                eol = switch (zcrLen) {
                    case 0 -> i % 8 == 7;
                    case 1 -> i % 6 == 5;
                    case 2, 3 -> i % 3 == 2;
                    default -> true;
                };
                p = cpu.value("p" + i);
            }
            for (int j = zcrLen / 4; j >= 0; j--) {
                int digits = j * 4 + 4 <= zcrLen + 1 ? 16 : (zcrLen % 4 + 1) * 4;
                s.append(String.format("%0" + digits + "x%s", word(p, j), j != 0 ? ":" : eol ? "\n" : " "));
            }
        }
        for (int i = 0; i < 32; i++) {
            BigInteger z = cpu.value("z" + i);
            if (zcrLen == 0) {
                s.append(String.format("Z%02d=%016x:%016x%s", i, word(z, 1), word(z, 0), (i & 1) != 0 ? "\n" : " "));
            } else if (zcrLen == 1) {
                s.append(String.format("Z%02d=%016x:%016x:%016x:%016x\n", i, word(z, 3), word(z, 2), word(z, 1),
                        word(z, 0)));
            } else {
                for (int j = zcrLen; j >= 0; j--) {
                    boolean odd = (zcrLen - j) % 2 != 0;
                    if (j == zcrLen) {
                        s.append(String.format("Z%02d[%x-%x]=", i, j, j - 1));
                    } else if (!odd) {
                        s.append(j > 0 ? String.format("   [%x-%x]=", j, j - 1) : String.format("     [%x]=", j));
                    }
                    s.append(String.format("%016x:%016x%s", word(z, 2 * j + 1), word(z, 2 * j),
                            odd || j == 0 ? "\n" : ":"));
                }
            }
        }
        return s.toString();
    }

    /** A vCPU in AArch32 state (or of a 32-bit guest), with VFP when it has D registers. */
    static String aarch32(VcpuState cpu) {
        StringBuilder s = new StringBuilder("CPU#" + cpu.index() + "\n");
        for (int i = 0; i < 16; i++) {
            s.append(String.format("R%02d=%08x%s", i, cpu.u32("r" + i), i % 4 == 3 ? "\n" : " "));
        }
        s.append(String.format("PSR=%08x -ZC- A svc32\n", cpu.u32("cpsr")));
        if (cpu.has("d0")) {
            for (int i = 0; i < 32; i++) {
                long v = cpu.u64("d" + i);
                s.append(String.format("s%02d=%08x s%02d=%08x d%02d=%016x\n", i * 2, (int) v, i * 2 + 1,
                        (int) (v >>> 32), i, v));
            }
            s.append(String.format("FPSCR: %08x\n", cpu.u32("fpscr")));
        }
        return s.toString();
    }

    private static long word(BigInteger v, int n) {
        return v.shiftRight(64 * n).longValue();
    }
}
