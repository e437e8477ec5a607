package io.guestdump.arch.arm;

import io.guestdump.elf.Note;
import io.guestdump.elf.NoteEncoder;
import io.guestdump.testkit.GoldenFiles;
import io.guestdump.testkit.PluginContract;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The plugin contract on the golden aarch64 and arm guests: QEMU 7.2's CPU notes are the golden bytes. */
class ArmContractTest {
    @Test
    void aarch64GoldenGuestKeepsTheContract() throws IOException {
        ArmTestGuests.NoteSegment qemu = ArmTestGuests.readPtNote(GoldenFiles.require("aarch64", "qemu-filter-odd.elf"));
        List<Note> notes = NoteEncoder.decode(qemu.bytes(), qemu.header().data());
        Note vmcoreinfo = notes.get(notes.size() - 1);
        PluginContract.of(ArmTestGuests.plugin())
                .machine("aarch64")
                .monitorText(Files.readString(GoldenFiles.require("aarch64", "info-registers-a.txt")),
                        "aarch64/info-registers-a.txt")
                .memory(ArmTestGuests.smallMemory())
                .vmcoreinfo(new String(vmcoreinfo.desc(), StandardCharsets.UTF_8))
                .goldenNotes(NoteEncoder.encode(notes.subList(0, notes.size() - 1), qemu.header().data()),
                        "QEMU 7.2's aarch64 CPU notes")
                .verify();
    }

    @Test
    void armGoldenGuestKeepsTheContract() throws IOException {
        ArmTestGuests.NoteSegment qemu = ArmTestGuests.readPtNote(GoldenFiles.require("arm", "qemu-filter-odd.elf"));
        PluginContract.of(ArmTestGuests.plugin())
                .machine("arm")
                .monitorText(Files.readString(GoldenFiles.require("arm", "info-registers-a.txt")),
                        "arm/info-registers-a.txt")
                .memory(ArmTestGuests.smallMemory())
                .goldenNotes(qemu.bytes(), "QEMU 7.2's arm CPU notes")
                .verify();
    }
}
