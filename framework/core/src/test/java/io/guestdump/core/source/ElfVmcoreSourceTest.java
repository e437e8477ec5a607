package io.guestdump.core.source;

import static io.guestdump.core.source.TestElf.pattern;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.core.inspect.VmcoreFile;
import io.guestdump.core.source.TestElf.Load;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfConstants;
import io.guestdump.elf.ElfData;
import io.guestdump.core.TestMachines;
import io.guestdump.elf.Note;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.PhysRange;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading vmcores back: machine, vCPUs, VMCOREINFO, carried notes, memory; QEMU 7.2's layout; refusals. */
class ElfVmcoreSourceTest {
    private static final String VMCOREINFO = "OSRELEASE=6.1.0-toy\nPAGESIZE=4096\n";
    private static final List<PhysRange> RANGES = List.of(new PhysRange(0, 0x3000), new PhysRange(0x8000, 0x8123),
            new PhysRange(0x10000, 0x12000));

    @TempDir
    Path dir;

    private LoadedGuest open(byte[] file) throws IOException {
        Path p = dir.resolve("in.elf");
        Files.write(p, file);
        return new ElfVmcoreSource(p).open(List.of(TestElf.TOY));
    }

    private static void assertPatternMemory(GuestState s, List<PhysRange> ranges) throws IOException {
        assertEquals(ranges, s.memory().blocks().stream().map(GuestBlock::range).toList());
        for (PhysRange r : ranges) {
            ByteBuffer b = ByteBuffer.allocate((int) r.length());
            s.memory().read(r.start(), b);
            assertArrayEquals(pattern(r.start(), (int) r.length()), b.array(), "bytes of " + r);
        }
    }

    @ParameterizedTest
    @CsvSource({"ELF64, LSB, toy64", "ELF32, LSB, toy32", "ELF64, MSB, toybe"})
    void readsOurOwnOutputBack(ElfClass c, ElfData d, String machine) throws IOException {
        DumpTarget t = TestElf.toyTarget(c, d);
        try (LoadedGuest g = open(TestElf.ours(t, RANGES, VMCOREINFO, List.of()))) {
            GuestState s = g.state();
            assertEquals(machine, s.machine());
            assertEquals(2, s.cpus().size());
            assertEquals(0x1001, s.cpus().get(1).u64("pc"));
            assertEquals(0x8001, s.cpus().get(1).u64("sp"));
            assertEquals(VMCOREINFO, s.vmcoreinfo().orElseThrow());
            assertEquals("source vmcore", g.vmcoreinfoOrigin());
            assertEquals(List.of(), g.carriedNotes());
            assertPatternMemory(s, RANGES);
        }
    }

    @Test
    void notesThePluginDoesNotWriteAreCarriedOverOnce() throws IOException {
        DumpTarget t = TestElf.toyTarget(ElfClass.ELF64, ElfData.LSB);
        Note unknown = new Note("GDTEST", 7, new byte[] {1, 2, 3, 4, 5});
        Note sameOwnerOtherType = new Note("CORE", 0x4711, new byte[] {9});
        try (LoadedGuest g = open(TestElf.ours(t, RANGES, null, List.of(unknown, sameOwnerOtherType)))) {
            assertEquals(List.of(unknown, sameOwnerOtherType), g.carriedNotes());
            assertTrue(g.state().vmcoreinfo().isEmpty());
            assertEquals(null, g.vmcoreinfoOrigin());
        }
    }

    @Test
    void aVmcoreinfoNoteThatIsNotUtf8IsCarriedAsItIs() throws IOException {
        DumpTarget t = TestElf.toyTarget(ElfClass.ELF64, ElfData.LSB);
        Note odd = new Note("VMCOREINFO", 0, new byte[] {'O', 'S', (byte) 0xff, '\n'});
        try (LoadedGuest g = open(TestElf.ours(t, RANGES, null, List.of(odd)))) {
            assertTrue(g.state().vmcoreinfo().isEmpty());
            assertEquals(List.of(odd), g.carriedNotes());
        }
    }

