package io.guestdump.arch.x86_64;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.guestdump.arch.api.VcpuState;
import io.guestdump.elf.ElfData;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** Field-offset tests for the three x86 note payloads, Netty encoder-test style: field, absolute offset, value. */
class X86NoteLayoutTest {

    /** A vCPU whose every register has a distinct, recognisable value. */
    static VcpuState sample(int index) {
        VcpuState.Builder b = VcpuState.builder(index);
        long v = 0x1111_0000_0000_0001L;
        for (String r : X86Registers.LEGACY_GPRS) {
            b.set(r, v++);
        }
        for (String r : X86Registers.LONG_GPRS) {
            b.set(r, v++);
        }
        b.set("rip", 0xffff_ffff_8100_1234L);
        b.set("rflags", 0x0000_0000_0020_0246L);
        int sel = 0x10;
        for (String s : X86Registers.SEGMENTS) {
            b.set(s + ".selector", sel);
            b.set(s + ".base", 0xffff_8880_0000_0000L + sel);
            b.set(s + ".limit", 0xffff_0000L + sel);
            b.set(s + ".flags", 0x00cf_9300L + sel);
            sel += 8;
        }
        b.set("gdt.base", 0xfffffe0000001000L).set("gdt.limit", 0x7f);
        b.set("idt.base", 0xfffffe0000000000L).set("idt.limit", 0xfff);
        b.set("cr0", 0x80050033L).set("cr2", 0x5794a9L).set("cr3", 0x26f2000L).set("cr4", 0x6b0L);
        b.set("efer", 0xd01L).set("kernel_gs_base", 0xffff_8b1a_1f40_0000L);
        return b.build();
    }

    private static ByteBuffer encode(int size, java.util.function.BiConsumer<VcpuState, ByteBuffer> writer,
            VcpuState cpu) {
        ByteBuffer out = ElfData.LSB.allocate(size);
        writer.accept(cpu, out);
        assertEquals(size, out.capacity());
        return out;
    }

    @Test
    void x86_64PrStatusFieldsAreAtTheirStructOffsets() {
        ByteBuffer b = encode(X86_64PrStatus.SIZE, X86_64PrStatus::write, sample(2));
        assertEquals(336, X86_64PrStatus.SIZE);
        // pr_info, pr_cursig, pr_sigpend, pr_sighold: zero
        for (int i = 0; i < 32; i++) {
            assertEquals(0, b.get(i), "byte " + i);
        }
        // pr_pid @32 = cpu index + 1
        assertEquals(3, b.getInt(32));
        // pr_reg[0] r15 @112
        assertEquals(0x1111_0000_0000_0010L, b.getLong(112));
        // pr_reg[4] rbp @144, pr_reg[5] rbx @152
        assertEquals(0x1111_0000_0000_0007L, b.getLong(144));
        assertEquals(0x1111_0000_0000_0002L, b.getLong(152));
        // pr_reg[9] r8 @184, pr_reg[10] rax @192
        assertEquals(0x1111_0000_0000_0009L, b.getLong(184));
        assertEquals(0x1111_0000_0000_0001L, b.getLong(192));
        // pr_reg[15] orig_rax @232 = 0
        assertEquals(0, b.getLong(232));
        // pr_reg[16] rip @240, [17] cs @248 (selector), [18] eflags @256, [19] rsp @264, [20] ss @272
        assertEquals(0xffff_ffff_8100_1234L, b.getLong(240));
        assertEquals(0x18, b.getLong(248));
        assertEquals(0x20_0246L, b.getLong(256));
        assertEquals(0x1111_0000_0000_0008L, b.getLong(264));
        assertEquals(0x20, b.getLong(272));
        // pr_reg[21] fs_base @280, [22] gs_base @288
        assertEquals(0xffff_8880_0000_0000L + 0x30, b.getLong(280));
        assertEquals(0xffff_8880_0000_0000L + 0x38, b.getLong(288));
        // pr_reg[23..26] ds es fs gs selectors @296..320
        assertEquals(0x28, b.getLong(296));
        assertEquals(0x10, b.getLong(304));
        assertEquals(0x30, b.getLong(312));
        assertEquals(0x38, b.getLong(320));
        // pr_fpvalid @328 and padding: zero
        assertEquals(0, b.getLong(328));
        assertEquals(240, X86_64PrStatus.offsetOf("rip"));
    }

