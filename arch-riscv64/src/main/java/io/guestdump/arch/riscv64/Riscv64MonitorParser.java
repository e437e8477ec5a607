package io.guestdump.arch.riscv64;

import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.VcpuState;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses QEMU's HMP {@code info registers -a} text for riscv64 ({@code riscv_cpu_dump_state}, QEMU 7.2):
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
 * must carry the ABI name of register n. Blank lines are skipped; any other line is an error naming the file and
 * line. Each vCPU needs pc and x0..x31 (x0 must read 0), so that a truncated paste cannot pass for zero registers.
 */
final class Riscv64MonitorParser {
    private static final Pattern CPU_HEADER = Pattern.compile("CPU#(\\d+)");
    private static final Pattern VIRT = Pattern.compile("V\\s*=\\s*([01])");
    private static final Pattern GPR = Pattern.compile("x(\\d{1,2})/([a-z0-9]+)");
    private static final Pattern FPR = Pattern.compile("f(\\d{1,2})/([a-z0-9]+)");
    private static final Pattern CSR = Pattern.compile("[a-z][a-z0-9]*");
    private static final Pattern HEX16 = Pattern.compile("[0-9a-fA-F]{16}");

    private static final String FIX = "Paste the output of the QEMU monitor command `info registers -a` unchanged.";

    private final String source;
    private final List<VcpuState> cpus = new ArrayList<>();
    private Map<String, BigInteger> current;
    private int currentIndex = -1;
    private int currentLine;

    private Riscv64MonitorParser(String source) {
        this.source = source;
    }

    /** Parses the whole text into one state per {@code CPU#n} section, in text order. */
    static List<VcpuState> parse(String text, String sourceName) {
        Riscv64MonitorParser p = new Riscv64MonitorParser(sourceName);
        String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            p.line(i + 1, lines[i]);
        }
        p.finishCpu();
        if (p.cpus.isEmpty()) {
            throw new InvalidInputException(sourceName + ": no `CPU#<n>` section found, so no vCPU is described. "
                    + FIX);
        }
        return List.copyOf(p.cpus);
    }

    private void line(int number, String raw) {
        String line = raw.strip();
        if (line.isEmpty()) {
            return;
        }
        Matcher header = CPU_HEADER.matcher(line);
        if (header.matches()) {
            int index;
            try {
                index = Integer.parseInt(header.group(1));
            } catch (NumberFormatException e) {
                throw error(number, raw, "vCPU index " + header.group(1) + " is out of range");
            }
            if (index <= currentIndex) {
                throw error(number, raw, "CPU#" + index + " follows CPU#" + currentIndex
                        + "; vCPU sections must appear once each, in ascending order");
            }
            finishCpu();
            current = new LinkedHashMap<>();
            currentIndex = index;
            currentLine = number;
            return;
        }
        if (current == null) {
            throw error(number, raw, "register line before the first `CPU#<n>` header");
        }
        Matcher virt = VIRT.matcher(line);
        if (virt.matches()) {
            put(number, raw, "v", BigInteger.valueOf(Integer.parseInt(virt.group(1))));
            return;
        }
        String[] tokens = line.split("\\s+");
        if (tokens.length % 2 != 0) {
            throw error(number, raw, "expected NAME VALUE pairs (`pc ffffffff80a73f30`, `x1/ra 0000000080200000`), "
                    + "but the line has " + tokens.length + " words");
        }
        for (int t = 0; t < tokens.length; t += 2) {
            register(number, raw, tokens[t], tokens[t + 1]);
        }
    }

    private void register(int number, String raw, String label, String hex) {
        if (!HEX16.matcher(hex).matches()) {
            throw error(number, raw, label + " has value `" + hex + "`; QEMU prints 16 hex digits");
        }
        BigInteger value = new BigInteger(hex, 16);
        Matcher gpr = GPR.matcher(label);
        Matcher fpr = FPR.matcher(label);
        if (gpr.matches()) {
            int n = regNumber(number, raw, label, gpr.group(1));
            String abi = gpr.group(2);
            if (!abi.equals(Riscv64Registers.ABI_NAMES.get(n)) && !(n == 8 && abi.equals("fp"))) {
                throw error(number, raw, label + ": x" + n + " is " + Riscv64Registers.ABI_NAMES.get(n)
                        + " in the RISC-V ABI, not " + abi);
            }
            if (n == 0 && value.signum() != 0) {
                throw error(number, raw, "x0 is hard-wired to zero but reads " + hex);
            }
            put(number, raw, Riscv64Registers.gpr(n), value);
        } else if (fpr.matches()) {
            int n = regNumber(number, raw, label, fpr.group(1));
            String abi = fpr.group(2);
            if (!abi.equals(Riscv64Registers.FP_ABI_NAMES.get(n))) {
                throw error(number, raw, label + ": f" + n + " is " + Riscv64Registers.FP_ABI_NAMES.get(n)
                        + " in the RISC-V ABI, not " + abi);
            }
            put(number, raw, Riscv64Registers.fpr(n), value);
        } else if (CSR.matcher(label).matches()) {
            put(number, raw, label, value); // pc or a CSR
        } else {
            throw error(number, raw, "cannot read register name `" + label + "`; expected pc, a CSR name such as"
                    + " satp, x<n>/<abi name> or f<n>/<abi name>");
        }
    }

    private int regNumber(int number, String raw, String label, String digits) {
        int n = Integer.parseInt(digits);
        if (n >= Riscv64Registers.GPRS) {
            throw error(number, raw, label + " does not exist on riscv64 (registers 0-31)");
        }
        return n;
    }

    private void put(int number, String raw, String name, BigInteger value) {
        if (current.putIfAbsent(name, value) != null) {
            throw error(number, raw, name + " is given twice for CPU#" + currentIndex);
        }
    }

    private void finishCpu() {
        if (current == null) {
            return;
        }
        List<String> missing = new ArrayList<>();
        if (!current.containsKey("pc")) {
            missing.add("pc");
        }
        for (int i = 0; i < Riscv64Registers.GPRS; i++) {
            if (!current.containsKey(Riscv64Registers.gpr(i))) {
                missing.add("x" + i + "/" + Riscv64Registers.ABI_NAMES.get(i));
            }
        }
        if (!missing.isEmpty()) {
            throw new InvalidInputException(source + " line " + currentLine + ": CPU#" + currentIndex + " lacks "
                    + String.join(", ", missing) + "; the text looks truncated. " + FIX);
        }
        current.remove(Riscv64Registers.gpr(0)); // always zero; not part of any note
        cpus.add(new VcpuState(currentIndex, current));
        current = null;
    }

    private InvalidInputException error(int number, String raw, String what) {
        return new InvalidInputException(source + " line " + number + ": " + what + ": `" + raw.strip() + "`. "
                + FIX);
    }
}
