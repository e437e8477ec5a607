package io.guestdump.arch.arm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.testkit.GoldenFiles;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The parser of QEMU's {@code info registers -a} text for ARM guests. */
class ArmMonitorParserTest {
    private final ArmArchitecture plugin = ArmTestGuests.plugin();

    private List<VcpuState> parse(String text) {
        return plugin.parseMonitorRegisters(text, "regs.txt");
    }

    private InvalidInputException failure(String text) {
        return assertThrows(InvalidInputException.class, () -> parse(text));
    }

    @Test
    void goldenAarch64TextGivesEveryRegister() throws IOException {
        List<VcpuState> cpus = parse(Files.readString(GoldenFiles.require("aarch64", "info-registers-a.txt")));
        assertEquals(2, cpus.size());
        VcpuState cpu0 = cpus.get(0);
        assertEquals(0xffffc148c75af4fcL, cpu0.u64("pc"));
        assertEquals(0xffffc148c75af514L, cpu0.u64("x30"));
        assertEquals(0xffffc148c8213d50L, cpu0.u64("sp"));
        assertEquals(0x400000c5L, cpu0.u64("pstate"));
        assertEquals(new BigInteger("7375622f6e69622f00000000656e6f64", 16), cpu0.value("v1"));
        assertEquals(Aarch64PrStatus.REGISTERS.size() + 32 + 2, cpu0.registers().size());
        assertTrue(plugin.registerNames("aarch64").containsAll(cpu0.registers().keySet()));
        assertEquals(1, cpus.get(1).index());
    }

    @Test
    void goldenArmTextGivesEveryRegister() throws IOException {
        List<VcpuState> cpus = parse(Files.readString(GoldenFiles.require("arm", "info-registers-a.txt")));
        assertEquals(2, cpus.size());
        VcpuState cpu1 = cpus.get(1);
        assertEquals(0xe087dfb8L, cpu1.u64("r13"));
        assertEquals(0x600f0093L, cpu1.u64("cpsr"));
        assertEquals(0x41cdcd6500000000L, cpu1.u64("d7"));
        assertEquals(0x80000000L, cpu1.u64("fpscr"));
        assertEquals(17 + 32 + 1, cpu1.registers().size());
        assertTrue(plugin.registerNames("arm").containsAll(cpu1.registers().keySet()));
    }

    @Test
    void sveTextOfEveryVectorLengthParsesBack() {
        qt().forAll(integers().between(1, 16), integers().all()).checkAssert((vq, seed) -> {
            Random random = new Random(seed);
            VcpuState cpu = ArmCpus.withSve(VcpuState.builder(0), vq, random).build();
            VcpuState full = VcpuState.builder(0).build().with(ArmCpus.randomAarch64(0, random).registers())
                    .with(cpu.registers());
            VcpuState parsed = parse(QemuMonitorText.aarch64(full)).get(0);
            for (String name : full.registers().keySet()) {
                if (!name.startsWith("v")) {
                    assertEquals(full.value(name), parsed.value(name), name + " at vq=" + vq);
                }
            }
            assertEquals(BigInteger.valueOf(vq), parsed.value(SveConfig.SVE_VQ));
        });
    }

    @Test
    void aarch64TextRoundTripsThroughQemuFormat() {
        qt().forAll(integers().all()).checkAssert(seed -> {
            VcpuState cpu = ArmCpus.randomAarch64(3, new Random(seed));
            assertEquals(cpu, parse(QemuMonitorText.aarch64(cpu)).get(0));
        });
    }

    @Test
    void vcpuInAarch32StateOfAnAarch64GuestIsRead() {
        VcpuState a64 = ArmCpus.aarch64(0).build();
        VcpuState a32 = ArmCpus.arm(1).build();
        List<VcpuState> cpus = parse(QemuMonitorText.aarch64(a64) + "\n" + QemuMonitorText.aarch32(a32));
        assertEquals(a64, cpus.get(0));
        assertEquals(a32, cpus.get(1));
        assertTrue(Aarch32Sync.inAarch32State(cpus.get(1)));
        assertTrue(plugin.registerNames("aarch64").containsAll(cpus.get(1).registers().keySet()));
    }

