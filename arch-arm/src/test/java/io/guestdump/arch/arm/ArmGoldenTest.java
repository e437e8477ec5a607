package io.guestdump.arch.arm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfData;
import io.guestdump.elf.Note;
import io.guestdump.elf.NoteEncoder;
import io.guestdump.testkit.Bytes;
import io.guestdump.testkit.GoldenFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Compares with QEMU 7.2's own dumps of the golden guests (cortex-a57 aarch64 and cortex-a15 arm, 2 vCPUs each):
 * the notes built from the guest's {@code info registers -a} text equal QEMU's PT_NOTE byte for byte.
 */
class ArmGoldenTest {
    private final ArmArchitecture plugin = ArmTestGuests.plugin();

    private static String vmcoreinfoOf(List<Note> notes) {
        Note last = notes.get(notes.size() - 1);
        assertEquals("VMCOREINFO", last.owner(), "the golden aarch64 PT_NOTE ends with VMCOREINFO");
        return new String(last.desc(), StandardCharsets.UTF_8);
    }

    private GuestState golden(String arch, String vmcoreinfo) throws IOException {
        String text = Files.readString(GoldenFiles.require(arch, "info-registers-a.txt"));
        List<VcpuState> cpus = plugin.parseMonitorRegisters(text, arch + "/info-registers-a.txt");
        return ArmTestGuests.guest(arch, cpus, vmcoreinfo);
    }

    @Test
    void describeAarch64GoldenGuestTakesPageSizeFromVmcoreinfo() throws IOException {
        ArmTestGuests.NoteSegment qemu =
                ArmTestGuests.readPtNote(GoldenFiles.require("aarch64", "qemu-filter-odd.elf"));
        String vmcoreinfo = vmcoreinfoOf(NoteEncoder.decode(qemu.bytes(), qemu.header().data()));
        DumpTarget target = plugin.describe(golden("aarch64", vmcoreinfo));
        assertEquals(new DumpTarget(ArmElf.EM_AARCH64, ElfClass.ELF64, ElfData.LSB, 4096), target);
        // the class, byte order and machine are QEMU's; the page size is our deliberate difference (QEMU: 65536)
        assertEquals(qemu.header().elfClass(), target.elfClass());
        assertEquals(qemu.header().data(), target.data());
        assertEquals(qemu.header().machine(), target.machine());
    }

    @Test
    void describeAarch64GoldenGuestWithoutVmcoreinfoUsesQemuPageSize() throws IOException {
        DumpTarget target = plugin.describe(golden("aarch64", null));
        assertEquals(new DumpTarget(ArmElf.EM_AARCH64, ElfClass.ELF64, ElfData.LSB, 65536), target);
    }

    @Test
    void describeArmGoldenGuest() throws IOException {
        ArmTestGuests.NoteSegment qemu = ArmTestGuests.readPtNote(GoldenFiles.require("arm", "qemu-filter-odd.elf"));
        DumpTarget target = plugin.describe(golden("arm", null));
        assertEquals(new DumpTarget(ArmElf.EM_ARM, ElfClass.ELF32, ElfData.LSB, 4096), target);
        assertEquals(qemu.header().elfClass(), target.elfClass());
        assertEquals(qemu.header().data(), target.data());
        assertEquals(qemu.header().machine(), target.machine());
    }

    @Test
    void decodingQemusAarch64NotesGivesTheMonitorRegisters() throws IOException {
        ArmTestGuests.NoteSegment qemu =
                ArmTestGuests.readPtNote(GoldenFiles.require("aarch64", "qemu-filter-odd.elf"));
        List<Note> notes = NoteEncoder.decode(qemu.bytes(), qemu.header().data());
        GuestState guest = golden("aarch64", null);
        List<VcpuState> decoded = plugin.decodeNotes(notes.subList(0, notes.size() - 1),
                new DumpTarget(ArmElf.EM_AARCH64, ElfClass.ELF64, ElfData.LSB, 65536));
        assertEquals(guest.cpus(), decoded);
    }

    @Test
    void decodingQemusArmNotesGivesTheMonitorRegisters() throws IOException {
        ArmTestGuests.NoteSegment qemu = ArmTestGuests.readPtNote(GoldenFiles.require("arm", "qemu-filter-odd.elf"));
        List<Note> notes = NoteEncoder.decode(qemu.bytes(), qemu.header().data());
        GuestState guest = golden("arm", null);
        List<VcpuState> decoded = plugin.decodeNotes(notes, new DumpTarget(ArmElf.EM_ARM, ElfClass.ELF32,
                ElfData.LSB, 4096));
        assertEquals(guest.cpus(), decoded);
    }
}
