package io.guestdump.arch.x86_64;

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
 * Parses QEMU's HMP {@code info registers -a} text for x86 (QEMU {@code x86_cpu_dump_state} with
 * {@code CPU_DUMP_FPU}) into vCPU states with canonical register names ({@link X86Registers}).
 *
 * <p>QEMU prints one of two formats per vCPU, chosen by whether the vCPU runs 64-bit code: {@code RAX=…} with
 * 16-digit values and {@code R8}…{@code R15}, or {@code EAX=…} with 8-digit values. qemu-system-x86_64 prints the
 * second for a vCPU outside long mode, so both map to the same names ({@code EAX} → {@code rax}, {@code EIP} →
 * {@code rip}, {@code EFL}/{@code RFL} → {@code rflags}); qemu-system-i386 only ever prints the second.
 *
 * <p>Segment lines ({@code CS =0010 0000000000000000 ffffffff 00af9b00 DPL=0 CS64 [-RA]}) give selector, base,
 * limit and {@code flags & 0x00ffff00}. QEMU keeps the whole descriptor high dword as flags, whose bits 31–24 and
 * 7–0 are base bits 31–24 and 23–16 for a segment loaded from a descriptor; the parser puts them back (see
 * {@link #descriptorFlags}) so that the QEMU note carries the value QEMU itself would write.
 *
 * <p>Strict: any line it does not recognise is an {@link InvalidInputException} naming the source, the line
 * number and the text.
 */
public final class X86MonitorParser {
    private static final Pattern CPU_HEADER = Pattern.compile("CPU#(\\d+)");
    private static final Pattern SEGMENT = Pattern.compile(
            "(ES |CS |SS |DS |FS |GS |LDT|TR )=([0-9a-f]{4}) ([0-9a-f]{8}|[0-9a-f]{16}) ([0-9a-f]{8}) ([0-9a-f]{8})"
                    + "(?: DPL=[0-3] \\S.*)?");
    private static final Pattern TABLE = Pattern.compile("(GDT|IDT)= +([0-9a-f]{8}|[0-9a-f]{16}) ([0-9a-f]{8})");
    private static final Pattern IP_LINE = Pattern.compile(
            "(?:RIP=([0-9a-f]{16}) RFL|EIP=([0-9a-f]{8}) EFL)=([0-9a-f]{8}) \\[[-DOSZAPC]{7}\\]"
                    + " CPL=[0-3] II=[01] A20=[01] SMM=[01] HLT=[01]");
    private static final Pattern FPU_LINE = Pattern.compile(
            "FCW=([0-9a-f]{4}) FSW=([0-9a-f]{4}) \\[ST=[0-7]\\] FTW=([0-9a-f]{2}) MXCSR=([0-9a-f]{8})");
    /** One {@code NAME=value} item of a register line; the value may be several space-separated hex groups. */
    private static final Pattern ITEM = Pattern.compile("\\G ?([A-Z][A-Za-z0-9]*) ?=([0-9a-f]+(?: [0-9a-f]+)*)");
    private static final Pattern FPR = Pattern.compile("FPR([0-7])");
    private static final Pattern VECTOR = Pattern.compile("(XMM|YMM|ZMM)(\\d\\d)");
    private static final Pattern OPMASK = Pattern.compile("Opmask0([0-7])");

    private static final Map<String, String> SIMPLE = simpleNames();

    private static final String FORMAT_HINT = "expected QEMU 'info registers -a' output of an x86 guest, lines such"
            + " as 'CPU#0', 'RAX=… RBX=…', 'CS =0010 0000000000000000 ffffffff 00af9b00 DPL=0 CS64 [-RA]',"
            + " 'GDT=     fffffe0000001000 0000007f'; paste the monitor output unchanged";

    private final String sourceName;
    private final boolean x86_64Build;
    private final List<VcpuState> cpus = new ArrayList<>();
    private Cpu current;
    private boolean sawHeader;

    private X86MonitorParser(String sourceName, boolean x86_64Build) {
        this.sourceName = sourceName;
        this.x86_64Build = x86_64Build;
    }

    /**
     * Parses the text.
     *
     * @param text        the monitor output
     * @param sourceName  where it came from, for messages
     * @param x86_64Build true for qemu-system-x86_64 output (both formats), false for qemu-system-i386 (32-bit
     *                    format only)
     */
    public static List<VcpuState> parse(String text, String sourceName, boolean x86_64Build) {
        X86MonitorParser p = new X86MonitorParser(sourceName, x86_64Build);
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            p.line(i + 1, lines[i].stripTrailing());
        }
        p.finishCpu();
        if (p.cpus.isEmpty()) {
            throw new InvalidInputException(sourceName + ": no vCPU registers found; " + FORMAT_HINT);
        }
        return List.copyOf(p.cpus);
    }

    /**
     * QEMU's full segment flags from the printed {@code flags & 0x00ffff00} and the base: a descriptor's high
     * dword carries base bits 31–24 in its bits 31–24 and base bits 23–16 in its bits 7–0.
     */
    public static long descriptorFlags(long printedFlags, long base) {
        return printedFlags | (base & 0xff00_0000L) | ((base >>> 16) & 0xffL);
    }

    private void line(int number, String line) {
        if (line.isEmpty()) {
            return;
        }
        Matcher m = CPU_HEADER.matcher(line);
        if (m.matches()) {
            finishCpu();
            if (current == null && !sawHeader && !cpus.isEmpty()) {
                throw error(number, line, "a CPU# header follows register lines that had none; give either one"
                        + " vCPU without headers ('info registers') or every vCPU with its header ('info registers -a')");
            }
            int index = parseIndex(number, line, m.group(1));
            if (!cpus.isEmpty() && index <= cpus.get(cpus.size() - 1).index()) {
                throw error(number, line, "vCPU numbers must increase; CPU#" + cpus.get(cpus.size() - 1).index()
                        + " came before. Keep the monitor's order and give each vCPU once");
            }
            sawHeader = true;
            current = new Cpu(index, number);
            return;
        }
        if (current == null) {
            if (sawHeader || !cpus.isEmpty()) {
                throw error(number, line, FORMAT_HINT);
            }
            current = new Cpu(0, number);
        }
        if (segment(number, line) || table(number, line) || ipLine(number, line) || fpuLine(number, line)) {
            return;
        }
        items(number, line);
    }

    private boolean segment(int number, String line) {
        Matcher m = SEGMENT.matcher(line);
        if (!m.matches()) {
            return false;
        }
        String seg = m.group(1).strip().toLowerCase(Locale.ROOT);
        checkWidth(number, line, m.group(3));
        put(number, line, seg + ".selector", hex(m.group(2)));
        put(number, line, seg + ".base", hex(m.group(3)));
        put(number, line, seg + ".limit", hex(m.group(4)));
        put(number, line, seg + ".flags", hex(m.group(5)));
        return true;
    }

    private boolean table(int number, String line) {
        Matcher m = TABLE.matcher(line);
        if (!m.matches()) {
            return false;
        }
        String t = m.group(1).toLowerCase(Locale.ROOT);
        checkWidth(number, line, m.group(2));
        put(number, line, t + ".base", hex(m.group(2)));
        put(number, line, t + ".limit", hex(m.group(3)));
        return true;
    }

    private boolean ipLine(int number, String line) {
        Matcher m = IP_LINE.matcher(line);
        if (!m.matches()) {
            return false;
        }
        String ip = m.group(1) != null ? m.group(1) : m.group(2);
        if (m.group(1) != null) {
            requireLongFormat(number, line);
        }
        put(number, line, X86Registers.RIP, hex(ip));
        put(number, line, X86Registers.RFLAGS, hex(m.group(3)));
        return true;
    }

    private boolean fpuLine(int number, String line) {
        Matcher m = FPU_LINE.matcher(line);
        if (!m.matches()) {
            return false;
        }
        put(number, line, "fcw", hex(m.group(1)));
        put(number, line, "fsw", hex(m.group(2)));
        put(number, line, "ftw", hex(m.group(3)));
        put(number, line, "mxcsr", hex(m.group(4)));
        return true;
    }

    /** A line of {@code NAME=value} items: general registers, control and debug registers, FPRs, vectors. */
    private void items(int number, String line) {
        Matcher m = ITEM.matcher(line);
        int end = 0;
        boolean any = false;
        while (m.find()) {
            item(number, line, m.group(1), m.group(2).split(" "));
            end = m.end();
            any = true;
        }
        if (!any || end != line.length()) {
            throw error(number, line, FORMAT_HINT);
        }
    }

    private void item(int number, String line, String name, String[] groups) {
        String simple = SIMPLE.get(name);
        if (simple != null) {
            expectGroups(number, line, name, groups, 1, 16);
            if (name.startsWith("R")) {
                requireLongFormat(number, line);
                current.longFormat = true;
            }
            put(number, line, simple, hex(groups[0]));
            return;
        }
        Matcher fpr = FPR.matcher(name);
        if (fpr.matches()) {
            expectGroups(number, line, name, groups, 2, 16);
            if (groups[0].length() != 16 || groups[1].length() != 4) {
                throw error(number, line, name + " needs 16 mantissa digits and 4 sign/exponent digits, as QEMU"
                        + " prints it; the value is '" + String.join(" ", groups) + "'");
            }
            // an 80-bit x87 register printed as mantissa (64 bits) then sign and exponent (16 bits)
            put(number, line, "fpr" + fpr.group(1), hex(groups[1] + groups[0]));
            return;
        }
        Matcher vec = VECTOR.matcher(name);
        if (vec.matches()) {
            String kind = vec.group(1);
            int n = Integer.parseInt(vec.group(2));
            int count = kind.equals("ZMM") ? X86Registers.zmmCount(x86_64Build) : X86Registers.vectorCount(x86_64Build);
            if (n >= count) {
                throw error(number, line, name + " does not exist on this QEMU build (" + count + " " + kind
                        + " registers); check that the text comes from the guest's QEMU binary");
            }
            int quads = switch (kind) {
                case "XMM" -> 2;
                case "YMM" -> 4;
                default -> 8;
            };
            expectGroups(number, line, name, groups, quads, 16);
            for (String g : groups) {
                if (g.length() != 16) {
                    throw error(number, line, name + " needs " + quads + " groups of 16 hex digits, as QEMU prints"
                            + " it; the value is '" + String.join(" ", groups) + "'");
                }
            }
            put(number, line, kind.toLowerCase(Locale.ROOT) + n, hex(String.join("", groups)));
            return;
        }
        Matcher k = OPMASK.matcher(name);
        if (k.matches()) {
            expectGroups(number, line, name, groups, 1, 16);
            put(number, line, "k" + k.group(1), hex(groups[0]));
            return;
        }
        throw error(number, line, "unknown register " + name + "; " + FORMAT_HINT);
    }

    private void expectGroups(int number, String line, String name, String[] groups, int count, int maxDigits) {
        boolean ok = groups.length == count;
        for (int i = 0; ok && i < groups.length; i++) {
            ok = groups[i].length() <= maxDigits;
        }
        if (!ok) {
            throw error(number, line, name + " needs " + count + " hex group(s) of up to " + maxDigits
                    + " digits as QEMU prints them; the value is '" + String.join(" ", groups) + "'");
        }
    }

    private void checkWidth(int number, String line, String base) {
        if (base.length() == 16) {
            requireLongFormat(number, line);
        }
    }

    private void requireLongFormat(int number, String line) {
        if (!x86_64Build) {
            throw error(number, line, "qemu-system-i386 prints 32-bit registers (EAX=…, 8-digit bases); this line"
                    + " comes from qemu-system-x86_64: describe the guest as x86_64");
        }
    }

    private void put(int number, String line, String name, BigInteger value) {
        Integer before = current.lines.putIfAbsent(name, number);
        if (before != null) {
            throw error(number, line, "register " + name + " appears twice for CPU#" + current.index + " (first on line "
                    + before + "); each vCPU needs a 'CPU#n' header line before its registers");
        }
        current.registers.put(name, value);
    }

    private void finishCpu() {
        if (current == null) {
            return;
        }
        Cpu cpu = current;
        current = null;
        List<String> missing = new ArrayList<>();
        for (String r : required(cpu)) {
            if (!cpu.registers.containsKey(r)) {
                missing.add(r);
            }
        }
        if (!missing.isEmpty()) {
            throw new InvalidInputException(sourceName + ":" + cpu.line + ": CPU#" + cpu.index + " lacks " + missing
                    + "; the monitor text looks truncated: give the complete output of 'info registers -a'");
        }
        restoreSegmentFlags(cpu.registers);
        cpus.add(new VcpuState(cpu.index, cpu.registers));
    }

    private static List<String> required(Cpu cpu) {
        List<String> r = new ArrayList<>(X86Registers.LEGACY_GPRS);
        if (cpu.longFormat) {
            r.addAll(X86Registers.LONG_GPRS);
        }
        r.add(X86Registers.RIP);
        r.add(X86Registers.RFLAGS);
        for (String s : X86Registers.SEGMENTS) {
            for (String p : X86Registers.SEGMENT_PARTS) {
                r.add(X86Registers.segment(s, p));
            }
        }
        for (String t : List.of("gdt", "idt")) {
            r.add(t + ".base");
            r.add(t + ".limit");
        }
        r.addAll(X86Registers.CONTROL);
        r.add(X86Registers.EFER);
        return r;
    }

    /**
     * In protected mode (CR0.PE, not virtual-8086) a segment with a non-null selector was loaded from a
     * descriptor, so QEMU's flags word holds the descriptor's base bits; the monitor masked them off.
     */
    private static void restoreSegmentFlags(Map<String, BigInteger> regs) {
        boolean protectedMode = (regs.get("cr0").longValue() & X86Registers.CR0_PE) != 0
                && (regs.get(X86Registers.RFLAGS).longValue() & X86Registers.EFLAGS_VM) == 0;
        if (!protectedMode) {
            return;
        }
        for (String s : X86Registers.SEGMENTS) {
            long selector = regs.get(s + ".selector").longValue();
            if ((selector & 0xfffc) == 0) {
                continue;
            }
            long flags = regs.get(s + ".flags").longValue();
            long base = regs.get(s + ".base").longValue();
            regs.put(s + ".flags", BigInteger.valueOf(descriptorFlags(flags, base)));
        }
    }

    private int parseIndex(int number, String line, String digits) {
        try {
            return Integer.parseInt(digits);
        } catch (NumberFormatException e) {
            throw error(number, line, "the vCPU number is out of range");
        }
    }

    private InvalidInputException error(int number, String line, String what) {
        return new InvalidInputException(sourceName + ":" + number + ": cannot read '" + line + "': " + what);
    }

    private static BigInteger hex(String digits) {
        return new BigInteger(digits, 16);
    }

    private static Map<String, String> simpleNames() {
        Map<String, String> m = new LinkedHashMap<>();
        String[] legacy = {"AX", "BX", "CX", "DX", "SI", "DI", "BP", "SP"};
        for (String r : legacy) {
            m.put("R" + r, "r" + r.toLowerCase(Locale.ROOT));
            m.put("E" + r, "r" + r.toLowerCase(Locale.ROOT));
        }
        for (int i = 8; i <= 15; i++) {
            m.put("R" + i, "r" + i);
        }
        for (String cr : X86Registers.CONTROL) {
            m.put(cr.toUpperCase(Locale.ROOT), cr);
        }
        for (String dr : X86Registers.DEBUG) {
            m.put(dr.toUpperCase(Locale.ROOT), dr);
        }
        m.put("EFER", X86Registers.EFER);
        return Map.copyOf(m);
    }

    /** One vCPU being collected. */
    private static final class Cpu {
        final int index;
        final int line;
        final LinkedHashMap<String, BigInteger> registers = new LinkedHashMap<>();
        final Map<String, Integer> lines = new LinkedHashMap<>();
        boolean longFormat;

        Cpu(int index, int line) {
            this.index = index;
            this.line = line;
        }
    }
}