    @Test
    void i386PrStatusFieldsAreAtTheirStructOffsetsTruncatedTo32Bits() {
        ByteBuffer b = encode(I386PrStatus.SIZE, I386PrStatus::write, sample(0));
        assertEquals(144, I386PrStatus.SIZE);
        for (int i = 0; i < 24; i++) {
            assertEquals(0, b.get(i), "byte " + i);
        }
        // pr_pid @24
        assertEquals(1, b.getInt(24));
        for (int i = 28; i < 72; i++) {
            assertEquals(0, b.get(i), "byte " + i);
        }
        // pr_reg @72: ebx ecx edx esi edi ebp eax (low 32 bits)
        assertEquals(0x0000_0002, b.getInt(72));
        assertEquals(0x0000_0003, b.getInt(76));
        assertEquals(0x0000_0004, b.getInt(80));
        assertEquals(0x0000_0005, b.getInt(84));
        assertEquals(0x0000_0006, b.getInt(88));
        assertEquals(0x0000_0007, b.getInt(92));
        assertEquals(0x0000_0001, b.getInt(96));
        // ds es fs gs @100..112: selectors, 16 bits + 16 zero bits
        assertEquals(0x28, b.getInt(100));
        assertEquals(0x10, b.getInt(104));
        assertEquals(0x30, b.getInt(108));
        assertEquals(0x38, b.getInt(112));
        // orig_eax @116 = 0
        assertEquals(0, b.getInt(116));
        // eip @120, cs @124, eflags @128, esp @132, ss @136
        assertEquals(0x8100_1234, b.getInt(120));
        assertEquals(0x18, b.getInt(124));
        assertEquals(0x20_0246, b.getInt(128));
        assertEquals(0x0000_0008, b.getInt(132));
        assertEquals(0x20, b.getInt(136));
        // pr_fpvalid @140
        assertEquals(0, b.getInt(140));
        assertEquals(120, I386PrStatus.offsetOf("rip"));
    }

    @Test
    void i386PrStatusKeepsOnlyTheLow16BitsOfASelector() {
        VcpuState cpu = sample(0).with(java.util.Map.of("ds.selector", java.math.BigInteger.valueOf(0x1_007bL)));
        ByteBuffer b = encode(I386PrStatus.SIZE, I386PrStatus::write, cpu);
        assertEquals(0x7b, b.getInt(100));
    }

    @Test
    void qemuCpuStateFieldsAreAtTheirStructOffsets() {
        ByteBuffer b = encode(X86QemuCpuState.SIZE, X86QemuCpuState::write, sample(0));
        assertEquals(440, X86QemuCpuState.SIZE);
        // version @0 = 1, size @4 = 440
        assertEquals(1, b.getInt(0));
        assertEquals(440, b.getInt(4));
        // rax @8, rbx @16, rcx @24, rdx @32, rsi @40, rdi @48, rsp @56, rbp @64
        assertEquals(0x1111_0000_0000_0001L, b.getLong(8));
        assertEquals(0x1111_0000_0000_0002L, b.getLong(16));
        assertEquals(0x1111_0000_0000_0006L, b.getLong(48));
        assertEquals(0x1111_0000_0000_0008L, b.getLong(56));
        assertEquals(0x1111_0000_0000_0007L, b.getLong(64));
        // r8 @72 … r15 @128
        assertEquals(0x1111_0000_0000_0009L, b.getLong(72));
        assertEquals(0x1111_0000_0000_0010L, b.getLong(128));
        // rip @136, rflags @144
        assertEquals(0xffff_ffff_8100_1234L, b.getLong(136));
        assertEquals(0x20_0246L, b.getLong(144));
        // cs @152: selector, limit, flags, pad, base
        assertEquals(0x18, b.getInt(152));
        assertEquals(0xffff_0018, b.getInt(156));
        assertEquals(0x00cf_9318, b.getInt(160));
        assertEquals(0, b.getInt(164));
        assertEquals(0xffff_8880_0000_0018L, b.getLong(168));
        // ds @176, es @200, fs @224, gs @248, ss @272, ldt @296, tr @320: selectors
        assertEquals(0x28, b.getInt(176));
        assertEquals(0x10, b.getInt(200));
        assertEquals(0x30, b.getInt(224));
        assertEquals(0x38, b.getInt(248));
        assertEquals(0x20, b.getInt(272));
        assertEquals(0x40, b.getInt(296));
        assertEquals(0x48, b.getInt(320));
        // tr base @336
        assertEquals(0xffff_8880_0000_0048L, b.getLong(336));
        // gdt @344: selector 0, limit 0x7f, flags 0, base; idt @368
        assertEquals(0, b.getInt(344));
        assertEquals(0x7f, b.getInt(348));
        assertEquals(0, b.getInt(352));
        assertEquals(0xfffffe0000001000L, b.getLong(360));
        assertEquals(0xfff, b.getInt(372));
        assertEquals(0xfffffe0000000000L, b.getLong(384));
        // cr0 @392, cr1 @400 = 0, cr2 @408, cr3 @416, cr4 @424
        assertEquals(0x80050033L, b.getLong(392));
        assertEquals(0, b.getLong(400));
        assertEquals(0x5794a9L, b.getLong(408));
        assertEquals(0x26f2000L, b.getLong(416));
        assertEquals(0x6b0L, b.getLong(424));
        // kernel_gs_base @432
        assertEquals(0xffff_8b1a_1f40_0000L, b.getLong(432));
        assertEquals(336, X86QemuCpuState.segmentOffset("tr", X86QemuCpuState.SEGMENT_BASE));
    }
}
