package io.guestdump.arch.arm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.arch.api.CpuNote;
import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.elf.ElfData;
import io.guestdump.elf.Note;
import io.guestdump.elf.NoteType;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Field offsets of the AArch64 notes, in both byte orders, and the SVE note layout. */
class Aarch64NoteLayoutTest {
    private static final long SCTLR_EE = 1L << 25;
    private final ArmArchitecture plugin = ArmTestGuests.plugin();

    private List<Note> notesOf(VcpuState... cpus) {
        return ArmTestGuests.notes(plugin, ArmTestGuests.guest("aarch64", List.of(cpus)));
    }

    private static ByteBuffer desc(Note note, ElfData data) {
        return data.wrap(note.desc());
    }

    @Test
    void sctlrEeSetGivesBigEndianDump() {
        VcpuState cpu = ArmCpus.aarch64(0).set("sctlr_el1", 0x30d0_0980L | SCTLR_EE).build();
        assertEquals(ElfData.MSB, plugin.describe(ArmTestGuests.guest("aarch64", List.of(cpu))).data());
        VcpuState le = ArmCpus.aarch64(0).set("sctlr_el1", 0x30d0_0980L).build();
        assertEquals(ElfData.LSB, plugin.describe(ArmTestGuests.guest("aarch64", List.of(le))).data());
    }

    @Test
    void onlyTheFirstVcpuDecidesByteOrder() {
        VcpuState first = ArmCpus.aarch64(0).build();
        VcpuState second = ArmCpus.aarch64(1).set("sctlr_el1", SCTLR_EE).build();
        assertEquals(ElfData.LSB, plugin.describe(ArmTestGuests.guest("aarch64", List.of(first, second))).data());
    }

    @Test
    void prstatusFieldsSitAtTheirOffsetsInBothByteOrders() {
        for (ElfData data : ElfData.values()) {
            VcpuState cpu = ArmCpus.aarch64(1).set("sctlr_el1", data == ElfData.MSB ? SCTLR_EE : 0).build();
            List<Note> notes = notesOf(ArmCpus.aarch64(0).set("sctlr_el1", data == ElfData.MSB ? SCTLR_EE : 0)
                    .build(), cpu);
            Note prstatus = notes.get(2);
            assertEquals("CORE", prstatus.owner());
            assertEquals(NoteType.NT_PRSTATUS, prstatus.type());
            assertEquals(392, prstatus.descSize());
            ByteBuffer d = desc(prstatus, data);
            // pr_pid: vCPU index + 1
            assertEquals(2, d.getInt(32));
            // pr_reg[0] = x0
            assertEquals(cpu.u64("x0"), d.getLong(112));
            // pr_reg[30] = x30
            assertEquals(cpu.u64("x30"), d.getLong(112 + 30 * 8));
            // pr_reg.sp
            assertEquals(cpu.u64("sp"), d.getLong(360));
            // pr_reg.pc
            assertEquals(cpu.u64("pc"), d.getLong(368));
            // pr_reg.pstate
            assertEquals(cpu.u64("pstate"), d.getLong(376));
            // pr_fpvalid
            assertEquals(1, d.getInt(384));
            // everything else is zero: bytes 0..31, 36..111, 388..391
            for (int i : new int[] {0, 31, 36, 111, 388, 391}) {
                assertEquals(0, d.get(i), "byte " + i);
            }
        }
    }

