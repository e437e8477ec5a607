package io.guestdump.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.core.plugins.ArchitectureRegistry;
import io.guestdump.core.vmcore.ProgressListener;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 13: the VMCOREINFO search and a dump level's zero-page search report their progress, each as a phase. */
class ProgressPhasesTest {
    @TempDir
    Path dir;

    ArchitectureRegistry registry;

    @BeforeEach
    void setUp() {
        registry = TestGuests.registry();
    }

    @AfterEach
    void tearDown() {
        registry.close();
    }

    @Test
    void theSearchThenTheWritingAreReportedEachToItsTotal() throws IOException {
        int size = 12 << 20;
        Path snap = TestGuests.snapshot(dir, "toy64", List.of(new TestGuests.Block(0, size)), 1);
        // no VMCOREINFO in the snapshot: guestdump searches all of memory for the note
        Files.writeString(snap, Files.readString(snap).replace("  vmcoreinfo-from = vmcoreinfo.txt\n", ""));
        io.guestdump.core.vmcore.RecordingProgress listener = new io.guestdump.core.vmcore.RecordingProgress();
        List<String> events = listener.events;
        new GuestDump(TestGuests.settings(dir, Map.of()), registry).dump(new DumpRequest(Optional.of("snapshot:"
                + snap), dir.resolve("v").toString(), Optional.empty(), Optional.empty(), false), listener);
        int writing = events.indexOf("writing");
        assertEquals("searching for VMCOREINFO", events.get(0), events.toString());
        assertTrue(events.subList(1, writing).containsAll(List.of((4 << 20) + "/" + size, size + "/" + size)),
                events.toString());
        assertTrue(writing > 0 && events.get(events.size() - 1).matches("(\\d+)/\\1"), events.toString());
    }

    @Test
    void theZeroPageSearchOfADumpLevelIsAPhaseBeforeTheWriting() throws IOException {
        int size = 12 << 20;
        Path snap = TestGuests.snapshot(dir, "toy64", List.of(new TestGuests.Block(0, size)), 1);
        io.guestdump.core.vmcore.RecordingProgress listener = new io.guestdump.core.vmcore.RecordingProgress();
        List<String> events = listener.events;
        // level 1 in ELF: every page is read for zeros before the layout is planned
        new GuestDump(TestGuests.settings(dir, Map.of()), registry).dump(new DumpRequest(Optional.of("snapshot:"
                + snap), dir.resolve("v").toString(), Optional.empty(), Optional.empty(), false, false, "elf", false,
                Optional.of(1)), listener);
        int search = events.indexOf(io.guestdump.core.kernel.PageClassifier.PHASE_ZEROS);
        int writing = events.indexOf("writing");
        assertTrue(search >= 0 && writing > search + 2, events.toString());
        assertEquals(size + "/" + size, events.get(writing - 1), events.toString());
    }
}
