package io.guestdump.arch.arm;

import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.VcpuState;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses QEMU's HMP {@code info registers -a} text of an ARM guest ({@code arm_cpu_dump_state}): one
 * {@code CPU#n} header per vCPU, then either the AArch64 form
 *
 * <pre>
 *  PC=… X00=… … X30=…  SP=…
 * PSTATE=400000c5 -Z-- EL1h     FPCR=00000000 FPSR=00000000
 * Q00=high:low Q01=…                         (no SVE, or SVE disabled at the current EL)
 * P00=… … FFR=…  Z00=high:low …              (SVE: predicates then Z registers, width = vector length)
 * </pre>
 *
 * or the AArch32 form (a 32-bit guest, or a vCPU of an AArch64 guest that is in AArch32 state)
 *
 * <pre>
 * R00=… … R15=…
 * PSR=60030093 -ZC- A svc32
 * s00=… s01=… d00=…                         (one line per D register when the CPU has VFP)
 * FPSCR: 00000000
 * </pre>
 *
 * Every token must be understood: a line with an unknown token is refused with its line number. Flag and mode
 * words ({@code -Z--}, {@code EL1h}, {@code NS}, {@code svc32}, {@code BTYPE=}, {@code SVCR=}) are checked and
 * skipped, since the values they decorate carry the same bits.
 */
final class ArmMonitorParser {
    private static final Pattern CPU_HEADER = Pattern.compile("CPU#(\\d+)");
    private static final Pattern ASSIGNMENT = Pattern.compile("([A-Za-z]+)(\\d*)(\\[[0-9a-f]+(?:-[0-9a-f]+)?\\])?=(.*)");
    private static final Pattern CONTINUATION = Pattern.compile("\\[[0-9a-f]+(?:-[0-9a-f]+)?\\]=(.*)");
    private static final Pattern HEX = Pattern.compile("[0-9a-fA-F]+");
    private static final Pattern DECORATION = Pattern.compile(
            "[N-][Z-][C-][V-]" // NZCV flags after PSTATE=/PSR=
            + "|NS|S" // security state
            + "|EL[0-3][ht]" // exception level and SP selection
            + "|[TA]" // Thumb / ARM
            + "|(usr|fiq|irq|svc|mon|abt|hyp|und|sys|\\?\\?\\?)(26|32)" // AArch32 mode
            + "|handler|priv-thread|unpriv-thread" // M-profile mode
            + "|[Z-][S-]" // SVCR.ZA / SVCR.SM
            + "|NV|NV1|NV2"); // HCR_EL2 nested-virtualization bits

    private final String source;
    private final List<VcpuState> cpus = new ArrayList<>();
    private Cpu current;
    private int lineNo;
    private String line;

    private ArmMonitorParser(String source) {
        this.source = source;
    }

    /** Parses the whole text; each vCPU block is read in the form (AArch64 or AArch32) it is printed in. */
    static List<VcpuState> parse(String text, String sourceName) {
        ArmMonitorParser p = new ArmMonitorParser(sourceName);
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            p.lineNo = i + 1;
            p.line = lines[i].endsWith("\r") ? lines[i].substring(0, lines[i].length() - 1) : lines[i];
            p.parseLine();
        }
        p.finishCpu();
        if (p.cpus.isEmpty()) {
            throw new InvalidInputException(sourceName + ": no 'CPU#n' header found; expected the output of the"
                    + " HMP command 'info registers -a' of an ARM guest");
        }
        return List.copyOf(p.cpus);
    }

    private void parseLine() {
        String trimmed = line.strip();
        if (trimmed.isEmpty()) {
            return;
        }
        Matcher header = CPU_HEADER.matcher(trimmed);
        if (header.matches()) {
            finishCpu();
            int index = Integer.parseInt(header.group(1));
            if (!cpus.isEmpty() && index <= cpus.get(cpus.size() - 1).index()) {
                throw error("CPU#" + index + " comes after CPU#" + cpus.get(cpus.size() - 1).index(),
                        "vCPUs must appear once each, in ascending order, as 'info registers -a' prints them");
            }
            current = new Cpu(index, lineNo);
            return;
        }
        if (current == null) {
            throw error("register line before the first 'CPU#n' header",
                    "start the text with the 'CPU#0' line that 'info registers -a' prints");
        }
        String[] tokens = trimmed.split("\\s+");
        for (int t = 0; t < tokens.length; t++) {
            String token = tokens[t];
            if (token.equals("FPSCR:")) {
                if (t + 1 >= tokens.length) {
                    throw error("'FPSCR:' without a value", "write the value after it, e.g. 'FPSCR: 00000000'");
                }
                current.aarch32 = true;
                put("fpscr", hex(tokens[++t], 32, "FPSCR"));
            } else if (token.equals("FPU") && t + 1 < tokens.length && tokens[t + 1].equals("disabled")) {
                t++; // QEMU prints no FP registers when FP is trapped at the current EL
            } else if (token.startsWith("[")) {
                continuation(token);
            } else if (DECORATION.matcher(token).matches()) {
                continue;
            } else {
                Matcher m = ASSIGNMENT.matcher(token);
                if (!m.matches()) {
                    throw error("cannot understand '" + token + "'", "expect NAME=hex tokens as QEMU prints them");
                }
                assignment(m.group(1), m.group(2), m.group(3), m.group(4), token);
            }
        }
    }

    private void assignment(String key, String digits, String bracket, String value, String token) {
        int n = digits.isEmpty() ? -1 : Integer.parseInt(digits);
        if (bracket != null && !key.equals("Z")) {
            throw error("unexpected '" + bracket + "' in '" + token + "'", "only Z registers carry a [range]");
        }
        switch (key) {
            case "PC" -> aarch64(token, "pc", hex(value, 64, token), digits);
            case "SP" -> aarch64(token, "sp", hex(value, 64, token), digits);
            case "X" -> aarch64(token, "x" + index(n, 30, token), hex(value, 64, token), null);
            case "PSTATE" -> aarch64(token, "pstate", hex(value, 32, token), digits);
            case "FPCR" -> aarch64(token, "fpcr", hex(value, 32, token), digits);
            case "FPSR" -> aarch64(token, "fpsr", hex(value, 32, token), digits);
            case "SVCR" -> aarch64(token, null, hex(value, 64, token), digits);
            case "BTYPE" -> {
                if (!value.matches("[0-3]")) {
                    throw error("BTYPE must be 0..3 in '" + token + "'", "write BTYPE=<0..3>");
                }
            }
            case "Q" -> aarch64(token, "v" + index(n, 31, token), hex(value, 128, token), null);
            case "P" -> sve(token, "p" + index(n, 15, token), value);
            case "FFR" -> sve(token, "ffr", value);
            case "Z" -> {
                int z = index(n, 31, token);
                sve(token, "z" + z, value);
                current.lastZ = "z" + z;
            }
            case "R" -> aarch32("r" + index(n, 15, token), hex(value, 32, token));
            case "PSR", "XPSR" -> {
                noDigits(digits, token);
                aarch32("cpsr", hex(value, 32, token));
            }
            case "s" -> {
                index(n, 63, token);
                hex(value, 32, token); // the D register on the same line carries the same bits
                current.aarch32 = true;
            }
            case "d" -> aarch32("d" + index(n, 31, token), hex(value, 64, token));
            default -> throw error("unknown register '" + key + digits + "' in '" + token + "'",
                    "this parser reads QEMU's ARM 'info registers -a' text; remove lines that are not part of it");
        }
    }

    private void aarch64(String token, String name, BigInteger value, String digits) {
        if (digits != null) {
            noDigits(digits, token);
        }
        current.aarch64 = true;
        if (name != null) {
            put(name, value);
        }
    }

    private void aarch32(String name, BigInteger value) {
        current.aarch32 = true;
        put(name, value);
    }

    private void sve(String token, String name, String value) {
        aarch64(token, null, BigInteger.ZERO, null);
        if (current.sveHex.containsKey(name)) {
            throw error("register " + name + " appears twice in CPU#" + current.index, "keep one value per register");
        }
        current.sveHex.put(name, new StringBuilder(hexParts(value, token)));
        current.sveLine.put(name, lineNo);
    }

    private void continuation(String token) {
        Matcher m = CONTINUATION.matcher(token);
        if (!m.matches()) {
            throw error("cannot understand '" + token + "'", "a Z-register continuation looks like '[1-0]=hex:hex'");
        }
        if (current.lastZ == null) {
            throw error("'" + token + "' continues no Z register", "it must follow a 'Znn[..]=' line");
        }
        current.sveHex.get(current.lastZ).append(hexParts(m.group(1), token));
    }

    private String hexParts(String value, String token) {
        StringBuilder all = new StringBuilder();
        for (String part : value.split(":", -1)) {
            if (!HEX.matcher(part).matches()) {
                throw error("'" + part + "' in '" + token + "' is not hexadecimal",
                        "write the value as colon-separated hex words, most significant first");
            }
            all.append(part);
        }
        return all.toString();
    }

    private BigInteger hex(String value, int bits, String token) {
        String digits = value.replace(":", "");
        if (value.contains(":") && !token.startsWith("Q")) {
            throw error("'" + value + "' in '" + token + "' has ':', which only 128-bit Q values carry",
                    "write the value as one hex number, as QEMU prints it");
        }
        if (value.startsWith(":") || value.endsWith(":") || value.contains("::") || !HEX.matcher(digits).matches()) {
            throw error("'" + value + "' in '" + token + "' is not a hexadecimal value",
                    "write the value in hex without 0x, as QEMU prints it");
        }
        BigInteger v = new BigInteger(digits, 16);
        if (v.bitLength() > bits) {
            throw error("'" + token + "' does not fit " + bits + " bits", "check the value; QEMU prints "
                    + bits / 4 + " hex digits for it");
        }
        return v;
    }

    private int index(int n, int max, String token) {
        if (n < 0 || n > max) {
            throw error("register number out of range in '" + token + "'", "use 0.." + max);
        }
        return n;
    }

    private void noDigits(String digits, String token) {
        if (!digits.isEmpty()) {
            throw error("unknown register in '" + token + "'", "remove the digits after the register name");
        }
    }

    private void put(String name, BigInteger value) {
        if (current.registers.containsKey(name)) {
            throw error("register " + name + " appears twice in CPU#" + current.index,
                    "keep one value per register and vCPU");
        }
        current.registers.put(name, value);
    }

    private void finishCpu() {
        Cpu cpu = current;
        current = null;
        if (cpu == null) {
            return;
        }
        lineNo = cpu.headerLine;
        line = "CPU#" + cpu.index;
        if (cpu.aarch64 && cpu.aarch32) {
            throw error("CPU#" + cpu.index + " mixes AArch64 (PC=, Xnn=, Qnn=) and AArch32 (Rnn=, PSR=, dnn=) lines",
                    "give one 'info registers -a' block per vCPU as QEMU prints it");
        }
        VcpuState.Builder b = VcpuState.builder(cpu.index);
        cpu.registers.forEach(b::set);
        if (!cpu.sveHex.isEmpty()) {
            sveRegisters(cpu, b);
        }
        VcpuState state = b.build();
        List<String> required = cpu.aarch32 ? ArmPrStatus.REGISTERS : Aarch64PrStatus.REGISTERS;
        List<String> missing = required.stream().filter(r -> !state.has(r)).toList();
        if (!missing.isEmpty()) {
            throw error("CPU#" + cpu.index + " lacks " + String.join(", ", missing),
                    "give the complete 'info registers -a' block of every vCPU");
        }
        cpus.add(state);
    }

    /** Z/P/FFR registers: their width gives the vector length (32 hex digits per quadword for Z, 4 for P). */
    private void sveRegisters(Cpu cpu, VcpuState.Builder b) {
        Map<String, String> hex = new TreeMap<>();
        cpu.sveHex.forEach((k, v) -> hex.put(k, v.toString()));
        String z0 = hex.get("z0");
        if (z0 == null || z0.length() % 32 != 0 || z0.length() / 32 > Aarch64SveState.MAX_VQ) {
            throw error("CPU#" + cpu.index + " has SVE predicates but no well-formed Z00 value",
                    "give all of P00..P15, FFR and Z00..Z31 as QEMU prints them for an SVE CPU");
        }
        int vq = z0.length() / 32;
        for (int i = 0; i < Aarch64SveState.ZREG_COUNT; i++) {
            checkWidth(cpu, hex, "z" + i, vq * 32, vq);
        }
        for (int i = 0; i <= Aarch64SveState.PREG_COUNT; i++) {
            checkWidth(cpu, hex, i == Aarch64SveState.PREG_COUNT ? "ffr" : "p" + i, vq * 4, vq);
        }
        for (Map.Entry<String, StringBuilder> e : cpu.sveHex.entrySet()) {
            b.set(e.getKey(), new BigInteger(e.getValue().toString(), 16));
        }
        b.set(SveConfig.SVE_VQ, vq);
    }

    private void checkWidth(Cpu cpu, Map<String, String> hex, String name, int digits, int vq) {
        String v = hex.get(name);
        if (v == null) {
            throw error("CPU#" + cpu.index + " lacks SVE register " + name,
                    "give all of P00..P15, FFR and Z00..Z31 as QEMU prints them for an SVE CPU");
        }
        if (v.length() != digits) {
            lineNo = cpu.sveLine.get(name);
            throw error("SVE register " + name + " of CPU#" + cpu.index + " has " + v.length() + " hex digits, but Z00"
                    + " gives a vector length of " + vq + " quadwords (" + digits + " digits)",
                    "print every register at the same vector length");
        }
    }

    private InvalidInputException error(String problem, String fix) {
        return new InvalidInputException(source + ":" + lineNo + ": " + problem + "\n  | " + line + "\n  " + fix);
    }

    /** One vCPU block being read. */
    private static final class Cpu {
        final int index;
        final int headerLine;
        final Map<String, BigInteger> registers = new LinkedHashMap<>();
        final Map<String, StringBuilder> sveHex = new LinkedHashMap<>();
        final Map<String, Integer> sveLine = new LinkedHashMap<>();
        boolean aarch64;
        boolean aarch32;
        String lastZ;

        Cpu(int index, int headerLine) {
            this.index = index;
            this.headerLine = headerLine;
        }
    }
}