    @Test
    void fpsimdFieldsAndHalfSwapInBigEndian() {
        BigInteger v3 = new BigInteger("0123456789abcdeffedcba9876543210", 16);
        for (ElfData data : ElfData.values()) {
            VcpuState cpu = ArmCpus.aarch64(0).set("v3", v3).set("sctlr_el1", data == ElfData.MSB ? SCTLR_EE : 0)
                    .build();
            Note fp = notesOf(cpu).get(1);
            assertEquals(NoteType.NT_PRFPREG, fp.type());
            assertEquals(528, fp.descSize());
            ByteBuffer d = desc(fp, data);
            long first = d.getLong(3 * 16);
            long second = d.getLong(3 * 16 + 8);
            if (data == ElfData.LSB) {
                // vregs[3]: low half first
                assertEquals(0xfedcba9876543210L, first);
                assertEquals(0x0123456789abcdefL, second);
            } else {
                // vregs[3]: halves swapped, so the 16 bytes are the big-endian 128-bit value
                assertEquals(0x0123456789abcdefL, first);
                assertEquals(0xfedcba9876543210L, second);
                byte[] sixteen = new byte[16];
                d.get(3 * 16, sixteen);
                assertEquals(v3, new BigInteger(1, sixteen));
            }
            // fpsr, fpcr
            assertEquals(0x0800_0010, d.getInt(512));
            assertEquals(0x0300_0000, d.getInt(516));
            // 8 bytes of padding
            assertEquals(0L, d.getLong(520));
        }
    }

    @Test
    void aarch32StateVcpuIsSyncedLikeQemu() {
        // a vCPU of an AArch64 guest in AArch32 SVC mode (cpsr.M = 0x13): r13/r14 go to x19/x18, sp = 0
        VcpuState.Builder b = VcpuState.builder(0);
        for (int i = 0; i <= 15; i++) {
            b.set("r" + i, 0x100 + i);
        }
        b.set("cpsr", 0x6000_01d3L);
        b.set("x13", 0xaaaaL); // banked user sp from a snapshot
        b.set("d0", 0x1111_2222_3333_4444L).set("d1", 0x5555_6666_7777_8888L);
        b.set("fpscr", 0xf800_009fL | 0x03c0_0000L);
        VcpuState cpu = b.build();
        List<Note> notes = notesOf(cpu);
        ByteBuffer d = desc(notes.get(0), ElfData.LSB);
        for (int i = 0; i < 13; i++) {
            assertEquals(0x100 + i, d.getLong(112 + 8 * i), "x" + i);
        }
        assertEquals(0xaaaaL, d.getLong(112 + 13 * 8), "x13 = banked usr sp");
        assertEquals(0x10eL, d.getLong(112 + 18 * 8), "x18 = lr_svc");
        assertEquals(0x10dL, d.getLong(112 + 19 * 8), "x19 = sp_svc");
        assertEquals(0L, d.getLong(360), "sp");
        assertEquals(0x10fL, d.getLong(368), "pc = r15");
        assertEquals(0x6000_01d3L, d.getLong(376), "pstate = cpsr");
        ByteBuffer fp = desc(notes.get(1), ElfData.LSB);
        assertEquals(0x1111_2222_3333_4444L, fp.getLong(0), "v0 low = d0");
        assertEquals(0x5555_6666_7777_8888L, fp.getLong(8), "v0 high = d1");
        assertEquals(0xf800_009f, fp.getInt(512), "fpsr = fpscr & FPSR_MASK");
        assertEquals(0x03c0_0000, fp.getInt(516), "fpcr = fpscr & FPCR_MASK");
    }

    @Test
    void aarch32FiqModeUsesTheFiqBank() {
        VcpuState.Builder b = VcpuState.builder(0);
        for (int i = 0; i <= 15; i++) {
            b.set("r" + i, 0x200 + i);
        }
        b.set("cpsr", 0x11);
        b.set("x8", 0x808);
        ByteBuffer d = desc(notesOf(b.build()).get(0), ElfData.LSB);
        assertEquals(0x808L, d.getLong(112 + 8 * 8), "x8 = usr r8 from the bank");
        assertEquals(0x208L, d.getLong(112 + 24 * 8), "x24 = fiq r8");
        assertEquals(0x20eL, d.getLong(112 + 30 * 8), "x30 = fiq r14");
    }

    @Test
    void noSveNoteWithoutSve() {
        assertEquals(2, plugin.cpuNotes(ArmTestGuests.guest("aarch64", List.of(ArmCpus.aarch64(0).build())),
                null).size());
    }

