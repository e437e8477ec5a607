package io.guestdump.arch.x86_64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.testkit.GoldenFiles;
import java.math.BigInteger;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Test;

class X86MonitorParserTest {

    /** One long-mode vCPU in the exact format QEMU 7.2 prints. */
    static final String LONG_MODE = """

            CPU#0
            RAX=000000000001ad40 RBX=0000000000000000 RCX=0000000000000000 RDX=4000000000000000
            RSI=0000000000000083 RDI=0000000000047ea4 RBP=ffffffff8641aa40 RSP=ffffffff86403e98
            R8 =0000000000000000 R9 =0000000000000007 R10=00000000fffffffb R11=0000000000000001
            R12=0000000000000000 R13=0000000000000000 R14=0000000000000000 R15=0000000000014790
            RIP=ffffffff85417a0b RFL=00000246 [---Z-P-] CPL=0 II=0 A20=1 SMM=0 HLT=1
            ES =0000 0000000000000000 00000000 00000000
            CS =0010 0000000000000000 ffffffff 00af9b00 DPL=0 CS64 [-RA]
            SS =0018 0000000000000000 ffffffff 00cf9300 DPL=0 DS   [-WA]
            DS =0000 0000000000000000 00000000 00000000
            FS =0000 0000000000000000 00000000 00000000
            GS =0000 ffff8b1a1f400000 00000000 00000000
            LDT=0000 0000000000000000 00000000 00008200 DPL=0 LDT
            TR =0040 fffffe000003e000 00004087 00008900 DPL=0 TSS64-avl
            GDT=     fffffe0000001000 0000007f
            IDT=     fffffe0000000000 00000fff
            CR0=80050033 CR2=00000000005794a9 CR3=00000000026f2000 CR4=000006b0
            DR0=0000000000000000 DR1=0000000000000000 DR2=0000000000000000 DR3=0000000000000000\s
            DR6=00000000ffff0ff0 DR7=0000000000000400
            EFER=0000000000000d01
            FCW=037f FSW=0000 [ST=0] FTW=00 MXCSR=00001f80
            FPR0=0000000000000000 0000 FPR1=0000000000000000 0000
            FPR2=0000000000000000 0000 FPR3=0000000000000000 0000
            FPR4=0000000000000000 0000 FPR5=0000000000000000 0000
            FPR6=fffffffe00000000 401d FPR7=0000000000000000 0000
            XMM00=0000000000000000 0000000000000000 XMM01=0000000000000000 40ac200000000000
            """;

    /** One protected-mode (32-bit) vCPU as qemu-system-i386 prints it. */
    static final String PROTECTED_MODE = """
            CPU#0
            EAX=da917b70 EBX=dac444c0 ECX=dac444c0 EDX=df9aadc0
            ESI=00000000 EDI=00000000 EBP=dac3bf28 ESP=dac3bf28
            EIP=da917b83 EFL=00200206 [-----P-] CPL=0 II=0 A20=1 SMM=0 HLT=1
            ES =007b 00000000 ffffffff 00cff300 DPL=3 DS   [-WA]
            CS =0060 00000000 ffffffff 00cf9a00 DPL=0 CS32 [-R-]
            SS =0068 00000000 ffffffff 00c09300 DPL=0 DS   [-WA]
            DS =007b 00000000 ffffffff 00cff300 DPL=3 DS   [-WA]
            FS =00d8 04b45000 ffffffff 008f9300 DPL=0 DS16 [-WA]
            GS =0000 00000000 00000000 00000000
            LDT=0000 00000000 00000000 00008200 DPL=0 LDT
            TR =0080 ff406000 0000407b 00008900 DPL=0 TSS32-avl
            GDT=     ff401000 000000ff
            IDT=     ff400000 000007ff
            CR0=80050033 CR2=081c0ac9 CR3=01e78000 CR4=00000690
            DR0=00000000 DR1=00000000 DR2=00000000 DR3=00000000\s
            DR6=ffff0ff0 DR7=00000400
            EFER=0000000000000000
            """;

    static BigInteger hex(String h) {
        return new BigInteger(h, 16);
    }

