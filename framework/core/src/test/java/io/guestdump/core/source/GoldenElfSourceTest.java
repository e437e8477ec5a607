package io.guestdump.core.source;

import io.guestdump.arch.api.VmcoreinfoScanner;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.core.inspect.VmcoreFile;
import io.guestdump.core.notes.NoteSegmentBuilder;
import io.guestdump.core.plugins.ArchitectureRegistry;
import io.guestdump.elf.Note;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.PhysRange;
import io.guestdump.testkit.GoldenFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * QEMU 7.2's own dumps read through the ELF source (with a loose test plugin: real plugins are other modules):
 * the small filtered dump's one block holds the same bytes as the full dump at the same physical addresses, and
 * the VMCOREINFO search finds the guest's note in the full dump, equal to the one QEMU wrote where it wrote one.
 */
class GoldenElfSourceTest {
    private static final ArchitectureRegistry.Loaded GOLDEN =
            new ArchitectureRegistry.Loaded(new ElfSourceFuzzTest.GoldenReader(), "golden", "0", null);
    /** Where each golden guest's filtered dump starts, less 0x100123 (x86: the RAM block at 0xc0000). */
    private static final Map<String, Long> RAM_START = Map.of("x86_64", 0xc0000L, "i386", 0xc0000L, "aarch64", 0x40000000L,
            "arm", 0x40000000L, "ppc64le", 0L, "s390x", 0L);

    private static Optional<String> qemusVmcoreinfo(VmcoreFile f) {
        return f.notes().stream().filter(n -> n.owner().equals(NoteSegmentBuilder.VMCOREINFO_OWNER))
                .map(n -> new String(n.desc(), StandardCharsets.US_ASCII)).findFirst();
    }

    @ParameterizedTest
    @CsvSource({"x86_64, true, LITTLE_ENDIAN", "i386, true, LITTLE_ENDIAN", "aarch64, true, LITTLE_ENDIAN",
            "arm, false, LITTLE_ENDIAN", "ppc64le, false, LITTLE_ENDIAN", "s390x, false, BIG_ENDIAN"})
    void filteredDumpMatchesFullDumpAndTheScanFindsTheGuestsVmcoreinfo(String arch, boolean qemuWroteVmcoreinfo,
            String guestOrder) throws IOException {
        Path odd = GoldenFiles.require(arch, "qemu-filter-odd.elf");
        Path full = GoldenFiles.unpackedFull(arch);
        long begin = RAM_START.get(arch) + 0x100123;
        try (LoadedGuest small = new ElfVmcoreSource(odd).open(List.of(GOLDEN));
                LoadedGuest whole = new ElfVmcoreSource(full).open(List.of(GOLDEN));
                VmcoreFile fullFile = VmcoreFile.open(full)) {
            List<GuestBlock> blocks = small.state().memory().blocks();
            assertEquals(List.of(PhysRange.ofLength(begin, 0x2345)), blocks.stream().map(GuestBlock::range).toList());
            assertEquals(2, small.state().cpus().size());
            ByteBuffer a = ByteBuffer.allocate(0x2345);
            ByteBuffer b = ByteBuffer.allocate(0x2345);
            small.state().memory().read(begin, a);
            whole.state().memory().read(begin, b);
            assertArrayEquals(b.array(), a.array(), arch + ": filtered bytes equal the full dump's");
            assertEquals(qemuWroteVmcoreinfo, small.state().vmcoreinfo().isPresent(), arch + " VMCOREINFO");

            GuestMemory memory = whole.state().memory();
            VmcoreinfoScanner.Found found = VmcoreinfoScanner.find(memory).orElseThrow(
                    () -> new AssertionError(arch + ": no VMCOREINFO note found in guest memory"));
            assertEquals(ByteOrder.BIG_ENDIAN.toString().equals(guestOrder) ? ByteOrder.BIG_ENDIAN
                    : ByteOrder.LITTLE_ENDIAN, found.order());
            assertTrue(found.text().startsWith("OSRELEASE=6.1.0-"), found.text());
            assertTrue(found.text().contains("\nPAGESIZE="), found.text());
            if (qemuWroteVmcoreinfo) {
                assertEquals(qemusVmcoreinfo(fullFile).orElseThrow(), found.text(), arch + ": found = QEMU's");
                assertEquals(small.state().vmcoreinfo().orElseThrow(), found.text());
            } else {
                assertEquals(Optional.empty(), qemusVmcoreinfo(fullFile));
            }
            List<Note> carried = small.carriedNotes();
            assertTrue(carried.stream().noneMatch(n -> n.owner().equals("CORE") && n.type() == 1),
                    "notes the plugin writes are not carried");
        }
    }
}
