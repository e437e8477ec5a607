package io.guestdump.arch.ppc64;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.guestdump.arch.api.CpuNote;
import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfData;
import io.guestdump.elf.NoteType;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Field-offset tests: each named field read at its absolute offset, in the dump's byte order. */
class Ppc64LayoutTest {
    private static final BigInteger VR0 = new BigInteger("00112233445566778899aabbccddeeff", 16);

    private static VcpuState cpu() {
        VcpuState.Builder b = VcpuState.builder(6);
        for (int i = 0; i < 32; i++) {
            b.set("gpr" + i, 0x1000_0000_0000_0000L + i);
            b.set("fpr" + i, 0x2000_0000_0000_0000L + i);
            b.set("vsrl" + i, 0x3000_0000_0000_0000L + i);
        }
        b.set("nip", 0xc000_0000_000e_1130L).set("msr", 0x8000_0000_0280_b033L).set("orig_gpr3", 0x33)
                .set("ctr", 0xc7).set("lr", 0x11).set("xer", 0x78)
                .set("cr", Ppc64Registers.packCr(new int[] {4, 4, 0, 0, 0, 8, 8, 0xb}))
                .set("softe", 1).set("trap", 0x300).set("dar", 0xdead).set("dsisr", 0x4000_0000L).set("result", 7)
                .set("fpscr", 0x2000).set("vr0", VR0).set("vr31", BigInteger.ONE).set("vscr", 0x10000)
                .set("vrsave", 0xffff_ffffL).set("spe_acc", 0x0102_0304_0506_0708L).set("spefscr", 0x0a0b0c0d);
        return b.build();
    }

    private static ByteBuffer write(int type, ElfData data) {
        DumpTarget target = new DumpTarget(Ppc64Elf.EM_PPC64, ElfClass.ELF64, data, 65536);
        CpuNote row = Ppc64Fixtures.arch().cpuNotes(Ppc64Fixtures.guest(List.of(cpu()), Map.of()), target).stream()
                .filter(r -> r.type() == type).findFirst().orElseThrow();
        ByteBuffer out = data.allocate(row.descSize());
        row.writer().write(cpu(), out);
        return data.wrap(out.array());
    }

    @Test
    void crPacksEightFieldsWithCr0InTheTopNibble() {
        assertEquals(0x44000888L, Ppc64Registers.packCr(new int[] {4, 4, 0, 0, 0, 8, 8, 8}));
        assertEquals(0xf0000001L, Ppc64Registers.packCr(new int[] {0xf, 0, 0, 0, 0, 0, 0, 1}));
        assertArrayEquals(new int[] {4, 4, 0, 0, 0, 8, 8, 0xb}, Ppc64Registers.unpackCr(0x440008_8bL));
    }

    @ParameterizedTest
    @EnumSource(ElfData.class)
    void prstatusFieldsSitAtTheirOffsets(ElfData data) {
        ByteBuffer d = write(NoteType.NT_PRSTATUS, data);
        assertEquals(504, d.capacity());
        // pr_pid: vCPU index 6 + 1
        assertEquals(7, d.getInt(32));
        // pr_reg[0] = gpr0, pr_reg[31] = gpr31
        assertEquals(0x1000_0000_0000_0000L, d.getLong(112));
        assertEquals(0x1000_0000_0000_001fL, d.getLong(112 + 31 * 8));
        // nip, msr, orig_gpr3, ctr, link, xer, ccr
        assertEquals(0xc000_0000_000e_1130L, d.getLong(368));
        assertEquals(0x8000_0000_0280_b033L, d.getLong(376));
        assertEquals(0x33, d.getLong(384));
        assertEquals(0xc7, d.getLong(392));
        assertEquals(0x11, d.getLong(400));
        assertEquals(0x78, d.getLong(408));
        assertEquals(0x4400088bL, d.getLong(416));
        // softe, trap, dar, dsisr, result
        assertEquals(1, d.getLong(424));
        assertEquals(0x300, d.getLong(432));
        assertEquals(0xdead, d.getLong(440));
        assertEquals(0x4000_0000L, d.getLong(448));
        assertEquals(7, d.getLong(456));
        // pr_reg[44..47] padding, pr_fpvalid, tail padding: zero
        for (int off = 464; off < 504; off++) {
            assertEquals(0, d.get(off), "byte " + off);
        }
        assertEquals(Ppc64PrStatus.offsetOf("cr"), 416);
        // the 32 bytes before pr_pid and the 76 after it are zero
        assertEquals(0, d.getLong(0) | d.getLong(8) | d.getLong(16) | d.getLong(24));
        for (int off = 36; off < 112; off++) {
            assertEquals(0, d.get(off), "byte " + off);
        }
    }

