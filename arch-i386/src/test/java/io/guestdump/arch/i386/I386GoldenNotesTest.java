package io.guestdump.arch.i386;

import io.guestdump.arch.x86_64.X86Elf;
import io.guestdump.testkit.GoldenVmcore;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.typesafe.config.ConfigFactory;
import io.guestdump.arch.api.ArchContext;
import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.arch.x86_64.X86QemuCpuState;
import io.guestdump.core.notes.NoteSegmentBuilder;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfData;
import io.guestdump.elf.ElfHeader;
import io.guestdump.elf.Note;
import io.guestdump.elf.NoteEncoder;
import io.guestdump.testkit.Bytes;
import io.guestdump.testkit.GoldenFiles;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The whole PT_NOTE payload we write for the golden qemu-system-i386 guest equals the one QEMU 7.2 wrote. */
class I386GoldenNotesTest {

    static I386Architecture defaultArch() {
        return new I386Architecture(new ArchContext(ConfigFactory.defaultReference().getConfig("guestdump.arch.i386")));
    }

    static List<VcpuState> goldenCpus(I386Architecture arch, Path dir) throws Exception {
        return arch.parseMonitorRegisters(Files.readString(dir.resolve("info-registers-a.txt")), "info-registers-a.txt");
    }

    @Test
    void noteSegmentEqualsQemu72ByteForByte() throws Exception {
        Path dir = GoldenFiles.require("i386");
        Path elf = GoldenFiles.require("i386", "qemu-filter-odd.elf");
        List<Note> golden = GoldenVmcore.notes(elf);
        Note last = golden.get(golden.size() - 1);
        assertEquals("VMCOREINFO", last.owner());
        String vmcoreinfo = new String(last.desc(), StandardCharsets.UTF_8);
        // qemu-system-i386 has no kernel_gs_base (the monitor does not print it either): QEMU wrote 0
        for (Note n : golden.stream().filter(n -> n.owner().equals("QEMU")).toList()) {
            assertEquals(0, ElfData.LSB.wrap(n.desc()).getLong(X86QemuCpuState.KERNEL_GS_BASE_OFFSET));
        }
        I386Architecture arch = defaultArch();
        List<VcpuState> cpus = goldenCpus(arch, dir);
        GuestState guest = new GuestState("i386", GoldenVmcore.mtreeBlocks(dir.resolve("info-mtree-f.txt")), cpus,
                Map.of(), Optional.of(vmcoreinfo));

        DumpTarget target = arch.describe(guest);
        ElfHeader header = GoldenVmcore.header(elf);
        assertEquals(new DumpTarget(X86Elf.EM_386, ElfClass.ELF64, ElfData.LSB, 4096), target,
                "pc.bios ends exactly at 4 GiB, so QEMU upgrades the EM_386 dump to ELF64");
        assertEquals(header.machine(), target.machine());
        assertEquals(header.elfClass(), target.elfClass());

        List<Note> notes = NoteSegmentBuilder.build(arch.cpuNotes(guest, target), cpus, target, vmcoreinfo, List.of());
        Bytes.assertSameBytes(GoldenVmcore.noteSegment(elf), NoteEncoder.encode(notes, target.data()),
                "PT_NOTE of the i386 golden guest");
    }

    @Test
    void qemuOwnNotesDecodeToTheMonitorRegisters() throws Exception {
        Path dir = GoldenFiles.require("i386");
        List<Note> golden = GoldenVmcore.notes(GoldenFiles.require("i386", "qemu-filter-odd.elf"));
        I386Architecture arch = defaultArch();
        List<VcpuState> expected = goldenCpus(arch, dir);
        List<VcpuState> decoded = arch.decodeNotes(golden.subList(0, golden.size() - 1),
                new DumpTarget(X86Elf.EM_386, ElfClass.ELF64, ElfData.LSB, 4096));
        assertEquals(2, decoded.size());
        for (int i = 0; i < decoded.size(); i++) {
            VcpuState d = decoded.get(i);
            assertEquals(i, d.index());
            for (Map.Entry<String, BigInteger> e : d.registers().entrySet()) {
                assertEquals(expected.get(i).value(e.getKey()), e.getValue(), "CPU " + i + " " + e.getKey());
            }
            assertEquals(new BigInteger("da917b83", 16), d.value("eip"));
            assertFalse(d.has("r8"));
            assertFalse(d.has("kernel_gs_base"));
        }
    }
}
