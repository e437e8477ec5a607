package io.guestdump.arch.x86_64;

import io.guestdump.arch.api.MonitorRegisters;
import io.guestdump.arch.api.MonitorRegisters.Cpu;
import io.guestdump.arch.api.MonitorRegisters.Line;
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
 * The x86 line grammar of QEMU's HMP {@code info registers -a} text (QEMU {@code x86_cpu_dump_state} with
 * {@code CPU_DUMP_FPU}), giving vCPU states with canonical register names ({@link X86Registers}); the skeleton
 * ({@link MonitorRegisters}) does headers, order, duplicates, required registers and errors. One vCPU may come
 * without a header (QEMU's {@code info registers}, no {@code -a}): it is CPU#0.
 *
 * <p>QEMU prints one of two formats per vCPU, chosen by whether the vCPU runs 64-bit code: {@code RAX=…} with
 * 16-digit values and {@code R8}…{@code R15}, or {@code EAX=…} with 8-digit values. qemu-system-x86_64 prints the
 * second for a vCPU outside long mode, so both map to the same names ({@code EAX} → {@code rax}, {@code EIP} →
 * {@code rip}, {@code EFL}/{@code RFL} → {@code rflags}); qemu-system-i386 only ever prints the second.
 *
 * <p>Segment lines ({@code CS =0010 0000000000000000 ffffffff 00af9b00 DPL=0 CS64 [-RA]}) give selector, base,
 * limit and {@code flags & 0x00ffff00}. QEMU keeps the whole descriptor high dword as flags, whose bits 31–24 and
 * 7–0 are base bits 31–24 and 23–16 for a segment loaded from a descriptor; the parser puts them back (see
 * {@link #descriptorFlags}, in the skeleton's final step) so that the QEMU note carries the value QEMU itself
 * would write.
 *
 * <p>Strict: any line it does not recognise is an error naming the source, the line number and the text.
 */
public final class X86MonitorParser implements MonitorRegisters.Grammar {
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

    private static final String FIX = "Expected QEMU 'info registers -a' output of an x86 guest, lines such as "
            + "'CPU#0', 'RAX=… RBX=…', 'CS =0010 0000000000000000 ffffffff 00af9b00 DPL=0 CS64 [-RA]', "
            + "'GDT=     fffffe0000001000 0000007f'; paste the monitor output unchanged.";

    private static final X86MonitorParser X86_64 = new X86MonitorParser(true);
    private static final X86MonitorParser I386 = new X86MonitorParser(false);

    private final boolean x86_64Build;

    private X86MonitorParser(boolean x86_64Build) {
        this.x86_64Build = x86_64Build;
    }

    /** Per vCPU: whether it was printed in the 64-bit format (then R8…R15 are required). */
    private static final class Format {
        boolean longFormat;
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
        return MonitorRegisters.parse(text, sourceName, x86_64Build ? X86_64 : I386);
    }

    /**
     * QEMU's full segment flags from the printed {@code flags & 0x00ffff00} and the base: a descriptor's high
     * dword carries base bits 31–24 in its bits 31–24 and base bits 23–16 in its bits 7–0.
     */
    public static long descriptorFlags(long printedFlags, long base) {
        return printedFlags | (base & 0xff00_0000L) | ((base >>> 16) & 0xffL);
    }

    @Override
    public String fix() {
        return FIX;
    }

    @Override
    public boolean headerless() {
        return true;
    }

    @Override
    public void line(Line line, Cpu cpu) {
        String text = line.raw().strip();
        if (segment(line, cpu, text) || table(line, cpu, text) || ipLine(line, cpu, text) || fpuLine(cpu, text)) {
            return;
        }
        items(line, cpu, text);
    }

    private boolean segment(Line line, Cpu cpu, String text) {
        Matcher m = SEGMENT.matcher(text);
        if (!m.matches()) {
            return false;
        }
        String seg = m.group(1).strip().toLowerCase(Locale.ROOT);
        checkWidth(line, m.group(3));
        cpu.put(seg + ".selector", hex(m.group(2)));
        cpu.put(seg + ".base", hex(m.group(3)));
        cpu.put(seg + ".limit", hex(m.group(4)));
        cpu.put(seg + ".flags", hex(m.group(5)));
        return true;
    }

    private boolean table(Line line, Cpu cpu, String text) {
        Matcher m = TABLE.matcher(text);
        if (!m.matches()) {
            return false;
        }
        String t = m.group(1).toLowerCase(Locale.ROOT);
        checkWidth(line, m.group(2));
        cpu.put(t + ".base", hex(m.group(2)));
        cpu.put(t + ".limit", hex(m.group(3)));
        return true;
    }

    private boolean ipLine(Line line, Cpu cpu, String text) {
        Matcher m = IP_LINE.matcher(text);
        if (!m.matches()) {
            return false;
        }
        String ip = m.group(1) != null ? m.group(1) : m.group(2);
        if (m.group(1) != null) {
            requireLongFormat(line);
        }
        cpu.put(X86Registers.RIP, hex(ip));
        cpu.put(X86Registers.RFLAGS, hex(m.group(3)));
        return true;
    }

    private static boolean fpuLine(Cpu cpu, String text) {
        Matcher m = FPU_LINE.matcher(text);
        if (!m.matches()) {
            return false;
        }
        cpu.put("fcw", hex(m.group(1)));
        cpu.put("fsw", hex(m.group(2)));
        cpu.put("ftw", hex(m.group(3)));
        cpu.put("mxcsr", hex(m.group(4)));
        return true;
    }

    /** A line of {@code NAME=value} items: general registers, control and debug registers, FPRs, vectors. */
    private void items(Line line, Cpu cpu, String text) {
        Matcher m = ITEM.matcher(text);
        int end = 0;
        boolean any = false;
        while (m.find()) {
            item(line, cpu, m.group(1), m.group(2).split(" "));
            end = m.end();
            any = true;
        }
        if (!any || end != text.length()) {
            throw line.error("cannot read the line");
        }
    }

    private void item(Line line, Cpu cpu, String name, String[] groups) {
        String simple = SIMPLE.get(name);
        if (simple != null) {
            expectGroups(line, name, groups, 1, 16);
            if (name.startsWith("R")) {
                requireLongFormat(line);
                cpu.state(Format::new).longFormat = true;
            }
            cpu.put(simple, hex(groups[0]));
            return;
        }
        Matcher fpr = FPR.matcher(name);
        if (fpr.matches()) {
            expectGroups(line, name, groups, 2, 16);
            if (groups[0].length() != 16 || groups[1].length() != 4) {
                throw line.error(name + " needs 16 mantissa digits and 4 sign/exponent digits, as QEMU prints it; "
                        + "the value is '" + String.join(" ", groups) + "'");
            }
            // an 80-bit x87 register printed as mantissa (64 bits) then sign and exponent (16 bits)
            cpu.put("fpr" + fpr.group(1), hex(groups[1] + groups[0]));
            return;
        }
        Matcher vec = VECTOR.matcher(name);
        if (vec.matches()) {
            String kind = vec.group(1);
            int n = Integer.parseInt(vec.group(2));
            int count = kind.equals("ZMM") ? X86Registers.zmmCount(x86_64Build) : X86Registers.vectorCount(x86_64Build);
            if (n >= count) {
                throw line.error(name + " does not exist on this QEMU build (" + count + " " + kind
                        + " registers); check that the text comes from the guest's QEMU binary");
            }
            int quads = switch (kind) {
                case "XMM" -> 2;
                case "YMM" -> 4;
                default -> 8;
            };
            expectGroups(line, name, groups, quads, 16);
            for (String g : groups) {
                if (g.length() != 16) {
                    throw line.error(name + " needs " + quads + " groups of 16 hex digits, as QEMU prints it; the "
                            + "value is '" + String.join(" ", groups) + "'");
                }
            }
            cpu.put(kind.toLowerCase(Locale.ROOT) + n, hex(String.join("", groups)));
            return;
        }
        Matcher k = OPMASK.matcher(name);
        if (k.matches()) {
            expectGroups(line, name, groups, 1, 16);
            cpu.put("k" + k.group(1), hex(groups[0]));
            return;
        }
        throw line.error("unknown register " + name);
    }

    private static void expectGroups(Line line, String name, String[] groups, int count, int maxDigits) {
        boolean ok = groups.length == count;
        for (int i = 0; ok && i < groups.length; i++) {
            ok = groups[i].length() <= maxDigits;
        }
        if (!ok) {
            throw line.error(name + " needs " + count + " hex group(s) of up to " + maxDigits
                    + " digits as QEMU prints them; the value is '" + String.join(" ", groups) + "'");
        }
    }

    private void checkWidth(Line line, String base) {
        if (base.length() == 16) {
            requireLongFormat(line);
        }
    }

    private void requireLongFormat(Line line) {
        if (!x86_64Build) {
            throw line.error("qemu-system-i386 prints 32-bit registers (EAX=…, 8-digit bases); this line comes "
                    + "from qemu-system-x86_64: describe the guest as x86_64");
        }
    }

    /** The general registers (R8…R15 too in the 64-bit format), RIP, RFLAGS, segments, tables, CRs and EFER. */
    @Override
    public List<MonitorRegisters.Required> required(Cpu cpu) {
        List<String> r = new ArrayList<>(X86Registers.LEGACY_GPRS);
        if (cpu.state(Format::new).longFormat) {
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
        return r.stream().map(n -> new MonitorRegisters.Required(n, n)).toList();
    }

    /**
     * In protected mode (CR0.PE, not virtual-8086) a segment with a non-null selector was loaded from a
     * descriptor, so QEMU's flags word holds the descriptor's base bits; the monitor masked them off.
     */
    @Override
    public void finish(Cpu cpu) {
        boolean protectedMode = (cpu.value("cr0").longValue() & X86Registers.CR0_PE) != 0
                && (cpu.value(X86Registers.RFLAGS).longValue() & X86Registers.EFLAGS_VM) == 0;
        if (!protectedMode) {
            return;
        }
        for (String s : X86Registers.SEGMENTS) {
            long selector = cpu.value(s + ".selector").longValue();
            if ((selector & 0xfffc) == 0) {
                continue;
            }
            long flags = cpu.value(s + ".flags").longValue();
            long base = cpu.value(s + ".base").longValue();
            cpu.replace(s + ".flags", BigInteger.valueOf(descriptorFlags(flags, base)));
        }
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
}
