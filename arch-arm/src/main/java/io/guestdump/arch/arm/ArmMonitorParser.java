package io.guestdump.arch.arm;

import io.guestdump.arch.api.MonitorRegisters;
import io.guestdump.arch.api.MonitorRegisters.Cpu;
import io.guestdump.arch.api.MonitorRegisters.Line;
import io.guestdump.arch.api.VcpuState;
import java.math.BigInteger;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The ARM line grammar of QEMU's HMP {@code info registers -a} text ({@code arm_cpu_dump_state}); the skeleton
 * ({@link MonitorRegisters}) does the {@code CPU#n} headers, order, duplicates, required registers and errors.
 * Each vCPU block is either the AArch64 form
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
 * skipped, since the values they decorate carry the same bits. Per vCPU the grammar keeps which form it has seen
 * and the SVE registers' hex digits (a Z register may continue over several lines), and at the end of the block
 * derives the vector length from their width.
 */
final class ArmMonitorParser implements MonitorRegisters.Grammar {
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
    private static final ArmMonitorParser GRAMMAR = new ArmMonitorParser();

    private ArmMonitorParser() {}

    /** What one vCPU block has shown so far. */
    private static final class Block {
        boolean aarch64;
        boolean aarch32;
        final Map<String, StringBuilder> sveHex = new LinkedHashMap<>();
        final Map<String, Line> sveLine = new LinkedHashMap<>();
        String lastZ;
    }

    /** Parses the whole text; each vCPU block is read in the form (AArch64 or AArch32) it is printed in. */
    static List<VcpuState> parse(String text, String sourceName) {
        return MonitorRegisters.parse(text, sourceName, GRAMMAR);
    }

    @Override
    public String fix() {
        return "Pass the unchanged output of the QEMU monitor command `info registers -a` of the ARM guest.";
    }

    @Override
    public void line(Line line, Cpu cpu) {
        Block block = cpu.state(Block::new);
        String[] tokens = line.tokens();
        for (int t = 0; t < tokens.length; t++) {
            String token = tokens[t];
            if (token.equals("FPSCR:")) {
                if (t + 1 >= tokens.length) {
                    throw line.error("'FPSCR:' without a value; write the value after it, e.g. 'FPSCR: 00000000'");
                }
                block.aarch32 = true;
                cpu.put("fpscr", hex(line, tokens[++t], 32, "FPSCR"));
            } else if (token.equals("FPU") && t + 1 < tokens.length && tokens[t + 1].equals("disabled")) {
                t++; // QEMU prints no FP registers when FP is trapped at the current EL
            } else if (token.startsWith("[")) {
                continuation(line, block, token);
            } else if (!DECORATION.matcher(token).matches()) {
                Matcher m = ASSIGNMENT.matcher(token);
                if (!m.matches()) {
                    throw line.error("cannot understand '" + token + "'; expected NAME=hex tokens as QEMU prints them");
                }
                assignment(line, cpu, block, m.group(1), m.group(2), m.group(3), m.group(4), token);
            }
        }
    }

    private static void assignment(Line line, Cpu cpu, Block block, String key, String digits, String bracket,
            String value, String token) {
        int n = digits.isEmpty() ? -1 : Integer.parseInt(digits);
        if (bracket != null && !key.equals("Z")) {
            throw line.error("unexpected '" + bracket + "' in '" + token + "'; only Z registers carry a [range]");
        }
        switch (key) {
            case "PC" -> aarch64(line, cpu, block, token, "pc", hex(line, value, 64, token), digits);
            case "SP" -> aarch64(line, cpu, block, token, "sp", hex(line, value, 64, token), digits);
            case "X" -> aarch64(line, cpu, block, token, "x" + index(line, n, 30, token), hex(line, value, 64, token),
                    null);
            case "PSTATE" -> aarch64(line, cpu, block, token, "pstate", hex(line, value, 32, token), digits);
            case "FPCR" -> aarch64(line, cpu, block, token, "fpcr", hex(line, value, 32, token), digits);
            case "FPSR" -> aarch64(line, cpu, block, token, "fpsr", hex(line, value, 32, token), digits);
            case "SVCR" -> aarch64(line, cpu, block, token, null, hex(line, value, 64, token), digits);
            case "BTYPE" -> {
                if (!value.matches("[0-3]")) {
                    throw line.error("BTYPE must be 0..3 in '" + token + "'");
                }
            }
            case "Q" -> aarch64(line, cpu, block, token, "v" + index(line, n, 31, token), hex(line, value, 128, token),
                    null);
            case "P" -> sve(line, block, token, "p" + index(line, n, 15, token), value);
            case "FFR" -> sve(line, block, token, "ffr", value);
            case "Z" -> {
                int z = index(line, n, 31, token);
                sve(line, block, token, "z" + z, value);
                block.lastZ = "z" + z;
            }
            case "R" -> aarch32(cpu, block, "r" + index(line, n, 15, token), hex(line, value, 32, token));
            case "PSR", "XPSR" -> {
                noDigits(line, digits, token);
                aarch32(cpu, block, "cpsr", hex(line, value, 32, token));
            }
            case "s" -> {
                index(line, n, 63, token);
                hex(line, value, 32, token); // the D register on the same line carries the same bits
                block.aarch32 = true;
            }
            case "d" -> aarch32(cpu, block, "d" + index(line, n, 31, token), hex(line, value, 64, token));
            default -> throw line.error("unknown register '" + key + digits + "' in '" + token + "'; remove lines "
                    + "that are not part of QEMU's ARM 'info registers -a' text");
        }
    }

    private static void aarch64(Line line, Cpu cpu, Block block, String token, String name, BigInteger value,
            String digits) {
        if (digits != null) {
            noDigits(line, digits, token);
        }
        block.aarch64 = true;
        if (name != null) {
            cpu.put(name, value);
        }
    }

    private static void aarch32(Cpu cpu, Block block, String name, BigInteger value) {
        block.aarch32 = true;
        cpu.put(name, value);
    }

    private static void sve(Line line, Block block, String token, String name, String value) {
        block.aarch64 = true;
        if (block.sveHex.containsKey(name)) {
            throw line.error(name + " is given twice");
        }
        block.sveHex.put(name, new StringBuilder(hexParts(line, value, token)));
        block.sveLine.put(name, line);
    }

    private static void continuation(Line line, Block block, String token) {
        Matcher m = CONTINUATION.matcher(token);
        if (!m.matches()) {
            throw line.error("cannot understand '" + token + "'; a Z-register continuation looks like "
                    + "'[1-0]=hex:hex'");
        }
        if (block.lastZ == null) {
            throw line.error("'" + token + "' continues no Z register; it must follow a 'Znn[..]=' line");
        }
        block.sveHex.get(block.lastZ).append(hexParts(line, m.group(1), token));
    }

    private static String hexParts(Line line, String value, String token) {
        StringBuilder all = new StringBuilder();
        for (String part : value.split(":", -1)) {
            if (!HEX.matcher(part).matches()) {
                throw line.error("'" + part + "' in '" + token + "' is not hexadecimal; write the value as "
                        + "colon-separated hex words, most significant first");
            }
            all.append(part);
        }
        return all.toString();
    }

    private static BigInteger hex(Line line, String value, int bits, String token) {
        String digits = value.replace(":", "");
        if (value.contains(":") && !token.startsWith("Q")) {
            throw line.error("'" + value + "' in '" + token + "' has ':', which only 128-bit Q values carry");
        }
        if (value.startsWith(":") || value.endsWith(":") || value.contains("::") || !HEX.matcher(digits).matches()) {
            throw line.error("'" + value + "' in '" + token + "' is not a hexadecimal value (hex without 0x, as "
                    + "QEMU prints it)");
        }
        BigInteger v = new BigInteger(digits, 16);
        if (v.bitLength() > bits) {
            throw line.error("'" + token + "' does not fit " + bits + " bits; QEMU prints " + bits / 4
                    + " hex digits for it");
        }
        return v;
    }

    private static int index(Line line, int n, int max, String token) {
        if (n < 0 || n > max) {
            throw line.error("register number out of range in '" + token + "' (0.." + max + ")");
        }
        return n;
    }

    private static void noDigits(Line line, String digits, String token) {
        if (!digits.isEmpty()) {
            throw line.error("unknown register in '" + token + "' (no digits after this register name)");
        }
    }

    /** The prstatus registers of the form the block is in; none for a block mixing both (finish says so). */
    @Override
    public List<MonitorRegisters.Required> required(Cpu cpu) {
        Block block = cpu.state(Block::new);
        if (block.aarch64 && block.aarch32) {
            return List.of();
        }
        List<String> names = block.aarch32 ? ArmPrStatus.REGISTERS : Aarch64PrStatus.REGISTERS;
        return names.stream().map(r -> new MonitorRegisters.Required(r, r)).toList();
    }

    /** Refuses a block mixing both forms; sets the SVE registers and the vector length their width gives. */
    @Override
    public void finish(Cpu cpu) {
        Block block = cpu.state(Block::new);
        if (block.aarch64 && block.aarch32) {
            throw cpu.error("mixes AArch64 (PC=, Xnn=, Qnn=) and AArch32 (Rnn=, PSR=, dnn=) lines; give one "
                    + "'info registers -a' block per vCPU as QEMU prints it");
        }
        if (!block.sveHex.isEmpty()) {
            sveRegisters(cpu, block);
        }
    }

    /** Z/P/FFR registers: their width gives the vector length (32 hex digits per quadword for Z, 4 for P). */
    private static void sveRegisters(Cpu cpu, Block block) {
        StringBuilder z0 = block.sveHex.get("z0");
        if (z0 == null || z0.length() % 32 != 0 || z0.length() / 32 > Aarch64SveState.MAX_VQ) {
            throw cpu.error("has SVE predicates but no well-formed Z00 value; give all of P00..P15, FFR and "
                    + "Z00..Z31 as QEMU prints them for an SVE CPU");
        }
        int vq = z0.length() / 32;
        for (int i = 0; i < Aarch64SveState.ZREG_COUNT; i++) {
            checkWidth(cpu, block, "z" + i, vq * 32, vq);
        }
        for (int i = 0; i <= Aarch64SveState.PREG_COUNT; i++) {
            checkWidth(cpu, block, i == Aarch64SveState.PREG_COUNT ? "ffr" : "p" + i, vq * 4, vq);
        }
        for (Map.Entry<String, StringBuilder> e : block.sveHex.entrySet()) {
            cpu.put(e.getKey(), new BigInteger(e.getValue().toString(), 16));
        }
        cpu.put(SveConfig.SVE_VQ, vq);
    }

    private static void checkWidth(Cpu cpu, Block block, String name, int digits, int vq) {
        StringBuilder v = block.sveHex.get(name);
        if (v == null) {
            throw cpu.error("lacks SVE register " + name + "; give all of P00..P15, FFR and Z00..Z31 as QEMU prints "
                    + "them for an SVE CPU");
        }
        if (v.length() != digits) {
            throw block.sveLine.get(name).error("SVE register " + name + " of CPU#" + cpu.index() + " has "
                    + v.length() + " hex digits, but Z00 gives a vector length of " + vq + " quadwords (" + digits
                    + " digits); print every register at the same vector length");
        }
    }
}