    @Test
    void readsTheLongModeFormat() {
        VcpuState cpu = X86MonitorParser.parse(LONG_MODE, "regs.txt", true).get(0);
        assertEquals(0, cpu.index());
        assertEquals(hex("1ad40"), cpu.value("rax"));
        assertEquals(hex("4000000000000000"), cpu.value("rdx"));
        assertEquals(hex("ffffffff86403e98"), cpu.value("rsp"));
        assertEquals(hex("7"), cpu.value("r9"));
        assertEquals(hex("14790"), cpu.value("r15"));
        assertEquals(hex("ffffffff85417a0b"), cpu.value("rip"));
        assertEquals(hex("246"), cpu.value("rflags"));
        assertEquals(hex("10"), cpu.value("cs.selector"));
        assertEquals(hex("ffffffff"), cpu.value("cs.limit"));
        assertEquals(hex("00af9b00"), cpu.value("cs.flags"));
        assertEquals(hex("ffff8b1a1f400000"), cpu.value("gs.base"));
        assertEquals(hex("fffffe0000001000"), cpu.value("gdt.base"));
        assertEquals(hex("fff"), cpu.value("idt.limit"));
        assertEquals(hex("26f2000"), cpu.value("cr3"));
        assertEquals(hex("d01"), cpu.value("efer"));
        assertEquals(hex("ffff0ff0"), cpu.value("dr6"));
        assertEquals(hex("1f80"), cpu.value("mxcsr"));
        assertEquals(hex("37f"), cpu.value("fcw"));
        assertEquals(hex("401dfffffffe00000000"), cpu.value("fpr6"), "80 bits: sign/exponent above the mantissa");
        assertEquals(hex("000000000000000040ac200000000000"), cpu.value("xmm1"), "high quadword printed first");
        assertTrue(X86Registers.longModeActive(cpu));
        assertTrue(X86Registers.names(true).containsAll(cpu.registers().keySet()));
    }

    @Test
    void restoresTheDescriptorBaseBitsQemuKeepsInSegmentFlags() {
        VcpuState lm = X86MonitorParser.parse(LONG_MODE, "regs.txt", true).get(0);
        // TR base fffffe000003e000: base bits 23-16 (0x03) return to flags bits 7-0, as in QEMU's own note
        assertEquals(hex("00008903"), lm.value("tr.flags"));
        // GS has a null selector: its base came from MSR_GS_BASE, not a descriptor, so flags stay as printed
        assertEquals(BigInteger.ZERO, lm.value("gs.flags"));

        VcpuState pm = X86MonitorParser.parse(PROTECTED_MODE, "regs.txt", false).get(0);
        // FS base 04b45000: bits 31-24 (0x04) and 23-16 (0xb4)
        assertEquals(hex("048f93b4"), pm.value("fs.flags"));
        assertEquals(hex("ff008940"), pm.value("tr.flags"));
        assertEquals(hex("00cf9a00"), pm.value("cs.flags"));
        assertEquals(0x048f93b4L, X86MonitorParser.descriptorFlags(0x008f9300L, 0x04b45000L));
    }

    @Test
    void leavesRealModeSegmentFlagsAsPrinted() {
        String realMode = PROTECTED_MODE.replace("CR0=80050033", "CR0=60000010")
                .replace("FS =00d8 04b45000", "FS =f000 000f0000");
        VcpuState cpu = X86MonitorParser.parse(realMode, "regs.txt", false).get(0);
        assertEquals(hex("008f9300"), cpu.value("fs.flags"));
    }

    @Test
    void theX86_64BuildAcceptsThe32BitFormatOfAVcpuOutsideLongMode() {
        VcpuState cpu = X86MonitorParser.parse(PROTECTED_MODE, "regs.txt", true).get(0);
        assertEquals(hex("da917b70"), cpu.value("rax"));
        assertEquals(hex("da917b83"), cpu.value("rip"));
        assertEquals(hex("200206"), cpu.value("rflags"));
        assertEquals(hex("04b45000"), cpu.value("fs.base"));
        assertFalse(cpu.has("r8"), "the 32-bit format has no R8..R15");
        assertFalse(X86Registers.longModeActive(cpu));
    }

    @Test
    void readsBothGoldenGuests() throws Exception {
        for (String arch : new String[] {"x86_64", "i386"}) {
            String text = Files.readString(GoldenFiles.require(arch, "info-registers-a.txt"));
            List<VcpuState> cpus = X86MonitorParser.parse(text, arch, true);
            assertEquals(2, cpus.size(), arch);
            assertEquals(1, cpus.get(1).index());
        }
    }

    @Test
    void oneVcpuWithoutHeaderIsCpu0() {
        String noHeader = PROTECTED_MODE.replace("CPU#0\n", "");
        assertEquals(0, X86MonitorParser.parse(noHeader, "regs.txt", false).get(0).index());
    }

