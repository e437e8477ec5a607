package io.guestdump.arch.ppc64;

import io.guestdump.arch.api.MonitorRegisters;
import io.guestdump.arch.api.VcpuState;
import java.math.BigInteger;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The line grammar of QEMU's HMP {@code info registers -a} text of a {@code qemu-system-ppc64} guest (the format
 * of {@code ppc_cpu_dump_state}), strictly: every line must be understood. The skeleton
 * ({@link MonitorRegisters}) does headers, order, duplicates, the required NIP line and the error format.
 *
 * <p>Lines understood, per vCPU after its {@code CPU#n} header:
 *
 * <pre>
 *   NIP x   LR x CTR x XER x [PIR x] CPU#n
 *   MSR x HID0 x  HF x iidx d didx d         HF, iidx, didx are QEMU-internal and dropped
 *   TB d d [DECR d]                          decimal: TBU, TB, DECR; tb keeps the full 64-bit TB
 *   GPRnn x x x x                            nn = 00, 04, ..., 28
 *   CR hhhhhhhh  [ f f f f f f f f ]  RES x  the eight fields; flags checked against them; RES dropped
 *   FPRnn x x x x / FPSCR x
 *   NAME x [NAME x ...]                      SPRs of Ppc64Registers.MONITOR_SPRS, e.g. SRR0, LPCR, DAR
 * </pre>
 *
 * Hex values have no {@code 0x} prefix. The text has no vector or VSX state: those registers read as 0.
 */
public final class Ppc64MonitorParser implements MonitorRegisters.Grammar {
    private static final Pattern CPU_HEADER = Pattern.compile("CPU#(\\d+)");
    private static final Pattern HEX = Pattern.compile("[0-9a-fA-F]{1,16}");
    private static final Pattern DECIMAL = Pattern.compile("\\d{1,20}");
    private static final Pattern ROW = Pattern.compile("(GPR|FPR)(\\d\\d)");
    private static final String FIX = "pass the unchanged output of the HMP command 'info registers -a' of a "
            + "qemu-system-ppc64 guest (QMP: human-monitor-command), or describe the vCPUs in a snapshot instead";

    private static final Ppc64MonitorParser GRAMMAR = new Ppc64MonitorParser();

    private Ppc64MonitorParser() {}

    /** Parses the whole text into one state per vCPU, in text order. */
    public static List<VcpuState> parse(String text, String sourceName) {
        return MonitorRegisters.parse(text, sourceName, GRAMMAR);
    }

    @Override
    public String fix() {
        return FIX;
    }

    /** The NIP line is the one every vCPU has; without it the text is truncated. */
    @Override
    public List<MonitorRegisters.Required> required(MonitorRegisters.Cpu cpu) {
        return List.of(new MonitorRegisters.Required("nip", "the 'NIP ...' line"));
    }

    @Override
    public void line(MonitorRegisters.Line line, MonitorRegisters.Cpu cpu) {
        new Reader(line, cpu).parseLine(line.tokens());
    }

    /** One line being read. */
    private record Reader(MonitorRegisters.Line line, MonitorRegisters.Cpu current) {
        private void parseLine(String[] t) {
            Matcher row = ROW.matcher(t[0]);
            switch (t[0]) {
                case "NIP" -> nipLine(t);
                case "MSR" -> msrLine(t);
                case "TB" -> tbLine(t);
                case "CR" -> crLine(t);
                case "FPSCR" -> pairs(t, 0, List.of("FPSCR"));
                default -> {
                    if (row.matches()) {
                        rowLine(t, row.group(1), Integer.parseInt(row.group(2)));
                    } else {
                        pairs(t, 0, null);
                    }
                }
            }
        }

        /** {@code NIP x   LR x CTR x XER x [PIR x] CPU#n}. */
        private void nipLine(String[] t) {
            Matcher cpu = CPU_HEADER.matcher(t[t.length - 1]);
            if (!cpu.matches()) {
                throw error("the NIP line must end with 'CPU#n'");
            }
            if (Integer.parseInt(cpu.group(1)) != current.index()) {
                throw error("the NIP line names " + t[t.length - 1] + " inside the block of CPU#" + current.index());
            }
            List<String> expected = t.length == 9 ? List.of("NIP", "LR", "CTR", "XER") : List.of("NIP", "LR", "CTR",
                    "XER", "PIR");
            if (t.length != 2 * expected.size() + 1) {
                throw error("expected 'NIP x LR x CTR x XER x [PIR x] CPU#n'");
            }
            pairs(Arrays.copyOf(t, t.length - 1), 0, expected);
        }

        /** {@code MSR x HID0 x  HF x iidx d didx d}. */
        private void msrLine(String[] t) {
            if (t.length != 10 || !t[4].equals("HF") || !t[6].equals("iidx") || !t[8].equals("didx")) {
                throw error("expected 'MSR x HID0 x HF x iidx d didx d'");
            }
            pairs(Arrays.copyOf(t, 4), 0, List.of("MSR", "HID0"));
            hex(t[5], "HF");
            decimal(t[7], "iidx");
            decimal(t[9], "didx");
        }

        /** {@code TB d d [DECR d]}, all decimal. */
        private void tbLine(String[] t) {
            boolean withDecr = t.length == 5 && t[3].equals("DECR");
            if (t.length != 3 && !withDecr) {
                throw error("expected 'TB tbu tb [DECR decr]' with decimal values");
            }
            decimal(t[1], "TBU");
            put("tb", decimal(t[2], "TB"));
            if (withDecr) {
                put("decr", decimal(t[4], "DECR"));
            }
        }

        /** {@code GPRnn x x x x} or {@code FPRnn x x x x}. */
        private void rowLine(String[] t, String kind, int first) {
            if (t.length != 5 || first % 4 != 0 || first > 28) {
                throw error("expected '" + kind + "nn' with nn a multiple of 4 below 32, then four hex values");
            }
            List<String> names = kind.equals("GPR") ? Ppc64Registers.GPRS : Ppc64Registers.FPRS;
            for (int i = 0; i < 4; i++) {
                put(names.get(first + i), hex(t[1 + i], kind + (first + i)));
            }
        }

        /** {@code CR hhhhhhhh  [ f f f f f f f f ]  RES x}. */
        private void crLine(String[] t) {
            if (t.length != 14 || !t[2].equals("[") || !t[11].equals("]") || !t[12].equals("RES")
                    || !t[1].matches("[0-9a-fA-F]{8}")) {
                throw error("expected 'CR' with eight hex digits, eight flags in [ ] and 'RES x'");
            }
            int[] fields = new int[8];
            for (int i = 0; i < 8; i++) {
                fields[i] = Character.digit(t[1].charAt(i), 16);
                String flags = crFlags(fields[i]);
                if (!t[3 + i].equals(flags)) {
                    throw error("CR field " + i + " is " + Integer.toHexString(fields[i]) + ", which QEMU shows as '"
                            + flags + "', not '" + t[3 + i] + "'");
                }
            }
            put(Ppc64Registers.CR, Ppc64Registers.packCr(fields));
            hex(t[13], "RES");
        }

        /** How QEMU shows one CR field: L, G, E or -, then O when the SO bit is set. */
        private String crFlags(int field) {
            String relation = (field & 8) != 0 ? "L" : (field & 4) != 0 ? "G" : (field & 2) != 0 ? "E" : "-";
            return (field & 1) != 0 ? relation + "O" : relation;
        }

        /** {@code NAME x NAME x ...}, with the expected names or any known SPR. */
        private void pairs(String[] t, int from, List<String> expected) {
            int count = t.length - from;
            if (count % 2 != 0 || (expected != null && count != 2 * expected.size())) {
                throw error(expected == null ? "expected 'NAME value' pairs" : "expected " + expected + " with a value each");
            }
            for (int i = from; i < t.length; i += 2) {
                String name = t[i];
                if (expected != null && !name.equals(expected.get((i - from) / 2))) {
                    throw error("expected '" + expected.get((i - from) / 2) + "', found '" + name + "'");
                }
                String register = name.toLowerCase(Locale.ROOT);
                if (expected == null && !Ppc64Registers.MONITOR_SPRS.contains(register)) {
                    throw error("unknown register '" + name + "' (known SPRs: " + Ppc64Registers.MONITOR_SPRS + ")");
                }
                put(register, hex(t[i + 1], name));
            }
        }

        private void put(String register, long value) {
            put(register, new BigInteger(Long.toUnsignedString(value)));
        }

        private void put(String register, BigInteger value) {
            current.put(register, value);
        }

        private long hex(String token, String what) {
            if (!HEX.matcher(token).matches()) {
                throw error(what + " value '" + token + "' is not 1 to 16 hex digits");
            }
            return Long.parseUnsignedLong(token, 16);
        }

        private BigInteger decimal(String token, String what) {
            if (!DECIMAL.matcher(token).matches()) {
                throw error(what + " value '" + token + "' is not a decimal number");
            }
            BigInteger value = new BigInteger(token);
            if (value.bitLength() > 64) {
                throw error(what + " value " + token + " does not fit 64 bits");
            }
            return value;
        }

        private io.guestdump.arch.api.InvalidInputException error(String what) {
            return line.error(what);
        }
    }
}
