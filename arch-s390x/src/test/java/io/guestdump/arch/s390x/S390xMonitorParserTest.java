package io.guestdump.arch.s390x;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.testkit.GoldenFiles;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The {@code info registers -a} parser: the golden text, the variants QEMU prints, and every refusal. */
class S390xMonitorParserTest {
    private static final String SOURCE = "regs.txt";

    /** One complete vCPU as QEMU 7.2 prints it under TCG with the vector facility; line 1 is blank. */
    static String vectorCpu(int index, String pswLine) {
        StringBuilder t = new StringBuilder("\nCPU#" + index + "\n" + pswLine + "\n");
        for (int i = 0; i < 16; i++) {
            t.append(String.format("R%02d=%016x", i, 0x100L + i)).append(i % 4 == 3 ? "\n" : " ");
        }
        for (int i = 0; i < 32; i++) {
            t.append(String.format("V%02d=%016x%016x", i, 0x200L + i, 0x300L + i)).append(i % 2 == 1 ? "\n" : " ");
        }
        for (int i = 0; i < 16; i++) {
            t.append(String.format("C%02d=%016x", i, 0x400L + i)).append(i % 4 == 3 ? "\n" : " ");
        }
        return t.toString();
    }

    private static final String PSW = "PSW=mask 0704e00180000000 addr 0000000000199062 cc  CC_OP_LTGT0_64";

    private static List<VcpuState> parse(String text) {
        return S390xFixtures.arch().parseMonitorRegisters(text, SOURCE);
    }

    private static InvalidInputException refused(String text) {
        return assertThrows(InvalidInputException.class, () -> parse(text));
    }

    private static void assertMentions(InvalidInputException e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message lacks `" + p + "`: " + e.getMessage());
        }
    }

    @Test
    void goldenTextGivesBothVcpus() throws IOException {
        Path file = GoldenFiles.require("s390x", "info-registers-a.txt");
        List<VcpuState> cpus = S390xFixtures.arch().parseMonitorRegisters(Files.readString(file), file.toString());
        assertEquals(2, cpus.size());
        VcpuState c0 = cpus.get(0);
        assertEquals(0, c0.index());
        assertEquals(0x0704e00180000000L, c0.u64("psw.mask"));
        assertEquals(0x199062L, c0.u64("psw.addr"));
        assertEquals(0xfffedd7aL, c0.u64("r1"));
        assertEquals(0x37fffd03d60L, c0.u64("r15"));
        assertEquals(new BigInteger("2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e", 16), c0.value("v18"));
        assertEquals(0x14166a10L, c0.u64("c0"));
        assertEquals(0x1675000L, c0.u64("c15"));
        VcpuState c1 = cpus.get(1);
        assertEquals(1, c1.index());
        assertEquals(0x0706c00180000000L, c1.u64("psw.mask"));
        assertEquals(0x388000009dadfa76L, c1.u64("r5"));
        // 2 PSW + 16 R + 32 V + 16 C; nothing else is printed
        assertEquals(S390xRegisters.monitorNames(), List.copyOf(c1.registers().keySet()));
    }

    @Test
    void floatingPointFormatWithoutVectorFacilityAndKvmPswWithoutCc() {
        StringBuilder t = new StringBuilder("CPU#0\nPSW=mask 0000000180000000 addr 0000000000001000\n");
        for (int i = 0; i < 16; i++) {
            t.append(String.format("R%02d=%016x", i, i)).append(i % 4 == 3 ? "\n" : " ");
        }
        for (int i = 0; i < 16; i++) {
            t.append(String.format("F%02d=%016x", i, 0xf0L + i)).append(i % 4 == 3 ? "\n" : " ");
        }
        for (int i = 0; i < 16; i++) {
            t.append(String.format("C%02d=%016x", i, i)).append(i % 4 == 3 ? "\n" : " ");
        }
        VcpuState cpu = parse(t.toString().replace("\n", "\r\n")).get(0);
        assertEquals(0xf3L, cpu.u64("f3"));
        assertFalse(cpu.has("v3"));
        assertEquals(0x1000L, cpu.u64("psw.addr"));
    }

    @Test
    void ccDigitsSuffixIsAccepted() {
        VcpuState cpu = parse(vectorCpu(0, "PSW=mask 0706c00180000000 addr 0000000000a31c36 cc 00")).get(0);
        assertEquals(0x0706c00180000000L, cpu.u64("psw.mask"));
        assertEquals(new BigInteger("0000000000000205" + "0000000000000305", 16), cpu.value("v5"));
    }

    @Test
    void unparsableTokenNamesSourceLineAndText() {
        String text = vectorCpu(0, PSW).replace("R05=0000000000000105", "R05=00000000000001zz");
        InvalidInputException e = refused(text);
        // line 1 blank, 2 CPU#0, 3 PSW, 4 R00-R03, 5 R04-R07
        assertMentions(e, "regs.txt line 5", "R05=00000000000001zz", "info registers -a");
    }

    @Test
    void unknownLineIsRefused() {
        InvalidInputException e = refused(vectorCpu(0, PSW) + "FPC=00000000\n");
        assertMentions(e, "line 28", "`FPC=00000000`");
    }

    @Test
    void malformedPswIsRefused() {
        InvalidInputException e = refused(vectorCpu(0, "PSW=mask 0704e001 addr 0000000000199062"));
        assertMentions(e, "line 3", "PSW=mask <16 hex digits>");
    }

    @Test
    void wrongDigitCountIsRefused() {
        InvalidInputException e = refused(vectorCpu(0, PSW).replace("V07=00000000000002070000000000000307",
                "V07=0000000000000207"));
        assertMentions(e, "line 11", "V07 has 16 hex digits; QEMU prints 32");
    }

    @Test
    void registerNumberOutOfRangeIsRefused() {
        InvalidInputException e = refused(vectorCpu(0, PSW).replace("C15=", "C16="));
        assertMentions(e, "line 27", "C16 does not exist");
    }

    @Test
    void registerBeforeAnyHeaderIsRefused() {
        InvalidInputException e = refused("R00=0000000000000000\n");
        assertMentions(e, "line 1", "before the first `CPU#<n>` header");
    }

    @Test
    void duplicateRegisterIsRefused() {
        InvalidInputException e = refused(vectorCpu(0, PSW).replace("R03=", "R02="));
        assertMentions(e, "line 4", "r2 is given twice for CPU#0");
    }

    @Test
    void truncatedVcpuIsRefusedNamingWhatIsMissing() {
        String text = vectorCpu(0, PSW);
        text = text.substring(0, text.indexOf("C12="));
        InvalidInputException e = refused(text + vectorCpu(1, PSW));
        assertMentions(e, "line 2", "CPU#0 lacks C12, C13, C14, C15", "truncated");
    }

    @Test
    void vcpuSectionsMustAscend() {
        InvalidInputException e = refused(vectorCpu(1, PSW) + vectorCpu(1, PSW));
        assertMentions(e, "line 29", "CPU#1 follows CPU#1");
    }

    @Test
    void vAndFTogetherAreRefused() {
        InvalidInputException e = refused(vectorCpu(0, PSW) + "F00=0000000000000000\n");
        assertMentions(e, "CPU#0 has both V and F registers");
    }

    @Test
    void emptyTextIsRefused() {
        assertMentions(refused("\n\n"), "regs.txt", "no `CPU#<n>` section");
    }
}
