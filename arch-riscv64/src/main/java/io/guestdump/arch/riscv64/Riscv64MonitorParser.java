package io.guestdump.arch.riscv64;

import io.guestdump.arch.api.MonitorRegisters;
import io.guestdump.arch.api.VcpuState;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The riscv64 line grammar of QEMU's HMP {@code info registers -a} text ({@code riscv_cpu_dump_state}, QEMU 7.2);
 * the skeleton ({@link MonitorRegisters}) does headers, order, duplicates, required registers and errors:
 *
 * <pre>
 *   CPU#0
 *    V      =   0                                    (with the H extension: virtualisation mode)
 *    pc       ffffffff80a73f30
 *    mhartid  0000000000000000                       (one CSR per line: mstatus, …, satp)
 *    x0/zero  0000000000000000 x1/ra    ffffffff80a75bc4 x2/sp    … x3/gp    …   (four per line)
 *    f0/ft0   0000000000000000 …                     (four per line)
 * </pre>
 *
 * Values are 16 hex digits. A CSR is any lower-case name QEMU prints (newer QEMUs print more); {@code x<n>/<abi>}
 * and {@code f<n>/<abi>} must carry the ABI name of register n. Each vCPU needs pc and x1..x31; x0 must read 0 and
 * is not kept.
 */
final class Riscv64MonitorParser implements MonitorRegisters.Grammar {
    private static final Pattern VIRT = Pattern.compile("V\\s*=\\s*([01])");
    private static final Pattern GPR = Pattern.compile("x(\\d{1,2})/([a-z0-9]+)");
    private static final Pattern FPR = Pattern.compile("f(\\d{1,2})/([a-z0-9]+)");
    private static final Pattern CSR = Pattern.compile("[a-z][a-z0-9]*");
    private static final Pattern HEX16 = Pattern.compile("[0-9a-fA-F]{16}");
    private static final Riscv64MonitorParser GRAMMAR = new Riscv64MonitorParser();
    private static final List<MonitorRegisters.Required> REQUIRED = required();

    private Riscv64MonitorParser() {}

    /** Parses the whole text into one state per {@code CPU#n} section, in text order. */
    static List<VcpuState> parse(String text, String sourceName) {
        return MonitorRegisters.parse(text, sourceName, GRAMMAR);
    }

    @Override
    public String fix() {
        return "Paste the output of the QEMU monitor command `info registers -a` unchanged.";
    }

    @Override
    public void line(MonitorRegisters.Line line, MonitorRegisters.Cpu cpu) {
        String text = line.raw().strip();
        Matcher virt = VIRT.matcher(text);
        if (virt.matches()) {
            cpu.put("v", BigInteger.valueOf(Integer.parseInt(virt.group(1))));
            return;
        }
        String[] tokens = line.tokens();
        if (tokens.length % 2 != 0) {
            throw line.error("expected NAME VALUE pairs (`pc ffffffff80a73f30`, `x1/ra 0000000080200000`), but the "
                    + "line has " + tokens.length + " words");
        }
        for (int t = 0; t < tokens.length; t += 2) {
            register(line, cpu, tokens[t], tokens[t + 1]);
        }
    }

    private static void register(MonitorRegisters.Line line, MonitorRegisters.Cpu cpu, String label, String hex) {
        if (!HEX16.matcher(hex).matches()) {
            throw line.error(label + " has value `" + hex + "`; QEMU prints 16 hex digits");
        }
        BigInteger value = new BigInteger(hex, 16);
        Matcher gpr = GPR.matcher(label);
        Matcher fpr = FPR.matcher(label);
        if (gpr.matches()) {
            int n = number(line, label, gpr.group(1));
            String abi = gpr.group(2);
            if (!abi.equals(Riscv64Registers.ABI_NAMES.get(n)) && !(n == 8 && abi.equals("fp"))) {
                throw line.error(label + ": x" + n + " is " + Riscv64Registers.ABI_NAMES.get(n)
                        + " in the RISC-V ABI, not " + abi);
            }
            if (n == 0) {
                if (value.signum() != 0) {
                    throw line.error("x0 is hard-wired to zero but reads " + hex);
                }
                return; // always zero; part of no note
            }
            cpu.put(Riscv64Registers.gpr(n), value);
        } else if (fpr.matches()) {
            int n = number(line, label, fpr.group(1));
            String abi = fpr.group(2);
            if (!abi.equals(Riscv64Registers.FP_ABI_NAMES.get(n))) {
                throw line.error(label + ": f" + n + " is " + Riscv64Registers.FP_ABI_NAMES.get(n)
                        + " in the RISC-V ABI, not " + abi);
            }
            cpu.put(Riscv64Registers.fpr(n), value);
        } else if (CSR.matcher(label).matches()) {
            cpu.put(label, value); // pc or a CSR
        } else {
            throw line.error("cannot read register name `" + label + "`; expected pc, a CSR name such as satp,"
                    + " x<n>/<abi name> or f<n>/<abi name>");
        }
    }

    private static int number(MonitorRegisters.Line line, String label, String digits) {
        int n = Integer.parseInt(digits);
        if (n >= Riscv64Registers.GPRS) {
            throw line.error(label + " does not exist on riscv64 (registers 0-31)");
        }
        return n;
    }

    /** pc and x1..x31: what the prstatus note holds. */
    @Override
    public List<MonitorRegisters.Required> required(MonitorRegisters.Cpu cpu) {
        return REQUIRED;
    }

    private static List<MonitorRegisters.Required> required() {
        List<MonitorRegisters.Required> r = new ArrayList<>(List.of(new MonitorRegisters.Required("pc", "pc")));
        for (int i = 1; i < Riscv64Registers.GPRS; i++) {
            r.add(new MonitorRegisters.Required(Riscv64Registers.gpr(i),
                    "x" + i + "/" + Riscv64Registers.ABI_NAMES.get(i)));
        }
        return List.copyOf(r);
    }
}