    @Test
    void sveNoteSizesMatchTheReference() {
        int[][] sizes = {{1, 592}, {2, 1136}, {4, 2224}, {8, 4400}, {16, 8768}};
        for (int[] s : sizes) {
            assertEquals(s[1], Aarch64SveState.size(s[0]), "vq=" + s[0]);
        }
    }

    @Test
    void sveNoteLayoutVq1() {
        sveLayout(1, 592, 534, 560, 576);
    }

    @Test
    void sveNoteLayoutVq2() {
        // z at 16 + 32n, predicates at 1040 + 4n, fpsr at round16(1040 + 17 * 4) = 1120
        sveLayout(2, 1136, 1040 + 4 * 3, 1040 + 4 * 16, 1120);
    }

    private void sveLayout(int vq, int size, int p3Offset, int ffrOffset, int fpsrOffset) {
        for (ElfData data : ElfData.values()) {
            VcpuState cpu = ArmCpus.aarch64Sve(0, vq, new Random(vq))
                    .set("sctlr_el1", data == ElfData.MSB ? SCTLR_EE : 0)
                    .set(SveConfig.SVE_MAX_VQ, 4)
                    .build();
            GuestState guest = ArmTestGuests.guest("aarch64", List.of(cpu));
            DumpTarget target = plugin.describe(guest);
            List<CpuNote> table = plugin.cpuNotes(guest, target);
            assertEquals(3, table.size());
            assertEquals(size, table.get(2).descSize());
            Note sve = ArmTestGuests.notes(plugin, guest).get(2);
            assertEquals("LINUX", sve.owner());
            assertEquals(ArmElf.NT_ARM_SVE, sve.type());
            assertEquals(size, sve.descSize());
            ByteBuffer d = desc(sve, data);
            // user_sve_header: size, max_size, vl, max_vl, flags, reserved
            assertEquals(size, d.getInt(0));
            assertEquals(2224, d.getInt(4));
            assertEquals(vq * 16, d.getShort(8));
            assertEquals(64, d.getShort(10));
            assertEquals(1, d.getShort(12));
            assertEquals(0, d.getShort(14));
            // z5 at 16 + vq*16*5, little-endian bytes whatever the dump's byte order
            assertArrayEquals(littleEndian(cpu.value("z5"), vq * 16), slice(d, 16 + vq * 16 * 5, vq * 16));
            assertArrayEquals(littleEndian(cpu.value("p3"), vq * 2), slice(d, p3Offset, vq * 2));
            assertArrayEquals(littleEndian(cpu.value("ffr"), vq * 2), slice(d, ffrOffset, vq * 2));
            // fpsr, fpcr in the dump's byte order
            assertEquals(0x0800_0010, d.getInt(fpsrOffset));
            assertEquals(0x0300_0000, d.getInt(fpsrOffset + 4));
        }
    }

    @Test
    void sveLengthFromZcrWhenNoSveVq() {
        VcpuState cpu = ArmCpus.aarch64(0).set("zcr_el1", 1).build();
        GuestState guest = ArmTestGuests.guest("aarch64", List.of(cpu));
        assertEquals(1136, plugin.cpuNotes(guest, plugin.describe(guest)).get(2).descSize());
    }

    @Test
    void vcpusWithDifferentSveLengthsAreRefused() {
        VcpuState a = ArmCpus.aarch64Sve(0, 1, new Random(1)).build();
        VcpuState b = ArmCpus.aarch64Sve(1, 2, new Random(2)).build();
        GuestState guest = ArmTestGuests.guest("aarch64", List.of(a, b));
        UnsupportedGuestException e = assertThrows(UnsupportedGuestException.class,
                () -> plugin.cpuNotes(guest, plugin.describe(guest)));
        assertTrue(e.getMessage().contains("vq=2"), e.getMessage());
    }

    private static byte[] slice(ByteBuffer d, int at, int size) {
        byte[] b = new byte[size];
        d.get(at, b);
        return b;
    }

    private static byte[] littleEndian(BigInteger v, int size) {
        byte[] out = new byte[size];
        for (int i = 0; i < size; i++) {
            out[i] = v.shiftRight(8 * i).byteValue();
        }
        return out;
    }
}
