package io.guestdump.arch.s390x;

import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.VcpuState;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses QEMU's HMP {@code info registers -a} text for s390x ({@code s390_cpu_dump_state}):
 *
 * <pre>
 *   CPU#0
 *   PSW=mask 0704e00180000000 addr 0000000000199062 cc  CC_OP_LTGT0_64
 *   R00=0000000000000000 R01=… R02=… R03=…                  (four per line, 16 hex digits)
 *   V00=<32 hex digits> V01=…                                (with the vector facility; else F00-F15, four per line)
 *   C00=0000000014166a10 …                                   (control registers, four per line)
 * </pre>
 *
 * The {@code cc} suffix is only printed under TCG and is informational: QEMU already folds the computed condition
 * code into the printed mask. Blank lines are skipped; any other line is an error. Each vCPU must be complete
 * (PSW, R00-R15, C00-C15, and V00-V31 or F00-F15) so that a truncated paste cannot pass for zero registers.
 */
final class S390xMonitorParser {
    private static final Pattern CPU_HEADER = Pattern.compile("CPU#(\\d+)");
    private static final Pattern PSW = Pattern.compile(
            "PSW=mask ([0-9a-fA-F]{16}) addr ([0-9a-fA-F]{16})(?: cc +\\S+)?");
    private static final Pattern REGISTER = Pattern.compile("([RFVC])(\\d{2})=([0-9a-fA-F]+)");

    private static final String FIX = "Paste the output of the QEMU monitor command `info registers -a` unchanged.";

    private final String source;
    private final List<VcpuState> cpus = new ArrayList<>();
    private Map<String, BigInteger> current;
    private int currentIndex = -1;
    private int currentLine;

    private S390xMonitorParser(String source) {
        this.source = source;
    }

    /** Parses the whole text into one state per {@code CPU#n} section, in text order. */
    static List<VcpuState> parse(String text, String sourceName) {
        S390xMonitorParser p = new S390xMonitorParser(sourceName);
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
            int index = index(header.group(1), number, raw);
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
        if (line.startsWith("PSW=")) {
            Matcher psw = PSW.matcher(line);
            if (!psw.matches()) {
                throw error(number, raw, "expected `PSW=mask <16 hex digits> addr <16 hex digits>`, optionally "
                        + "followed by `cc <value>`");
            }
            put(number, raw, S390xRegisters.PSW_MASK, psw.group(1));
            put(number, raw, S390xRegisters.PSW_ADDR, psw.group(2));
            return;
        }
        for (String token : line.split("\\s+")) {
            Matcher m = REGISTER.matcher(token);
            if (!m.matches()) {
                throw error(number, raw, "cannot read `" + token + "`; expected NAME=HEX tokens (R00-R15, "
                        + "F00-F15, V00-V31, C00-C15) or a `PSW=mask … addr …` line");
            }
            register(number, raw, m.group(1), Integer.parseInt(m.group(2)), m.group(3));
        }
    }

    private void register(int number, String raw, String kind, int n, String hex) {
        int limit = kind.equals("V") ? S390xRegisters.VECTOR_COUNT : S390xRegisters.COUNT_16;
        if (n >= limit) {
            throw error(number, raw, kind + String.format(Locale.ROOT, "%02d", n) + " does not exist on s390x ("
                    + kind + "00-" + kind + (limit - 1) + ")");
        }
        int digits = kind.equals("V") ? 32 : 16;
        if (hex.length() != digits) {
            throw error(number, raw, kind + String.format(Locale.ROOT, "%02d", n) + " has " + hex.length()
                    + " hex digits; QEMU prints " + digits);
        }
        String name = switch (kind) {
            case "R" -> S390xRegisters.gpr(n);
            case "F" -> S390xRegisters.fpr(n);
            case "V" -> S390xRegisters.vr(n);
            default -> S390xRegisters.cr(n);
        };
        put(number, raw, name, hex);
    }

    private void put(int number, String raw, String name, String hex) {
        if (current.putIfAbsent(name, new BigInteger(hex, 16)) != null) {
            throw error(number, raw, name + " is given twice for CPU#" + currentIndex);
        }
    }

    private void finishCpu() {
        if (current == null) {
            return;
        }
        List<String> missing = new ArrayList<>();
        List<String> required = new ArrayList<>(List.of(S390xRegisters.PSW_MASK));
        for (int i = 0; i < S390xRegisters.COUNT_16; i++) {
            required.add(S390xRegisters.gpr(i));
        }
        for (int i = 0; i < S390xRegisters.COUNT_16; i++) {
            required.add(S390xRegisters.cr(i));
        }
        boolean vectors = current.keySet().stream().anyMatch(k -> k.startsWith("v"));
        if (vectors) {
            for (int i = 0; i < S390xRegisters.VECTOR_COUNT; i++) {
                required.add(S390xRegisters.vr(i));
            }
        } else {
            for (int i = 0; i < S390xRegisters.COUNT_16; i++) {
                required.add(S390xRegisters.fpr(i));
            }
        }
        for (String name : required) {
            if (!current.containsKey(name)) {
                missing.add(label(name));
            }
        }
        if (vectors && current.keySet().stream().anyMatch(k -> k.matches("f\\d+"))) {
            throw new InvalidInputException(source + " line " + currentLine + ": CPU#" + currentIndex
                    + " has both V and F registers; QEMU prints one set (F00-F15 are part of V00-V15). " + FIX);
        }
        if (!missing.isEmpty()) {
            throw new InvalidInputException(source + " line " + currentLine + ": CPU#" + currentIndex + " lacks "
                    + String.join(", ", missing) + "; the text looks truncated. " + FIX);
        }
        cpus.add(new VcpuState(currentIndex, current));
        current = null;
    }

    /** The monitor's spelling of a register name: {@code r5} is {@code R05}. */
    private static String label(String name) {
        if (name.equals(S390xRegisters.PSW_MASK)) {
            return "PSW";
        }
        return name.substring(0, 1).toUpperCase(Locale.ROOT)
                + String.format(Locale.ROOT, "%02d", Integer.parseInt(name.substring(1)));
    }

    private int index(String digits, int number, String raw) {
        try {
            return Integer.parseInt(digits);
        } catch (NumberFormatException e) {
            throw error(number, raw, "vCPU index " + digits + " is out of range");
        }
    }

    private InvalidInputException error(int number, String raw, String what) {
        return new InvalidInputException(source + " line " + number + ": " + what + ": `" + raw.strip() + "`. "
                + FIX);
    }
}
