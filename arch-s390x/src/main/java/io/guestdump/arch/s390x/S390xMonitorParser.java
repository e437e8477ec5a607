package io.guestdump.arch.s390x;

import io.guestdump.arch.api.MonitorRegisters;
import io.guestdump.arch.api.VcpuState;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The s390x line grammar of QEMU's HMP {@code info registers -a} text ({@code s390_cpu_dump_state}); the
 * skeleton ({@link MonitorRegisters}) does headers, order, duplicates and errors:
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
 * code into the printed mask. Each vCPU must be complete (PSW, R00-R15, C00-C15, and V00-V31 or F00-F15).
 */
final class S390xMonitorParser implements MonitorRegisters.Grammar {
    private static final Pattern PSW = Pattern.compile(
            "PSW=mask ([0-9a-fA-F]{16}) addr ([0-9a-fA-F]{16})(?: cc +\\S+)?");
    private static final Pattern REGISTER = Pattern.compile("([RFVC])(\\d{2})=([0-9a-fA-F]+)");
    private static final S390xMonitorParser GRAMMAR = new S390xMonitorParser();

    private S390xMonitorParser() {}

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
        if (text.startsWith("PSW=")) {
            Matcher psw = PSW.matcher(text);
            if (!psw.matches()) {
                throw line.error("expected `PSW=mask <16 hex digits> addr <16 hex digits>`, optionally "
                        + "followed by `cc <value>`");
            }
            cpu.put(S390xRegisters.PSW_MASK, new BigInteger(psw.group(1), 16));
            cpu.put(S390xRegisters.PSW_ADDR, new BigInteger(psw.group(2), 16));
            return;
        }
        for (String token : line.tokens()) {
            Matcher m = REGISTER.matcher(token);
            if (!m.matches()) {
                throw line.error("cannot read `" + token + "`; expected NAME=HEX tokens (R00-R15, "
                        + "F00-F15, V00-V31, C00-C15) or a `PSW=mask … addr …` line");
            }
            register(line, cpu, m.group(1), Integer.parseInt(m.group(2)), m.group(3));
        }
    }

    private static void register(MonitorRegisters.Line line, MonitorRegisters.Cpu cpu, String kind, int n,
            String hex) {
        int limit = kind.equals("V") ? S390xRegisters.VECTOR_COUNT : S390xRegisters.COUNT_16;
        if (n >= limit) {
            throw line.error(kind + String.format(Locale.ROOT, "%02d", n) + " does not exist on s390x ("
                    + kind + "00-" + kind + (limit - 1) + ")");
        }
        int digits = kind.equals("V") ? 32 : 16;
        if (hex.length() != digits) {
            throw line.error(kind + String.format(Locale.ROOT, "%02d", n) + " has " + hex.length()
                    + " hex digits; QEMU prints " + digits);
        }
        String name = switch (kind) {
            case "R" -> S390xRegisters.gpr(n);
            case "F" -> S390xRegisters.fpr(n);
            case "V" -> S390xRegisters.vr(n);
            default -> S390xRegisters.cr(n);
        };
        cpu.put(name, new BigInteger(hex, 16));
    }

    /** PSW, R00-R15, C00-C15, and V00-V31 when any V register is given, else F00-F15. */
    @Override
    public List<MonitorRegisters.Required> required(MonitorRegisters.Cpu cpu) {
        List<String> names = new ArrayList<>(List.of(S390xRegisters.PSW_MASK));
        for (int i = 0; i < S390xRegisters.COUNT_16; i++) {
            names.add(S390xRegisters.gpr(i));
        }
        for (int i = 0; i < S390xRegisters.COUNT_16; i++) {
            names.add(S390xRegisters.cr(i));
        }
        boolean vectors = cpu.registers().keySet().stream().anyMatch(k -> k.startsWith("v"));
        for (int i = 0; i < (vectors ? S390xRegisters.VECTOR_COUNT : S390xRegisters.COUNT_16); i++) {
            names.add(vectors ? S390xRegisters.vr(i) : S390xRegisters.fpr(i));
        }
        return names.stream().map(n -> new MonitorRegisters.Required(n, label(n))).toList();
    }

    @Override
    public void finish(MonitorRegisters.Cpu cpu) {
        boolean vectors = cpu.registers().keySet().stream().anyMatch(k -> k.startsWith("v"));
        if (vectors && cpu.registers().keySet().stream().anyMatch(k -> k.matches("f\\d+"))) {
            throw cpu.error("has both V and F registers; QEMU prints one set (F00-F15 are part of V00-V15)");
        }
    }

    /** The monitor's spelling of a register name: {@code r5} is {@code R05}. */
    private static String label(String name) {
        if (name.equals(S390xRegisters.PSW_MASK)) {
            return "PSW";
        }
        return name.substring(0, 1).toUpperCase(Locale.ROOT)
                + String.format(Locale.ROOT, "%02d", Integer.parseInt(name.substring(1)));
    }
}
