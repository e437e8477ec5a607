package io.guestdump.arch.riscv64;

import static io.guestdump.testkit.Bytes.u32;
import static io.guestdump.testkit.Bytes.u64s;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.arch.api.GuestDumpException;
import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.MigrationDevice;
import io.guestdump.arch.api.RamBlockMapping;
import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.arch.api.VcpuState;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * {@link Riscv64Migration} on hand-built {@code cpu} sections laid out as QEMU 7.2's description of
 * {@code vmstate_riscv_cpu} (version 5) names them: with and without the {@code cpu/hyper} subsection, and every
 * way a section can be refused.
 */
class Riscv64MigrationTest {
    private final Riscv64Architecture plugin = Riscv64Guests.plugin();

    /** The fields of QEMU 7.2's section, in its order (the ones not decoded included, as the stream has them). */
    private static Map<String, byte[]> section72(boolean hyper) {
        Map<String, byte[]> f = new LinkedHashMap<>();
        long[] gpr = new long[32];
        long[] fpr = new long[32];
        for (int i = 1; i < 32; i++) {
            gpr[i] = 0xffffffff81000000L + i;
        }
        for (int i = 0; i < 32; i++) {
            fpr[i] = 0x4000_0000_0000_0000L + i;
        }
        f.put("env.gpr", u64s(gpr));
        f.put("env.fpr", u64s(fpr));
        f.put("env.miprio", new byte[64]);
        f.put("env.siprio", new byte[64]);
        f.put("env.pc", u64s(0xffffffff80a73f30L));
        f.put("env.frm", u64s(0));
        f.put("env.priv_ver", u64s(0x11200));
        f.put("env.misa_mxl", u32(2));
        f.put("env.misa_ext", u32(0x1411ad));
        f.put("env.priv", u64s(1));
        f.put("env.virt", u64s(hyper ? 3 : 0)); // VIRT_ONOFF and HS_TWO_STAGE
        f.put("env.resetvec", u64s(0x1000));
        long csr = 0x100;
        for (String name : Riscv64Migration.CSR_FIELDS.values()) {
            f.put(name, u64s(csr++));
        }
        f.put("env.mstatus", u64s(0x0000000a000000a0L));
        f.put("env.satp", u64s(0xa005200000082d7aL));
        f.put("env.pmp_state.pmp[0].addr_reg", u64s(0));
        f.put("cpu/pmp:env.pmp_state.pmp[0].addr_reg", u64s(0));
        if (hyper) {
            long h = 0x200;
            for (String name : Riscv64Migration.HYPER_FIELDS.values()) {
                f.put(name, u64s(h));
                f.put(Riscv64Migration.HYPER + ":" + name, u64s(h++));
            }
        }
        f.put("env.menvcfg", u64s(0));
        f.put("cpu/envcfg:env.menvcfg", u64s(0));
        return f;
    }

    private static MigrationDevice device(int version, Map<String, byte[]> fields) {
        return new MigrationDevice("cpu", 1, version, fields);
    }

    @Test
    void qemu72SectionWithTheHypervisorSubsection() {
        MigrationDevice d = device(5, section72(true));
        assertEquals(Optional.of("riscv64"), plugin.migrationMachine("virt", List.of(d)));
        VcpuState cpu = plugin.decodeMigrationCpu(d, "riscv64");
        assertEquals(1, cpu.index());
        assertEquals(0xffffffff80a73f30L, cpu.u64("pc"));
        assertFalse(cpu.has("x0"), "x0 is not kept");
        assertEquals(0xffffffff81000001L, cpu.u64("x1"));
        assertEquals(0xffffffff8100001fL, cpu.u64("x31"));
        assertEquals(0x4000_0000_0000_0000L, cpu.u64("f0"));
        assertEquals(0x4000_0000_0000_001fL, cpu.u64("f31"));
        assertEquals(0xa005200000082d7aL, cpu.u64("satp"), "the page-table walker's root");
        assertEquals(0x0000000a000000a0L, cpu.u64("mstatus"));
        assertEquals(0x100, cpu.u64("mhartid"));
        assertEquals(0x2_0000_0200L, cpu.u64("hstatus"), "VSXL = misa.MXL, as QEMU reads it");
        assertEquals(0x208, cpu.u64("mtval2"));
        assertEquals(1, cpu.u64("v"), "VIRT_ONOFF, bit 0 of env.virt");
        assertTrue(Riscv64Registers.all().containsAll(cpu.registers().keySet()), "only names the plugin knows");
    }

    /**
     * QEMU 7.2's own section of a paused guest against the monitor's {@code info registers -a} of the same instant:
     * every register the monitor prints, and no other, with the same value (hstatus with its VSXL, which QEMU
     * supplies on read).
     */
    @Test
    void qemu72SectionOfAPausedGuestEqualsItsMonitorText() {
        Map<String, byte[]> f = new LinkedHashMap<>();
        Map<String, Long> subsections = new LinkedHashMap<>();
        int version = -1;
        for (String line : Riscv64Guests.text("qemu-7.2/virt-cpu0-migration-fields.txt").split("\n")) {
            if (line.startsWith("# version ")) {
                version = Integer.parseInt(line.substring(10).strip());
            } else if (line.startsWith("# subsection ")) {
                String[] w = line.split(" ");
                subsections.put(w[2], Long.parseLong(w[3]));
            } else if (!line.isBlank()) {
                String[] w = line.split(" ");
                f.put(w[0], w.length > 1 ? HexFormat.of().parseHex(w[1]) : new byte[0]);
            }
        }
        assertEquals(5, version);
        assertEquals(Map.of("cpu/pmp", 1L, "cpu/hyper", 2L, "cpu/envcfg", 1L, "cpu/debug", 2L), subsections);
        MigrationDevice d = new MigrationDevice("cpu", 0, version, f, subsections);
        assertEquals(Optional.of("riscv64"), plugin.migrationMachine("virt", List.of(d)));
        VcpuState fromStream = plugin.decodeMigrationCpu(d, "riscv64");
        VcpuState fromMonitor = plugin.parseMonitorRegisters(
                Riscv64Guests.text("qemu-7.2/virt-cpu0-info-registers-a.txt"), "monitor").get(0);
        assertEquals(new java.util.TreeMap<>(fromMonitor.registers()), new java.util.TreeMap<>(fromStream.registers()));
        assertEquals(0xa005200000082d7aL, fromStream.u64("satp"), "Sv57");
    }

