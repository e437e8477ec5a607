package io.guestdump.arch.x86_64;

import io.guestdump.elf.ElfData;
import io.guestdump.elf.Note;
import io.guestdump.elf.NoteEncoder;
import io.guestdump.testkit.GoldenFiles;
import io.guestdump.testkit.GoldenVmcore;
import io.guestdump.testkit.PluginContract;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The plugin contract on the golden x86_64 guest: QEMU 7.2's CPU notes are the golden bytes. */
class X86_64ContractTest {
    @Test
    void goldenGuestKeepsTheContract() throws Exception {
        Path dir = GoldenFiles.require("x86_64");
        List<Note> golden = GoldenVmcore.notes(GoldenFiles.require("x86_64", "qemu-filter-odd.elf"));
        X86_64Architecture arch = X86_64GoldenNotesTest.defaultArch();
        List<Note> cpuNotes = golden.subList(0, golden.size() - 1); // QEMU writes VMCOREINFO last
        PluginContract.of(arch)
                .cpus(X86_64GoldenNotesTest.goldenCpus(arch, dir, golden))
                .goldenNotes(NoteEncoder.encode(cpuNotes, ElfData.LSB), "QEMU 7.2's x86_64 CPU notes")
                .verify();
    }
}
