package io.guestdump.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.core.inspect.VmcoreFile;
import io.guestdump.core.notes.NoteSegmentBuilder;
import io.guestdump.core.plugins.ArchitectureRegistry;
import io.guestdump.core.vmcore.ProgressListener;
import io.guestdump.elf.ElfConstants;
import io.guestdump.elf.Note;
import io.guestdump.testkit.Bytes;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** snapshot → vmcore → {@code elf:} that vmcore → the same bytes; filters and the VMCOREINFO search end to end. */
class ElfRedumpTest {
    private static final List<TestGuests.Block> BLOCKS = List.of(new TestGuests.Block(0, 0x3000),
            new TestGuests.Block(0x9000, 0x123), new TestGuests.Block(0x20000, 0x5000));
    private static ArchitectureRegistry registry;

    @TempDir
    Path dir;

    @BeforeAll
    static void load() {
        registry = TestGuests.registry();
    }

    @AfterAll
    static void unload() {
        registry.close();
    }

    private DumpResult dump(String source, Path out, Map<String, String> settings, Long begin, Long length) {
        GuestDump gd = new GuestDump(TestGuests.settings(dir, settings), registry);
        return gd.dump(new DumpRequest(Optional.of(source), out.toString(), Optional.ofNullable(begin),
                Optional.ofNullable(length), true), ProgressListener.NONE);
    }

    private DumpResult dump(String source, Path out) {
        return dump(source, out, Map.of(), null, null);
    }

    @ParameterizedTest
    @ValueSource(strings = {"toy64", "toy32", "toybe"})
    void redumpingOurOwnOutputGivesTheSameBytes(String machine) throws IOException {
        Path conf = TestGuests.snapshot(dir, machine, BLOCKS, 2);
        Path first = dir.resolve("first.elf");
        Path second = dir.resolve("second.elf");
        dump("snapshot:" + conf, first);
        DumpResult r = dump("elf:" + first, second);
        Bytes.assertSameBytes(Files.readAllBytes(first), Files.readAllBytes(second), machine + " re-dump");
        assertEquals(machine, r.machine());
        assertEquals("source vmcore", r.vmcoreinfoOrigin());
        // and once more from a bare path, recognised by its magic
        Path third = dir.resolve("third.elf");
        dump(second.toString(), third);
        Bytes.assertSameBytes(Files.readAllBytes(first), Files.readAllBytes(third), machine + " bare path");
    }

    @Test
    void redumpingAPnXnumVmcoreGivesTheSameBytes() throws IOException {
        int count = ElfConstants.PN_XNUM;
        byte[] ram = new byte[count * 16];
        for (int i = 0; i < ram.length; i++) {
            ram[i] = (byte) (i * 31 + (i >>> 8));
        }
        Files.write(dir.resolve("ram.bin"), ram);
        StringBuilder mem = new StringBuilder();
        for (int i = 0; i < count; i++) {
            mem.append("{start=").append(0x100000L + 32L * i).append(",size=16,file=ram.bin,file-offset=")
                    .append(16L * i).append("}\n");
        }
        Files.writeString(dir.resolve("regs.txt"), "CPU#0\nPC=10 SP=20\n");
        Path conf = dir.resolve("many.conf");
        Files.writeString(conf, "guest {\n arch = toybe\n cpu-state-from = regs.txt\n memory = [\n" + mem + "]\n}\n");
        Path first = dir.resolve("first.elf");
        Path second = dir.resolve("second.elf");
        dump("snapshot:" + conf, first);
        try (VmcoreFile f = VmcoreFile.open(first)) {
            assertEquals(ElfConstants.PN_XNUM, f.header().phnum());
        }
        dump("elf:" + first, second);
        Bytes.assertSameBytes(Files.readAllBytes(first), Files.readAllBytes(second), "PN_XNUM re-dump");
    }

