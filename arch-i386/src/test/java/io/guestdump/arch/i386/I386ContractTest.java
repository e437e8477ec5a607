package io.guestdump.arch.i386;

import io.guestdump.elf.ElfData;
import io.guestdump.elf.Note;
import io.guestdump.elf.NoteEncoder;
import io.guestdump.testkit.GoldenFiles;
import io.guestdump.testkit.GoldenVmcore;
import io.guestdump.testkit.PluginContract;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The plugin contract on the golden qemu-system-i386 guest: QEMU 7.2's CPU notes are the golden bytes. */
class I386ContractTest {
    @Test
    void goldenGuestKeepsTheContract() throws Exception {
        Path dir = GoldenFiles.require("i386");
        List<Note> golden = GoldenVmcore.notes(GoldenFiles.require("i386", "qemu-filter-odd.elf"));
        PluginContract.of(I386GoldenNotesTest.defaultArch())
                .monitorText(Files.readString(dir.resolve("info-registers-a.txt")), "i386/info-registers-a.txt")
                .memory(GoldenVmcore.mtreeBlocks(dir.resolve("info-mtree-f.txt")))
                .goldenNotes(NoteEncoder.encode(golden.subList(0, golden.size() - 1), ElfData.LSB),
                        "QEMU 7.2's i386 CPU notes")
                .verify();
    }
}
