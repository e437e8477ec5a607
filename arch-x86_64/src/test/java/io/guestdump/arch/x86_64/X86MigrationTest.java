package io.guestdump.arch.x86_64;

import static io.guestdump.testkit.Bytes.u32;
import static io.guestdump.testkit.Bytes.u64s;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.arch.api.InvalidInputException;
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

/** {@link X86Migration}: the pc/q35 RAM split and the {@code cpu} section's fields, field by field. */
class X86MigrationTest {
    private static final long MIB = 1L << 20;
    private static final long GIB = 1L << 30;

    private static String layout(String machine, long ram) {
        StringBuilder sb = new StringBuilder();
        for (RamBlockMapping m : X86Migration.layout(machine, Map.of("pc.ram", ram, "pc.bios", 256 * 1024L,
                "vga.vram", 16 * MIB))) {
            sb.append(m.block()).append(" 0x").append(Long.toHexString(m.offset())).append("@0x")
                    .append(Long.toHexString(m.address())).append("+0x").append(Long.toHexString(m.length()))
                    .append("; ");
        }
        return sb.toString();
    }

    @Test
    void pcRamBelowAndAbove4GiB() {
        assertEquals("pc.ram 0x0@0x0+0xa0000; pc.ram 0xc0000@0xc0000+0x1ff40000; pc.bios 0x0@0xfffc0000+0x40000; ",
                layout("pc-i440fx-7.2", 512 * MIB));
        // i440fx: below 0xe0000000 everything fits; from there on 3 GiB stay below (gigabyte alignment)
        assertEquals("pc.ram 0x0@0x0+0xa0000; pc.ram 0xc0000@0xc0000+0xdfe40000; pc.bios 0x0@0xfffc0000+0x40000; ",
                layout("pc-i440fx-7.2", 0xdff00000L));
        assertEquals("pc.ram 0x0@0x0+0xa0000; pc.ram 0xc0000@0xc0000+0xbff40000; pc.ram 0xc0000000@0x100000000+"
                + "0x40000000; pc.bios 0x0@0xfffc0000+0x40000; ", layout("pc-i440fx-7.2", 4 * GIB));
        // q35: 0xb0000000 below unless the RAM reaches it, then 2 GiB
        assertEquals("pc.ram 0x0@0x0+0xa0000; pc.ram 0xc0000@0xc0000+0x7ff40000; pc.bios 0x0@0xfffc0000+0x40000; ",
                layout("pc-q35-7.2", 2 * GIB));
        assertEquals("pc.ram 0x0@0x0+0xa0000; pc.ram 0xc0000@0xc0000+0x7ff40000; pc.ram 0x80000000@0x100000000+"
                + "0x100000000; pc.bios 0x0@0xfffc0000+0x40000; ", layout("pc-q35-7.2", 6 * GIB));
        // no VGA device (libvirt without <video>): nothing covers pc.ram in the legacy VGA window
        StringBuilder noVga = new StringBuilder();
        for (RamBlockMapping m : X86Migration.layout("pc-i440fx-7.2", Map.of("pc.ram", 512 * MIB, "pc.bios",
                256 * 1024L))) {
            noVga.append(m.block()).append(" 0x").append(Long.toHexString(m.address())).append("+0x")
                    .append(Long.toHexString(m.length())).append("; ");
        }
        assertEquals("pc.ram 0x0+0x20000000; pc.bios 0xfffc0000+0x40000; ", noVga.toString());
        // the id as the stream gives it: the VGA device's PCI address in front
        assertEquals(3, X86Migration.layout("pc-i440fx-7.2", Map.of("pc.ram", 512 * MIB, "pc.bios", 256 * 1024L,
                "0000:00:02.0/vga.vram", 16 * MIB)).size());
        assertThrows(UnsupportedGuestException.class, () -> layout("virt-7.2", GIB));
        assertThrows(InvalidInputException.class, () -> X86Migration.layout("pc", Map.of("ram", GIB)));
    }

    @Test
    void cpuSectionFields() {
        Map<String, byte[]> f = new LinkedHashMap<>();
        f.put("env.regs", u64s(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
        f.put("env.eip", u64s(0xffffffff81000000L));
        f.put("env.eflags", u64s(0x246));
        for (int i = 0; i < 6; i++) {
            segment(f, "env.segs[" + i + "].", 0x10 + i, 0x1000L * i, 0xffffffffL, 0xa09b00 + i);
        }
        segment(f, "env.ldt.", 0, 0, 0, 0x8200);
        segment(f, "env.tr.", 0x40, 0xfffffe0000003000L, 0x4087, 0x8b00);
        segment(f, "env.gdt.", 0, 0xfffffe0000001000L, 0x7f, 0);
        segment(f, "env.idt.", 0, 0xfffffe0000000000L, 0xfff, 0);
        for (int cr : new int[] {0, 2, 3, 4}) {
            f.put("env.cr[" + cr + "]", u64s(0x100 + cr));
        }
        f.put("env.efer", u64s(0xd01));
        f.put("env.kernelgsbase", u64s(0xffff888000000000L));
        f.put("env.fpregs[1].tmp", ByteBuffer.allocate(10).order(ByteOrder.BIG_ENDIAN).putLong(0x8000000000000000L)
                .putShort((short) 0x3fff).array());
        f.put("env.xmm_regs[0][3]._q_ZMMReg[0]", u64s(0x1111));
        f.put("env.xmm_regs[0][3]._q_ZMMReg[1]", u64s(0x2222));
        VcpuState cpu = X86Migration.cpu(new MigrationDevice("cpu", 1, 12, f), true);
        assertEquals(1, cpu.index());
        assertEquals(0, cpu.u64("rax"));
        assertEquals(1, cpu.u64("rcx"), "env.regs is in R_EAX, R_ECX, R_EDX, R_EBX order");
        assertEquals(3, cpu.u64("rbx"));
        assertEquals(4, cpu.u64("rsp"));
        assertEquals(15, cpu.u64("r15"));
        assertEquals(0xffffffff81000000L, cpu.u64("rip"));
        assertEquals(0x11, cpu.u64("cs.selector"), "env.segs is in R_ES, R_CS, R_SS order");
        assertEquals(0x4000, cpu.u64("fs.base"));
        assertEquals(0xa09b05, cpu.u64("gs.flags"));
        assertEquals(0xfffffe0000003000L, cpu.u64("tr.base"));
        assertEquals(0x7f, cpu.u64("gdt.limit"));
        assertEquals(0x103, cpu.u64("cr3"));
        assertEquals(0xffff888000000000L, cpu.u64("kernel_gs_base"));
        assertEquals(new BigInteger("3fff8000000000000000", 16), cpu.value("fpr1"));
        assertEquals(new BigInteger("22220000000000001111", 16), cpu.value("xmm3"));
        assertTrue(X86Migration.machine("pc-q35-7.2", List.of(new MigrationDevice("cpu", 0, 12, f)), 8, "x86_64")
                .isPresent());
        assertTrue(X86Migration.machine("pc-q35-7.2", List.of(new MigrationDevice("cpu", 0, 12, f)), 4, "i386")
                .isEmpty(), "8-byte target_ulong: not i386");
    }

    private static void segment(Map<String, byte[]> f, String p, long selector, long base, long limit, long flags) {
        f.put(p + "selector", u32(selector));
        f.put(p + "base", u64s(base));
        f.put(p + "limit", u32(limit));
        f.put(p + "flags", u32(flags));
    }
}