    @Test
    void prstatusIsByteSwappedFieldByFieldBetweenOrders() {
        ByteBuffer be = write(NoteType.NT_PRSTATUS, ElfData.MSB);
        ByteBuffer le = write(NoteType.NT_PRSTATUS, ElfData.LSB);
        assertEquals(HexFormat.of().formatHex(new byte[] {0, 0, 0, 7}),
                HexFormat.of().formatHex(Arrays.copyOfRange(be.array(), 32, 36)));
        assertEquals(HexFormat.of().formatHex(new byte[] {7, 0, 0, 0}),
                HexFormat.of().formatHex(Arrays.copyOfRange(le.array(), 32, 36)));
        // every pr_reg slot is the same u64 with its bytes reversed, not the whole buffer
        for (int slot = 0; slot < Ppc64PrStatus.REG_SLOTS; slot++) {
            int off = Ppc64PrStatus.REGS_OFFSET + slot * 8;
            byte[] big = Arrays.copyOfRange(be.array(), off, off + 8);
            byte[] little = Arrays.copyOfRange(le.array(), off, off + 8);
            for (int i = 0; i < 4; i++) {
                byte t = little[i];
                little[i] = little[7 - i];
                little[7 - i] = t;
            }
            assertArrayEquals(big, little, "slot " + slot);
            assertEquals(be.getLong(off), le.getLong(off), "slot " + slot);
        }
    }

    @Test
    void vmxPlacesVr0AsA128BitValueInBigEndianOrder() {
        ByteBuffer d = write(Ppc64Elf.NT_PPC_VMX, ElfData.MSB);
        assertEquals(544, d.capacity());
        // vr0 @0: most significant byte first
        assertEquals("00112233445566778899aabbccddeeff", HexFormat.of().formatHex(d.array(), 0, 16));
        // vr31 @496 = 1: last byte
        assertEquals("00000000000000000000000000000001", HexFormat.of().formatHex(d.array(), 496, 512));
        // quadword 32: pad 12, vscr u32 in the last word @524
        assertEquals("000000000000000000000000" + "00010000", HexFormat.of().formatHex(d.array(), 512, 528));
        // quadword 33: vrsave u32 in the first word @528, then pad 12
        assertEquals("ffffffff" + "000000000000000000000000", HexFormat.of().formatHex(d.array(), 528, 544));
    }

    @Test
    void vmxPlacesVr0AsA128BitValueInLittleEndianOrder() {
        ByteBuffer d = write(Ppc64Elf.NT_PPC_VMX, ElfData.LSB);
        // vr0 @0: least significant byte first (QEMU: low doubleword first, each little-endian)
        assertEquals("ffeeddccbbaa99887766554433221100", HexFormat.of().formatHex(d.array(), 0, 16));
        assertEquals(0x8899aabbccddeeffL, d.getLong(0));
        assertEquals(0x0011223344556677L, d.getLong(8));
        assertEquals("01000000000000000000000000000000", HexFormat.of().formatHex(d.array(), 496, 512));
        assertEquals(0x10000, d.getInt(Ppc64VmxRegSet.VSCR_OFFSET));
        assertEquals("00000100", HexFormat.of().formatHex(d.array(), 524, 528));
        assertEquals(-1, d.getInt(Ppc64VmxRegSet.VRSAVE_OFFSET));
    }

    @ParameterizedTest
    @EnumSource(ElfData.class)
    void fpVsxAndSpeFieldsSitAtTheirOffsets(ElfData data) {
        ByteBuffer fp = write(NoteType.NT_PRFPREG, data);
        assertEquals(264, fp.capacity());
        assertEquals(0x2000_0000_0000_0000L, fp.getLong(0));
        assertEquals(0x2000_0000_0000_001fL, fp.getLong(248));
        assertEquals(0x2000, fp.getLong(256));

        ByteBuffer vsx = write(Ppc64Elf.NT_PPC_VSX, data);
        assertEquals(256, vsx.capacity());
        assertEquals(0x3000_0000_0000_0000L, vsx.getLong(0));
        assertEquals(0x3000_0000_0000_001fL, vsx.getLong(248));

        ByteBuffer spe = write(Ppc64Elf.NT_PPC_SPE, data);
        assertEquals(140, spe.capacity());
        for (int off = 0; off < 128; off++) {
            assertEquals(0, spe.get(off), "evr byte " + off);
        }
        assertEquals(0x0102_0304_0506_0708L, spe.getLong(128));
        assertEquals(0x0a0b0c0d, spe.getInt(136));
    }
}
