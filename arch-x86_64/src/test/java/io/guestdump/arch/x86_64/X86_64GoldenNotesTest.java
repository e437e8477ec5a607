package io.guestdump.arch.x86_64;

import io.guestdump.testkit.GoldenVmcore;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.ConfigFactory;
import io.guestdump.arch.api.ArchContext;
import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.core.notes.NoteSegmentBuilder;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfData;
import io.guestdump.elf.Note;
import io.guestdump.elf.NoteEncoder;
import io.guestdump.testkit.Bytes;
import io.guestdump.testkit.GoldenFiles;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The whole PT_NOTE payload we write for the golden x86_64 guest equals the one QEMU 7.2 wrote. */
class X86_64GoldenNotesTest {

    static X86_64Architecture defaultArch() {
        return new X86_64Architecture(
                new ArchContext(ConfigFactory.defaultReference().getConfig("guestdump.arch.x86_64")));
    }

    /**
     * The golden vCPUs as a snapshot would give them: the monitor text, plus {@code kernel_gs_base}, which the
     * monitor does not print and a snapshot's {@code cpus} supplies (here: the value QEMU put in its note).
     */
    static List<VcpuState> goldenCpus(X86_64Architecture arch, Path dir, List<Note> golden) throws Exception {
        List<VcpuState> parsed = arch.parseMonitorRegisters(
                Files.readString(dir.resolve("info-registers-a.txt")), "info-registers-a.txt");
        List<Note> qemu = golden.stream().filter(n -> n.owner().equals("QEMU")).toList();
        List<VcpuState> cpus = new ArrayList<>();
        for (int i = 0; i < parsed.size(); i++) {
            long kgsb = ElfData.LSB.wrap(qemu.get(i).desc()).getLong(X86QemuCpuState.KERNEL_GS_BASE_OFFSET);
            cpus.add(parsed.get(i).with(Map.of(X86Registers.KERNEL_GS_BASE,
                    new BigInteger(Long.toUnsignedString(kgsb)))));
        }
        return cpus;
    }

    static String vmcoreinfo(List<Note> golden) {
        Note last = golden.get(golden.size() - 1);
        assertEquals("VMCOREINFO", last.owner(), "QEMU writes the guest's VMCOREINFO note last");
        return new String(last.desc(), StandardCharsets.UTF_8);
    }

    @Test
    void describeOfTheGoldenBlockLayoutIsElf64X86_64() throws Exception {
        Path dir = GoldenFiles.require("x86_64");
        X86_64Architecture arch = defaultArch();
        List<VcpuState> cpus = arch.parseMonitorRegisters(
                Files.readString(dir.resolve("info-registers-a.txt")), "info-registers-a.txt");
        GuestState guest = new GuestState("x86_64", GoldenVmcore.mtreeBlocks(dir.resolve("info-mtree-f.txt")), cpus,
                Map.of(), Optional.empty());
        DumpTarget target = arch.describe(guest);
        assertEquals(X86Elf.EM_X86_64, target.machine());
        assertEquals(ElfClass.ELF64, target.elfClass());
        assertEquals(ElfData.LSB, target.data());
        assertEquals(4096, target.pageSize());
        assertEquals(GoldenVmcore.header(GoldenFiles.require("x86_64", "qemu-filter-odd.elf")).machine(),
                target.machine());
    }

    @Test
    void qemuOwnNotesDecodeToTheMonitorRegisters() throws Exception {
        Path dir = GoldenFiles.require("x86_64");
        List<Note> golden = GoldenVmcore.notes(GoldenFiles.require("x86_64", "qemu-filter-odd.elf"));
        X86_64Architecture arch = defaultArch();
        List<VcpuState> expected = goldenCpus(arch, dir, golden);
        List<VcpuState> decoded = arch.decodeNotes(golden.subList(0, golden.size() - 1),
                new DumpTarget(X86Elf.EM_X86_64, ElfClass.ELF64, ElfData.LSB, 4096));
        assertEquals(expected.size(), decoded.size());
        for (int i = 0; i < decoded.size(); i++) {
            VcpuState d = decoded.get(i);
            assertEquals(expected.get(i).index(), d.index());
            // no note holds EFER: the decoder infers long mode (LME | LMA) from the x86_64 prstatus layout
            assertEquals(0x500, d.u64("efer") & 0x500, "CPU " + i + " decoded as in long mode");
            for (Map.Entry<String, BigInteger> e : d.registers().entrySet()) {
                if (e.getKey().equals("efer")) {
                    continue;
                }
                assertEquals(expected.get(i).value(e.getKey()), e.getValue(),
                        "CPU " + i + " " + e.getKey() + " decoded from QEMU's notes");
            }
            assertEquals(true, d.has(X86Registers.KERNEL_GS_BASE), "QEMU 7.2 notes are 440 bytes");
        }
    }
}
