package io.guestdump.arch.ppc64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.VcpuState;
import java.math.BigInteger;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The strict parser of {@code info registers -a}: what it reads from the golden text, and how it refuses. */
class Ppc64MonitorParserTest {
    /** One vCPU in QEMU 7.2's format (abridged from the golden guest, lines 2..9). */
    private static final String ONE_CPU = String.join("\n",
            "",
            "CPU#0",
            "NIP c0000000000e1130   LR c000000000a6dea8 CTR c000000000a6dd80 XER 0000000000000078 CPU#0",
            "MSR 800000000280b033 HID0 0000000000000000  HF 2680203d iidx 1 didx 1",
            "TB 00000000 2005973579 DECR 148863790",
            "GPR00 0000000044000888 c0000000026afca0 c000000001148100 0000000000000000",
            "CR 4400088b  [ G  G  -  -  -  L  L  LO ]             RES ffffffffffffffff",
            " LPCR 0000000003d3f408",
            " PTCR 0000000000000000   DAR 000000004566268c  DSISR 000000000a000000",
            "");

    private static List<VcpuState> parse(String text) {
        return Ppc64MonitorParser.parse(text, "regs.txt");
    }

    @Test
    void goldenTextGivesTwoCpusWithEveryPrintedRegister() throws Exception {
        List<VcpuState> cpus = parse(Ppc64Fixtures.goldenRegistersText());
        assertEquals(2, cpus.size());
        VcpuState cpu0 = cpus.get(0);
        VcpuState cpu1 = cpus.get(1);
        assertEquals(1, cpu1.index());
        assertEquals(0xc0000000000e1130L, cpu0.u64("nip"));
        assertEquals(0xc000000000a6dea8L, cpu0.u64("lr"));
        assertEquals(0x78, cpu0.u64("xer"));
        assertEquals(0x18, cpu1.u64("xer"));
        assertEquals(0x800000000280b033L, cpu0.u64("msr"));
        assertEquals(0x44000888L, cpu0.u64("cr"));
        assertEquals(0x44000008L, cpu1.u64("cr"));
        assertEquals(0xc0000000021220a8L, cpu0.u64("gpr31"));
        assertEquals(0x41cdcd6500000000L, cpu1.u64("fpr0"));
        assertEquals(0x40ac200000000000L, cpu1.u64("fpr31"));
        assertEquals(0x2000, cpu1.u64("fpscr"));
        assertEquals(BigInteger.valueOf(2005973579L), cpu0.value("tb"));
        assertEquals(148863996L, cpu1.u64("decr"));
        assertEquals(0x4e1200, cpu0.u64("pvr"));
        assertEquals(1, cpu1.u64("sprg3"));
        assertEquals(0xc000000000a6dea4L, cpu0.u64("cfar"));
        assertEquals(0x3d3f408L, cpu0.u64("lpcr"));
        assertEquals(0x102004fcL, cpu1.u64("dar"));
        assertEquals(0x40000000L, cpu1.u64("dsisr"));
        // what the monitor text lacks: no vector, VSX or pt_regs-only state
        assertFalse(cpu0.has("vr0") || cpu0.has("vscr") || cpu0.has("vsrl0") || cpu0.has("trap"));
        // every name the parser produces is one registerNames accepts
        for (VcpuState cpu : cpus) {
            assertTrue(Ppc64Registers.ALL.containsAll(cpu.registers().keySet()),
                    () -> "not accepted: " + cpu.registers().keySet());
        }
    }

    @Test
    void crFieldsAndSummaryOverflowFlagAreRead() {
        VcpuState cpu = parse(ONE_CPU).get(0);
        assertEquals(0x4400088bL, cpu.u64("cr"));
        assertEquals(0x44000888L, cpu.u64("gpr0"));
    }