    @Test
    void withoutTheHypervisorSubsectionNoHypervisorCsrs() {
        VcpuState cpu = plugin.decodeMigrationCpu(device(5, section72(false)), "riscv64");
        assertFalse(cpu.has("hstatus"));
        assertFalse(cpu.has("v"));
        assertEquals(0xffffffff81000002L, cpu.u64("x2"));
    }

    @Test
    void laterVersionsTakeVirtEnabled() {
        Map<String, byte[]> f = section72(true);
        f.remove("env.virt");
        f.put("env.virt_enabled", new byte[] {0});
        assertEquals(0, plugin.decodeMigrationCpu(device(11, f), "riscv64").u64("v"));
        f.put("env.virt", u64s(1));
        assertRefused(device(11, f), "both env.virt and env.virt_enabled");
        f.remove("env.virt");
        f.put("env.virt_enabled", new byte[] {2});
        assertRefused(device(11, f), "a bool is 0 or 1");
    }

    @Test
    void unknownVersionsRefused() {
        assertRefused(device(4, section72(false)), "version 4");
        assertRefused(device(12, section72(false)), "version 12");
        assertRefused(new MigrationDevice("cpu", 0, 5, section72(true), Map.of("cpu/pmp", 1L, "cpu/hyper", 6L)),
                "cpu/hyper of vCPU 0 has version 6");
        assertRefused(new MigrationDevice("cpu", 0, 5, section72(true), Map.of("cpu/hyper", 1L)), "version 1");
        assertEquals(0x2_0000_0200L, plugin.decodeMigrationCpu(new MigrationDevice("cpu", 0, 5, section72(true),
                Map.of("cpu/hyper", 2L)), "riscv64").u64("hstatus"), "QEMU 7.2's cpu/hyper version 2");
    }

    @Test
    void truncatedOrMissingFieldsRefused() {
        Map<String, byte[]> f = section72(false);
        f.put("env.gpr", new byte[31 * 8]);
        assertRefused(device(5, f), "env.gpr");
        f = section72(false);
        f.put("env.pc", new byte[4]);
        assertRefused(device(5, f), "env.pc");
        f = section72(false);
        f.remove("env.satp");
        assertRefused(device(5, f), "env.satp");
        f = section72(true);
        f.put(Riscv64Migration.HYPER + ":env.vsepc", new byte[7]);
        assertRefused(device(5, f), "env.vsepc");
        f = section72(false);
        byte[] gpr = f.get("env.gpr");
        gpr[7] = 1;
        assertRefused(device(5, f), "x0");
    }

    @Test
    void otherHartWidthsAndBoardsAreNotRiscv64() {
        Map<String, byte[]> f = section72(false);
        f.put("env.misa_mxl", u32(1));
        UnsupportedGuestException e = assertThrows(UnsupportedGuestException.class,
                () -> plugin.migrationMachine("virt", List.of(device(5, f))));
        assertTrue(e.getMessage().contains("RV32"), e.getMessage());
        assertEquals(Optional.empty(), plugin.migrationMachine("pc-i440fx-7.2", List.of(device(5, section72(false)))));
        Map<String, byte[]> arm = Map.of("env.xregs", new byte[256], "cpsr", u32(0x3c5));
        assertEquals(Optional.empty(), plugin.migrationMachine("virt", List.of(device(22, arm))));
    }

    @Test
    void virtRamAt2GiBAndBootRomAt4KiBFlashLeftOut() {
        Map<String, Long> blocks = new LinkedHashMap<>();
        blocks.put("riscv_virt_board.ram", 512L << 20);
        blocks.put("virt.flash0", 32L << 20);
        blocks.put("virt.flash1", 32L << 20);
        blocks.put("riscv_virt_board.mrom", 0xf000L);
        assertEquals(List.of(new RamBlockMapping("riscv_virt_board.mrom", 0, 0x1000, 0xf000),
                new RamBlockMapping("riscv_virt_board.ram", 0, 0x8000_0000L, 512L << 20)),
                plugin.migrationRamLayout("virt", "riscv64", blocks));
        assertThrows(InvalidInputException.class, () -> plugin.migrationRamLayout("virt", "riscv64",
                Map.of("virt.flash0", 32L << 20)));
        assertThrows(UnsupportedGuestException.class, () -> plugin.migrationRamLayout("spike", "riscv64",
                blocks));
    }

    private void assertRefused(MigrationDevice d, String says) {
        GuestDumpException e = assertThrows(GuestDumpException.class, () -> plugin.decodeMigrationCpu(d, "riscv64"));
        assertTrue(e.getMessage().contains(says), e.getMessage());
    }
}