    @Test
    void qemuDecorationsAreAccepted() {
        String text = QemuMonitorText.aarch64(ArmCpus.aarch64(0).build())
                .replace("-Z-- EL1h", "N-CV NS EL2t  SVCR=00000000 --  BTYPE=0");
        assertEquals(1, parse(text).size());
        String fpuOff = String.join("\n", QemuMonitorText.aarch64(ArmCpus.aarch64(0).build()).lines()
                .filter(l -> !l.startsWith("Q")).map(l -> l.replaceAll("FPCR=.*", "    FPU disabled")).toList());
        VcpuState cpu = parse(fpuOff).get(0);
        assertTrue(!cpu.has("v0") && !cpu.has("fpsr"));
    }

    @Test
    void unknownTokenNamesTheLine() {
        String text = QemuMonitorText.aarch32(ArmCpus.arm(0).build()).replace("PSR=60030093 -ZC- A svc32",
                "PSR=60030093 -ZC- A svc32 bogus!");
        InvalidInputException e = failure(text);
        assertTrue(e.getMessage().startsWith("regs.txt line 6: "), e.getMessage());
        assertTrue(e.getMessage().contains("bogus!"), e.getMessage());
        assertTrue(e.getMessage().contains("PSR=60030093 -ZC- A svc32 bogus!"), e.getMessage());
    }

    @Test
    void badHexNamesTheLine() {
        String text = QemuMonitorText.aarch64(ArmCpus.aarch64(0).build()).replaceFirst("X05=[0-9a-f]+", "X05=12zz");
        InvalidInputException e = failure(text);
        assertTrue(e.getMessage().startsWith("regs.txt line 4: "), e.getMessage());
        assertTrue(e.getMessage().contains("X05=12zz"), e.getMessage());
    }

    @Test
    void registerBeforeTheFirstHeaderIsRefused() {
        InvalidInputException e = failure("R00=00000000\nCPU#0\n");
        assertTrue(e.getMessage().startsWith("regs.txt line 1: "), e.getMessage());
        assertTrue(e.getMessage().contains("before the first `CPU#<n>` header"), e.getMessage());
    }

    @Test
    void missingRegistersNameTheCpuHeaderLine() {
        String text = "\n" + QemuMonitorText.aarch32(ArmCpus.arm(0).build()).replace("R06=c0000006 R07=c0000007", "R06=c0000006");
        InvalidInputException e = failure(text);
        assertTrue(e.getMessage().startsWith("regs.txt line 2: "), e.getMessage());
        assertTrue(e.getMessage().contains("lacks r7"), e.getMessage());
    }

    @Test
    void duplicateRegisterIsRefused() {
        String text = QemuMonitorText.aarch32(ArmCpus.arm(0).build()).replace("R01=", "R00=");
        InvalidInputException e = failure(text);
        assertTrue(e.getMessage().contains("line 2: r0 is given twice for CPU#0"), e.getMessage());
    }

    @Test
    void mixedStatesInOneBlockAreRefused() {
        String text = QemuMonitorText.aarch64(ArmCpus.aarch64(0).build()) + "R00=00000000\n";
        InvalidInputException e = failure(text);
        assertTrue(e.getMessage().startsWith("regs.txt line 1: CPU#0 mixes AArch64"), e.getMessage());
    }

    @Test
    void outOfOrderCpusAreRefused() {
        VcpuState cpu = ArmCpus.arm(0).build();
        String block = QemuMonitorText.aarch32(cpu);
        InvalidInputException e = failure(block + block);
        assertTrue(e.getMessage().contains("CPU#0 follows CPU#0"), e.getMessage());
    }

    @Test
    void sveRegisterOfTheWrongWidthIsRefused() {
        VcpuState cpu = ArmCpus.aarch64Sve(0, 2, new Random(7)).build();
        String text = QemuMonitorText.aarch64(cpu).replaceFirst("P03=[0-9a-f]+", "P03=00");
        InvalidInputException e = failure(text);
        assertTrue(e.getMessage().contains("p3"), e.getMessage());
        assertTrue(e.getMessage().contains("vector length of 2 quadwords"), e.getMessage());
    }

    @Test
    void textWithoutCpusIsRefused() {
        InvalidInputException e = failure("\n\n");
        assertTrue(e.getMessage().contains("no `CPU#<n>` section found"), e.getMessage());
    }
}
