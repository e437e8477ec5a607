package io.guestdump.arch.arm;

import static io.guestdump.testkit.Bytes.u32;
import static io.guestdump.testkit.Bytes.u64s;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.guestdump.arch.api.MigrationDevice;
import io.guestdump.arch.api.RamBlockMapping;
import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.arch.api.VcpuState;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link ArmMigration}: the virt board's RAM and the {@code cpu} section of an AArch64 and an AArch32 vCPU. */
class ArmMigrationTest {

    @Test
    void virtRamAt1GiBFlashLeftOut() {
        assertEquals(List.of(new RamBlockMapping("mach-virt.ram", 0, 0x40000000L, 1L << 31)),
                ArmMigration.layout("virt-7.2", Map.of("mach-virt.ram", 1L << 31, "virt.flash0", 1L << 26)));
        assertThrows(UnsupportedGuestException.class, () -> ArmMigration.layout("pc", Map.of()));
    }

    @Test
    void aarch64Vcpu() {
        Map<String, byte[]> f = new LinkedHashMap<>();
        long[] x = new long[32];
        for (int i = 0; i < 32; i++) {
            x[i] = 0x1000 + i;
        }
        f.put("env.xregs", u64s(x));
        f.put("env.pc", u64s(0xffff800008001234L));
        f.put("cpsr", u32(0x600003c5));
        f.put("env.vfp.zregs[2].d", u64s(0x1111, 0x2222));
        f.put("fpscr", u32(0x0800_0010 | 0x0040_0000));
        f.put("env.sp_el", u64s(0xa, 0xb, 0, 0));
        f.put("cpreg_vmstate_indexes", u64s(0x603000000013c080L, 0x603000000013c101L));
        f.put("cpreg_vmstate_values", u64s(0x30d00800, 0x41000000));
        MigrationDevice d = new MigrationDevice("cpu", 0, 22, f);
        assertEquals("aarch64", ArmMigration.machine("virt-7.2", List.of(d)).orElseThrow());
        VcpuState cpu = ArmMigration.cpu(d, "aarch64");
        assertEquals(0x1000, cpu.u64("x0"));
        assertEquals(0x101e, cpu.u64("x30"));
        assertEquals(0x101f, cpu.u64("sp"), "xregs[31] is the current SP");
        assertEquals(0xffff800008001234L, cpu.u64("pc"));
        assertEquals(0x600003c5, cpu.u64("pstate"));
        assertEquals(new BigInteger("22220000000000001111", 16), cpu.value("v2"));
        assertEquals(0x0800_0010L, cpu.u64("fpsr"));
        assertEquals(0x0040_0000L, cpu.u64("fpcr"));
        assertEquals(0xb, cpu.u64("sp_el1"));
        assertEquals(0x30d00800, cpu.u64("sctlr_el1"), "SCTLR_EL1 by its KVM id (3, 0, 1, 0, 0)");
        assertEquals(0x41000000, cpu.u64("ttbr1_el1"), "TTBR1_EL1 by its KVM id (3, 0, 2, 0, 1)");
    }

    @Test
    void aarch32Vcpu() {
        Map<String, byte[]> f = new LinkedHashMap<>();
        int[] r = new int[16];
        for (int i = 0; i < 16; i++) {
            r[i] = 0xc000_0000 + i;
        }
        ByteBuffer regs = ByteBuffer.allocate(64).order(ByteOrder.BIG_ENDIAN);
        for (int v : r) {
            regs.putInt(v);
        }
        f.put("env.regs", regs.array());
        f.put("env.xregs", new byte[256]);
        f.put("cpsr", u32(0x600001d3));
        f.put("env.vfp.zregs[1].d", u64s(0x33, 0x44));
        MigrationDevice d = new MigrationDevice("cpu", 1, 22, f);
        assertEquals("arm", ArmMigration.machine("virt", List.of(d)).orElseThrow());
        VcpuState cpu = ArmMigration.cpu(d, "arm");
        assertEquals(0xc000000fL, cpu.u64("r15"));
        assertEquals(0x600001d3, cpu.u64("cpsr"));
        assertEquals(0x33, cpu.u64("d2"));
        assertEquals(0x44, cpu.u64("d3"));
    }
}
