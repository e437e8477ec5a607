package io.guestdump.arch.riscv64;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfData;
import io.guestdump.elf.Note;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Each field of {@code struct elf_prstatus} at its absolute offset, in both byte orders (Netty encoder-test style). */
class Riscv64PrStatusFieldOffsetTest {

    private static VcpuState cpu() {
        VcpuState.Builder b = VcpuState.builder(4).set("pc", 0xffff_ffff_8000_2000L);
        for (int i = 1; i < 32; i++) {
            b.set("x" + i, 0x0101_0101_0101_0100L * i + i);
        }
        return b.set("satp", 0xa000_0000_0008_82ccL).set("f3", 7).build();
    }

    private static ByteBuffer written(ElfData data) {
        ByteBuffer out = data.allocate(Riscv64PrStatus.SIZE);
        Riscv64PrStatus.FRAME.write(cpu(), out);
        return ByteBuffer.wrap(out.array()).order(data.order());
    }

    @Test
    void littleEndianFieldsAtTheirOffsets() {
        check(ElfData.LSB);
    }

    @Test
    void bigEndianFieldsAtTheirOffsets() {
        check(ElfData.MSB);
    }

    private static void check(ElfData data) {
        ByteBuffer b = written(data);
        assertEquals(376, b.capacity(), "sizeof(struct elf_prstatus)");
        // pad 32: pr_info, pr_cursig, pr_sigpend, pr_sighold are 0
        for (int i = 0; i < 32; i++) {
            assertEquals(0, b.get(i), "pad byte " + i);
        }
        // pr_pid = vCPU index + 1
        assertEquals(5, b.getInt(32));
        // pr_ppid .. pr_cstime: 76 bytes of 0
        for (int i = 36; i < 112; i++) {
            assertEquals(0, b.get(i), "pad byte " + i);
        }
        // pr_reg[0] = pc
        assertEquals(0xffff_ffff_8000_2000L, b.getLong(112));
        // pr_reg[1..31] = x1 (ra) .. x31 (t6)
        assertEquals(0x0101_0101_0101_0100L + 1, b.getLong(120), "ra");
        assertEquals(0x0101_0101_0101_0100L * 2 + 2, b.getLong(128), "sp");
        assertEquals(0x0101_0101_0101_0100L * 31 + 31, b.getLong(360), "t6");
        // pr_fpvalid = 0, then 4 bytes of padding
        assertEquals(0, b.getInt(368));
        assertEquals(0, b.getInt(372));
    }

    @Test
    void swappingTheByteOrderReversesEachField() {
        // both read little-endian: each field of the big-endian file is the little-endian one byte-reversed
        ByteBuffer le = written(ElfData.LSB).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer be = written(ElfData.MSB).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(5, le.getInt(32));
        assertEquals(Integer.reverseBytes(le.getInt(32)), be.getInt(32));
        for (int off = 112; off < 368; off += 8) {
            assertEquals(Long.reverseBytes(le.getLong(off)), be.getLong(off), "u64 at " + off);
        }
    }

    @Test
    void decodeReadsBackWhatWriteWrote() {
        for (ElfData data : ElfData.values()) {
            DumpTarget target = new DumpTarget(Riscv64Architecture.EM_RISCV, ElfClass.ELF64, data, 4096);
            byte[] desc = written(data).array();
            List<VcpuState> back = Riscv64Guests.plugin().decodeNotes(List.of(new Note("CORE", 1, desc)), target);
            for (String name : Riscv64PrStatus.REGISTERS) {
                assertEquals(cpu().value(name), back.get(0).value(name), data + " " + name);
            }
            assertEquals(data == ElfData.MSB, back.get(0).has("mstatus"), "a big-endian file keeps mstatus.SBE");
            assertEquals(4, back.get(0).index(), "the vCPU index comes back from pr_pid");
        }
        assertEquals(ByteOrder.LITTLE_ENDIAN, ElfData.LSB.order());
    }
}