    @Test
    void newerQemuPirOnTheNipLineIsRead() {
        VcpuState cpu = parse(ONE_CPU.replace("XER 0000000000000078 CPU#0", "XER 0000000000000078 PIR 4 CPU#0"))
                .get(0);
        assertEquals(4, cpu.u64("pir"));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "garbage line          | 5 | TB 00000000 2005973579 DECR 148863790 | hello world   | unknown register 'hello'",
        "odd token count       | 5 | TB 00000000 2005973579 DECR 148863790 | SRR0 0 SRR1   | expected 'NAME value' pairs",
        "decimal TB not hex    | 5 | TB 00000000 2005973579 DECR 148863790 | TB 00000000 7ffe DECR 1 | TB value '7ffe' is not a decimal number",
        "bad hex               | 6 | GPR00 0000000044000888                | GPR00 00000000440008zz c0000000026afca0 c000000001148100 0000000000000000 | value '00000000440008zz' is not 1 to 16 hex digits",
        "CR flags disagree     | 7 | CR 4400088b                           | CR 4400088b  [ G  G  -  -  -  L  L  L ]  RES ffffffffffffffff | CR field 7 is b",
        "unknown SPR           | 8 |  LPCR 0000000003d3f408                |  FOO 0000000003d3f408 | unknown register 'FOO'",
        "NIP of another vCPU   | 3 | NIP c0000000000e1130                  | NIP c0000000000e1130   LR c000000000a6dea8 CTR c000000000a6dd80 XER 0000000000000078 CPU#1 | names CPU#1 inside the block of CPU#0",
        "GPR row not aligned   | 6 | GPR00 0000000044000888                | GPR02 0000000044000888 c0000000026afca0 c000000001148100 0000000000000000 | multiple of 4",
        "MSR line cut          | 4 | MSR 800000000280b033                  | MSR 800000000280b033 HID0 0000000000000000 | expected 'MSR x HID0 x",
        "duplicate register    | 9 | PTCR 0000000000000000                 | PTCR 0 DAR 1 DAR 2 | dar is given twice for CPU#0",
    })
    void aBrokenLineIsRefusedWithItsNumberAndText(String what, int lineNumber, String prefix, String broken,
            String reason) {
        String text = replaceLineStartingWith(ONE_CPU, prefix, broken);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> parse(text));
        assertTrue(e.getMessage().startsWith("regs.txt line " + lineNumber + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(": `" + broken.strip() + "`. "), e.getMessage());
        assertTrue(e.getMessage().contains(reason), e.getMessage());
        assertTrue(e.getMessage().contains("info registers -a"), "says what to pass instead: " + e.getMessage());
    }

    @Test
    void registersBeforeAnyCpuHeaderAreRefused() {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> parse("NIP c0000000000e1130   LR 0 CTR 0 XER 0 CPU#0\n"));
        assertTrue(e.getMessage().startsWith("regs.txt line 1: "), e.getMessage());
        assertTrue(e.getMessage().contains("before the first `CPU#<n>` header"), e.getMessage());
    }

    @Test
    void aTruncatedCpuAndAnEmptyTextAreRefused() {
        InvalidInputException truncated = assertThrows(InvalidInputException.class,
                () -> parse(ONE_CPU + "\nCPU#1\nGPR00 0 0 0 0\n"));
        assertTrue(truncated.getMessage().contains("CPU#1"), truncated.getMessage());
        assertTrue(truncated.getMessage().contains("lacks the 'NIP ...' line"), truncated.getMessage());

        InvalidInputException empty = assertThrows(InvalidInputException.class, () -> parse("\n\n"));
        assertTrue(empty.getMessage().contains("no `CPU#<n>` section"), empty.getMessage());
    }

    @Test
    void cpuIndexesMustAscend() {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> parse(ONE_CPU + ONE_CPU));
        assertTrue(e.getMessage().startsWith("regs.txt line 11: "), e.getMessage());
        assertTrue(e.getMessage().contains("CPU#0 follows CPU#0"), e.getMessage());
    }

    private static String replaceLineStartingWith(String text, String prefix, String replacement) {
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].strip().startsWith(prefix.strip())) {
                lines[i] = replacement;
                return String.join("\n", lines);
            }
        }
        throw new AssertionError("no line starts with " + prefix);
    }
}
