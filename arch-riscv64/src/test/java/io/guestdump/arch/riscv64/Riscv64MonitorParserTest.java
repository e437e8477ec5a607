package io.guestdump.arch.riscv64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.VcpuState;
import java.math.BigInteger;
import java.util.List;
import org.junit.jupiter.api.Test;

/** QEMU 7.2's riscv64 {@code info registers -a} text from a real guest, and what a damaged paste gets told. */
class Riscv64MonitorParserTest {
    private static final String REAL = Riscv64Guests.text(Riscv64Guests.MONITOR_TEXT);

    private static List<VcpuState> parse(String text) {
        return Riscv64MonitorParser.parse(text, "regs.txt");
    }

    @Test
    void realTextGivesBothVcpusWithEveryRegister() {
        List<VcpuState> cpus = parse(REAL);
        assertEquals(2, cpus.size());
        VcpuState c0 = cpus.get(0);
        assertEquals(0, c0.index());
        assertEquals(0xffff_ffff_80a7_3f30L, c0.u64("pc"));
        assertEquals(0xa000_a000_0008_82ccL, c0.u64("satp"), "satp: Sv57, ASID 0xa, PPN 0x882cc");
        assertEquals(0x0000_000a_0000_00a0L, c0.u64("mstatus"));
        assertEquals(0xffff_ffff_80a7_5bc4L, c0.u64("x1"), "x1/ra");
        assertEquals(0xffff_ffff_81c0_3de0L, c0.u64("x2"), "x2/sp");
        assertEquals(0x0000_0000_0000_0003L, cpus.get(1).u64("x31"), "x31/t6 of CPU#1");
        assertEquals(0x40ac_2000_0000_0000L, c0.u64("f8"), "f8/fs0");
        assertEquals(BigInteger.ZERO, c0.value("v"));
        assertFalse(c0.has("x0"), "x0 is always zero and kept out");
        assertEquals(1, cpus.get(1).u64("mhartid"));
        // every name parsed is one a snapshot may set too
        for (VcpuState cpu : cpus) {
            assertTrue(Riscv64Registers.all().containsAll(cpu.registers().keySet()),
                    "unknown to registerNames: " + cpu.registers().keySet());
            assertEquals(1 + 31 + 32 + 1 + 26, cpu.registers().size(), "pc, x1-x31, f0-f31, V, 26 CSRs");
        }
    }

    @Test
    void windowsLineEndsAndUnknownNewerCsrsAreAccepted() {
        String text = REAL.replace(" satp ", " stimecmp 0000000000000001\n satp ").replace("\n", "\r\n");
        List<VcpuState> cpus = parse(text);
        assertEquals(1, cpus.get(0).u64("stimecmp"));
        assertEquals(0xa000_a000_0008_82ccL, cpus.get(0).u64("satp"));
    }

    @Test
    void truncatedTextNamesTheVcpuAndTheMissingRegisters() {
        String cut = REAL.substring(0, REAL.indexOf(" x28/t3") + 1);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> parse(cut));
        assertTrue(e.getMessage().contains("regs.txt line 2: CPU#0 lacks x28/t3, x29/t4, x30/t5, x31/t6"),
                e.getMessage());
        assertTrue(e.getMessage().contains("info registers -a"), e.getMessage());
    }

    @Test
    void damagedLinesAreErrorsNamingTheLine() {
        assertError(REAL.replace("x1/ra    ffffffff80a75bc4", "x1/sp    ffffffff80a75bc4"), "line 31",
                "x1 is ra in the RISC-V ABI, not sp");
        assertError(REAL.replace(" pc       ffffffff80a73f30", " pc       80a73f30"), "line 4",
                "QEMU prints 16 hex digits");
        assertError(REAL.replace("x0/zero  0000000000000000", "x0/zero  0000000000000001"), "line 31",
                "x0 is hard-wired to zero");
        assertError(REAL.replace(" mepc ", " sepc "), "line 19", "sepc is given twice for CPU#0");
        assertError("pc 0000000000000000\n" + REAL, "line 1", "before the first `CPU#<n>` header");
        assertError(REAL.replace("CPU#1", "CPU#0"), "line 48", "CPU#0 follows CPU#0");
        assertError(REAL.replace(" satp     a000a000000882cc", " satp     a000a000000882cc extra"), "line 30",
                "NAME VALUE pairs");
        assertError(REAL.replace("x5/t0", "x55/t0"), "line 32", "x55/t0 does not exist on riscv64");
        assertError(REAL.replace(" mhartid ", " m-hartid "), "line 5", "cannot read register name `m-hartid`");
        assertError("", "regs.txt: no `CPU#<n>` section", "");
    }

    private static void assertError(String text, String where, String what) {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> parse(text));
        assertTrue(e.getMessage().contains(where) && e.getMessage().contains(what),
                "expected '" + where + "' and '" + what + "' in: " + e.getMessage());
    }
}