    @Test
    void beginAndLengthWorkOnAVmcoreAsOnTheSnapshot() throws IOException {
        Path conf = TestGuests.snapshot(dir, "toy64", BLOCKS, 2);
        Path whole = dir.resolve("whole.elf");
        dump("snapshot:" + conf, whole);
        Path fromSnapshot = dir.resolve("a.elf");
        Path fromElf = dir.resolve("b.elf");
        dump("snapshot:" + conf, fromSnapshot, Map.of(), 0x2801L, 0x1f000L);
        dump("elf:" + whole, fromElf, Map.of(), 0x2801L, 0x1f000L);
        Bytes.assertSameBytes(Files.readAllBytes(fromSnapshot), Files.readAllBytes(fromElf), "filtered re-dump");
    }

    private Path snapshotWithNoteInMemory(long notePaddr, String text) throws IOException {
        Path conf = TestGuests.snapshot(dir, "toy64", BLOCKS, 1);
        Files.writeString(conf, Files.readString(conf).replace("  vmcoreinfo-from = vmcoreinfo.txt\n", ""));
        // plant the kernel's note in block 2 ([0x20000, 0x25000)), file b2.bin
        byte[] desc = text.getBytes(StandardCharsets.US_ASCII);
        ByteBuffer note = ByteBuffer.allocate(24 + desc.length).order(ByteOrder.LITTLE_ENDIAN);
        note.putInt(11).putInt(desc.length).putInt(0).put("VMCOREINFO\0\0".getBytes(StandardCharsets.US_ASCII))
                .put(desc);
        Path b2 = dir.resolve("b2.bin");
        byte[] block = Files.readAllBytes(b2);
        System.arraycopy(note.array(), 0, block, (int) (notePaddr - 0x20000), note.capacity());
        Files.write(b2, block);
        return conf;
    }

    @Test
    void vmcoreinfoIsFoundInGuestMemoryWhenTheSourceHasNone() throws IOException {
        String text = "OSRELEASE=6.1.0-found\nPAGESIZE=4096\nSYMBOL(init_uts_ns)=ffffffff82a13360\n";
        Path conf = snapshotWithNoteInMemory(0x22000, text);
        Path out = dir.resolve("found.elf");
        DumpResult r = dump("snapshot:" + conf, out);
        assertEquals("guest memory at 0x22000 (found by search)", r.vmcoreinfoOrigin());
        try (VmcoreFile f = VmcoreFile.open(out)) {
            List<Note> info = f.notes().stream()
                    .filter(n -> n.owner().equals(NoteSegmentBuilder.VMCOREINFO_OWNER)).toList();
            assertEquals(1, info.size());
            assertEquals(text, new String(info.get(0).desc(), StandardCharsets.US_ASCII));
        }
        // the re-dump keeps it, now as the source's own
        Path again = dir.resolve("again.elf");
        DumpResult r2 = dump("elf:" + out, again);
        assertEquals("source vmcore", r2.vmcoreinfoOrigin());
        Bytes.assertSameBytes(Files.readAllBytes(out), Files.readAllBytes(again), "re-dump of found VMCOREINFO");
    }

    @Test
    void theSearchCanBeTurnedOff() throws IOException {
        Path conf = snapshotWithNoteInMemory(0x22000, "OSRELEASE=6.1.0-found\n");
        DumpResult r = dump("snapshot:" + conf, dir.resolve("off.elf"),
                Map.of("guestdump.notes.vmcoreinfo-scan", "false"), null, null);
        assertNull(r.vmcoreinfoOrigin());
    }

    @Test
    void aSnapshotsOwnVmcoreinfoWinsOverMemory() throws IOException {
        Path conf = snapshotWithNoteInMemory(0x22000, "OSRELEASE=6.1.0-found\n");
        String text = Files.readString(conf);
        Files.writeString(conf, text.substring(0, text.lastIndexOf('}')) + "  vmcoreinfo-from = vmcoreinfo.txt\n}\n");
        DumpResult r = dump("snapshot:" + conf, dir.resolve("own.elf"));
        assertTrue(r.vmcoreinfoOrigin().startsWith("snapshot file"), r.vmcoreinfoOrigin());
    }
}