    private static InvalidInputException fails(String text, boolean x86_64Build) {
        return assertThrows(InvalidInputException.class, () -> X86MonitorParser.parse(text, "regs.txt", x86_64Build));
    }

    @Test
    void aGarbledLineNamesSourceLineNumberAndText() {
        String text = LONG_MODE.replace("SS =0018 0000000000000000", "SS =0018 00000000000zz000");
        InvalidInputException e = fails(text, true);
        assertTrue(e.getMessage().startsWith("regs.txt line 10: "), e.getMessage());
        assertTrue(e.getMessage().contains(": `SS =0018 00000000000zz000 ffffffff 00cf9300 DPL=0 DS   [-WA]`."),
                e.getMessage());
        assertTrue(e.getMessage().contains("paste the monitor output unchanged"), e.getMessage());
    }

    @Test
    void anUnknownRegisterIsRefusedWithItsLine() {
        InvalidInputException e = fails(LONG_MODE.replace("EFER=", "EFFR="), true);
        assertTrue(e.getMessage().startsWith("regs.txt line 21:"), e.getMessage());
        assertTrue(e.getMessage().contains("unknown register EFFR"), e.getMessage());
    }

    @Test
    void aTruncatedVcpuNamesItsHeaderLineAndTheMissingRegisters() {
        String text = LONG_MODE.substring(0, LONG_MODE.indexOf("GDT="));
        InvalidInputException e = fails(text, true);
        assertTrue(e.getMessage().startsWith("regs.txt line 2: CPU#0 lacks gdt.base"), e.getMessage());
        assertTrue(e.getMessage().contains("efer"), e.getMessage());
    }

    @Test
    void twoVcpusWithoutHeadersAreRefused() {
        String noHeader = PROTECTED_MODE.replace("CPU#0\n", "");
        InvalidInputException e = fails(noHeader + noHeader, false);
        assertTrue(e.getMessage().startsWith("regs.txt line 18:"), e.getMessage());
        assertTrue(e.getMessage().contains("rax is given twice for CPU#0"), e.getMessage());
    }

    @Test
    void aHeaderAfterHeaderlessRegistersIsRefused() {
        String noHeader = PROTECTED_MODE.replace("CPU#0\n", "");
        InvalidInputException e = fails(noHeader + PROTECTED_MODE.replace("CPU#0", "CPU#1"), false);
        assertTrue(e.getMessage().startsWith("regs.txt line 18:"), e.getMessage());
        assertTrue(e.getMessage().contains("header follows register lines that had none"), e.getMessage());
    }

    @Test
    void vcpuNumbersMustIncrease() {
        InvalidInputException e = fails(PROTECTED_MODE.replace("CPU#0", "CPU#1") + PROTECTED_MODE, false);
        assertTrue(e.getMessage().startsWith("regs.txt line 19:"), e.getMessage());
        assertTrue(e.getMessage().contains("CPU#0 follows CPU#1"), e.getMessage());
    }

    @Test
    void theI386BuildRefusesLongModeOutput() {
        InvalidInputException e = fails(LONG_MODE, false);
        assertTrue(e.getMessage().startsWith("regs.txt line 3:"), e.getMessage());
        assertTrue(e.getMessage().contains("qemu-system-x86_64"), e.getMessage());
    }

    @Test
    void theI386BuildHasOnlyEightVectorRegisters() {
        String text = PROTECTED_MODE + "XMM08=0000000000000000 0000000000000000\n";
        InvalidInputException e = fails(text, false);
        assertTrue(e.getMessage().startsWith("regs.txt line 19:"), e.getMessage());
        assertTrue(e.getMessage().contains("XMM08 does not exist"), e.getMessage());
    }

    @Test
    void aVectorWithTheWrongNumberOfGroupsIsRefused() {
        String text = LONG_MODE.replace("XMM01=0000000000000000 40ac200000000000", "XMM01=40ac200000000000");
        InvalidInputException e = fails(text, true);
        assertTrue(e.getMessage().contains("XMM01 needs 2 hex group"), e.getMessage());
    }

    @Test
    void emptyTextIsRefused() {
        InvalidInputException e = fails("\n\n", true);
        assertTrue(e.getMessage().startsWith("regs.txt: no `CPU#<n>` section found"), e.getMessage());
    }
}
