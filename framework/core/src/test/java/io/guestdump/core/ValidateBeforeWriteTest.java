package io.guestdump.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.core.notes.NoteSegmentBuilder;
import io.guestdump.core.plugins.ArchitectureRegistry;
import io.guestdump.core.source.SnapshotSource;
import io.guestdump.core.source.LoadedGuest;
import io.guestdump.core.vmcore.ProgressListener;
import io.guestdump.elf.NoteEncoder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 15: notes that a reader would reject are refused before the output file exists. */
class ValidateBeforeWriteTest {
    @TempDir
    Path dir;

    ArchitectureRegistry registry;
    GuestDump dump;

    @BeforeEach
    void setUp() {
        registry = TestGuests.registry();
        dump = new GuestDump(TestGuests.settings(dir, Map.of()), registry);
    }

    @AfterEach
    void tearDown() {
        registry.close();
    }

    @Test
    void anOversizedVmcoreinfoIsRefusedBeforeTheFirstByte() throws IOException {
        Path snap = TestGuests.snapshot(dir, "toy64", List.of(new TestGuests.Block(0x1000, 4096)), 1);
        Files.writeString(dir.resolve("vmcoreinfo.txt"), "OSRELEASE=6.1.0-toy\n" + "X=y\n".repeat(300_000));
        Path out = dir.resolve("vmcore");
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> dump.dump(new DumpRequest(
                Optional.of("snapshot:" + snap), out.toString(), Optional.empty(), Optional.empty(), false),
                ProgressListener.NONE));
        // the snapshot reader (64 KiB) or the note check (1 MiB) refuses it, before the output exists
        assertTrue(e.getMessage().toLowerCase().contains("vmcoreinfo"), e.getMessage());
        assertFalse(Files.exists(out));
        try (Stream<Path> s = Files.list(dir)) {
            assertTrue(s.noneMatch(p -> p.toString().endsWith(".partial")));
        }
    }

    @Test
    void thePlannedNoteSizeIsTheEncodedSize() throws IOException {
        for (int cpus : new int[] {1, 2, 7}) {
            Path d = Files.createDirectories(dir.resolve("g" + cpus));
            Path snap = TestGuests.snapshot(d, "toy64", List.of(new TestGuests.Block(0x1000, 4096)), cpus);
            try (LoadedGuest g = new SnapshotSource(snap).open(registry)) {
                PreparedDump p = dump.prepare(g, Optional.empty(), false);
                var table = g.arch().arch().cpuNotes(p.state(), p.target());
                assertEquals(NoteEncoder.encode(p.notes(), p.target().data()).length,
                        NoteSegmentBuilder.encodedSize(table, cpus, p.vmcoreinfo(), List.of()));
            }
        }
    }

    @Test
    void notesForTooManyVcpusAreRefusedFromTheTableAlone() {
        // x86_64-sized notes (PRSTATUS 336 bytes, QEMU 440 bytes): 200,000 vCPUs would need 163 MB of notes
        List<io.guestdump.arch.api.CpuNote> table = List.of(
                new io.guestdump.arch.api.CpuNote("CORE", 1, io.guestdump.arch.api.NoteGroup.ARCH, 336, (c, b) -> { }),
                new io.guestdump.arch.api.CpuNote("QEMU", 0, io.guestdump.arch.api.NoteGroup.QEMU, 440, (c, b) -> { }));
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> GuestDump.checkNoteSize(table, 200_000, null, List.of()));
        assertTrue(e.getMessage().contains("the notes of 200000 vCPUs would take 163200000 bytes"), e.getMessage());
        GuestDump.checkNoteSize(table, 4096, "OSRELEASE=6.1\n", List.of());
    }
}
