package io.guestdump.arch.ppc64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfData;
import io.guestdump.elf.Note;
import io.guestdump.elf.NoteType;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How decodeNotes groups notes into vCPUs and what it refuses. */
class Ppc64NoteDecoderTest {
    private static final DumpTarget LE = new DumpTarget(Ppc64Elf.EM_PPC64, ElfClass.ELF64, ElfData.LSB, 65536);

    private static Note prstatus(int pid, long nip) {
        byte[] desc = new byte[Ppc64PrStatus.SIZE];
        ElfData.LSB.wrap(desc).putInt(Ppc64PrStatus.PID_OFFSET, pid).putLong(Ppc64PrStatus.offsetOf("nip"), nip);
        return new Note("CORE", NoteType.NT_PRSTATUS, desc);
    }

    @Test
    void vcpuIndexIsThePositionOfItsPrstatusNotPrPid() {
        List<VcpuState> cpus = Ppc64Fixtures.arch().decodeNotes(List.of(
                prstatus(0, 0x100),
                new Note("LINUX", Ppc64Elf.NT_PPC_VSX, new byte[Ppc64VsxRegSet.SIZE]),
                new Note("QEMU", 0, new byte[8]),
                prstatus(0, 0x200)), LE);
        assertEquals(List.of(0, 1), cpus.stream().map(VcpuState::index).toList());
        assertEquals(List.of(0x100L, 0x200L), cpus.stream().map(c -> c.u64("nip")).toList());
        assertTrue(cpus.get(0).has("vsrl0"));
        assertTrue(!cpus.get(1).has("vsrl0"));
    }

    @Test
    void aNoteBeforeAnyPrstatusIsRefused() {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Ppc64Fixtures.arch().decodeNotes(
                List.of(new Note("CORE", NoteType.NT_PRFPREG, new byte[Ppc64FpRegSet.SIZE]), prstatus(1, 0)), LE));
        assertTrue(e.getMessage().contains("note #0 (CORE type 0x2) comes before the first CORE type 1 note"), e.getMessage());
    }

    @Test
    void aWrongDescriptorSizeIsRefused() {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Ppc64Fixtures.arch().decodeNotes(
                List.of(prstatus(1, 0), new Note("CORE", NoteType.NT_PRFPREG, new byte[260])), LE));
        assertTrue(e.getMessage().contains("has n_descsz=260 but ppc64's is 264"), e.getMessage());
    }
}