    @ParameterizedTest
    @CsvSource({"ELF64, MSB", "ELF64, LSB", "ELF32, LSB", "ELF32, MSB"})
    void readsQemu72sLayoutWithoutTrustingItsSectionHeaders(ElfClass c, ElfData d) throws IOException {
        DumpTarget t = TestElf.toyTarget(c, d);
        byte[] data = pattern(0x100123, 0x2345);
        byte[] file = TestElf.build(t, TestElf.toyNotes(t, 2, VMCOREINFO, List.of()),
                List.of(new Load(0, 0x100123, 0x2345, 0x2345)), data, true);
        Path p = dir.resolve("q.elf");
        Files.write(p, file);
        try (VmcoreFile f = VmcoreFile.open(p)) {
            assertTrue(f.warnings().stream().anyMatch(w -> w.contains("e_ehsize=8")), f.warnings().toString());
        }
        try (LoadedGuest g = open(file)) {
            assertEquals(2, g.state().cpus().size());
            assertEquals(VMCOREINFO, g.state().vmcoreinfo().orElseThrow());
            assertPatternMemory(g.state(), List.of(new PhysRange(0x100123, 0x100123 + 0x2345)));
        }
    }

    @Test
    void readsPnXnumFiles() throws IOException {
        List<PhysRange> many = new ArrayList<>();
        for (int i = 0; i < ElfConstants.PN_XNUM; i++) {
            many.add(PhysRange.ofLength(0x10000L + 0x20L * i, 0x10));
        }
        DumpTarget t = TestElf.toyTarget(ElfClass.ELF64, ElfData.MSB);
        byte[] file = TestElf.ours(t, many, VMCOREINFO, List.of());
        Path p = dir.resolve("x.elf");
        Files.write(p, file);
        try (VmcoreFile f = VmcoreFile.open(p)) {
            assertEquals(ElfConstants.PN_XNUM, f.header().phnum());
            assertEquals(ElfConstants.PN_XNUM + 1L, f.phnum());
        }
        try (LoadedGuest g = open(file)) {
            assertPatternMemory(g.state(), many);
        }
    }

    @Test
    void aMachineNoPluginReadsIsRefusedNamingIt() throws IOException {
        DumpTarget t = new DumpTarget(TestMachines.EM_S390, ElfClass.ELF64, ElfData.MSB, 4096);
        byte[] file = TestElf.ours(t, RANGES, null, List.of());
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> open(file));
        assertTrue(e.getMessage().contains("e_machine=22"), e.getMessage());
    }

    @Test
    void aFileWithoutCpuNotesIsRefused() throws IOException {
        DumpTarget t = TestElf.toyTarget(ElfClass.ELF64, ElfData.LSB);
        byte[] file = TestElf.build(t, List.of(new Note("GDTEST", 1, new byte[4])),
                List.of(new Load(0, 0x1000, 0x10, 0x10)), pattern(0x1000, 0x10), false);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> open(file));
        assertTrue(e.getMessage().contains("no vCPU state"), e.getMessage());
    }

    @Test
    void malformedCpuNotesAreInvalidInput() throws IOException {
        DumpTarget t = TestElf.toyTarget(ElfClass.ELF64, ElfData.LSB);
        byte[] file = TestElf.build(t, List.of(new Note("CORE", 1, new byte[3])),
                List.of(new Load(0, 0x1000, 0x10, 0x10)), pattern(0x1000, 0x10), false);
        assertThrows(InvalidInputException.class, () -> open(file));
    }

    @Test
    void pageSizeComesFromVmcoreinfo() {
        assertEquals(65536, ElfVmcoreSource.pageSize("OSRELEASE=x\nPAGESIZE=65536\n"));
        assertEquals(4096, ElfVmcoreSource.pageSize("OSRELEASE=x\nPAGESIZE=12345\n"));
        assertEquals(4096, ElfVmcoreSource.pageSize(null));
    }

    @Test
    void sourceSpecRecognisesElfByPrefixAndByMagic() throws IOException {
        Path p = dir.resolve("core");
        Files.write(p, TestElf.ours(TestElf.toyTarget(ElfClass.ELF64, ElfData.LSB), RANGES, null, List.of()));
        assertEquals("elf:" + p, SourceSpec.parse("elf:" + p).describe());
        assertEquals("elf:" + p, SourceSpec.parse(p.toString()).describe());
    }
}
