package io.guestdump.core.sample;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.guestdump.arch.api.GuestDumpException;
import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.SampleGuest;
import io.guestdump.core.DumpRequest;
import io.guestdump.core.DumpResult;
import io.guestdump.core.GuestDump;
import io.guestdump.core.vmcore.ProgressListener;
import io.guestdump.core.config.ConfigLoader;
import io.guestdump.core.config.DumpSettings;
import io.guestdump.core.plugins.ArchitectureRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sample:} without naming an architecture: the framework asks the loaded plugins for their sample guest
 * (here the class-path toy architecture's), writes its files and dumps its snapshot.
 */
class SampleGuestSelectionTest {
    @TempDir
    Path dir;

    private final ArchitectureRegistry registry = ArchitectureRegistry.load(List.of(), List.of(),
            ConfigFactory.empty());

    @AfterEach
    void close() {
        registry.close();
    }

    private static DumpSettings settings(Path configDir, Map<String, String> overrides) {
        var user = ConfigLoader.userLayers(null, List.of(), overrides);
        return DumpSettings.from(ConfigLoader.withReference(user, SampleGuestSelectionTest.class.getClassLoader()),
                configDir, configDir);
    }

    private DumpResult dumpSample(Map<String, String> overrides) {
        return new GuestDump(settings(dir, overrides), registry).dump(new DumpRequest(Optional.of(GuestDump.SAMPLE),
                dir.resolve("v").toString(), Optional.empty(), Optional.empty(), true), ProgressListener.NONE);
    }

    @Test
    void theFirstPluginOfferingOneIsChosenUnlessSampleArchNamesOne() {
        assertEquals("sample-toy64", registry.sampleGuest(null).name());
        assertEquals("sample-toy64", registry.sampleGuest("toy").name());
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> registry.sampleGuest("vax"));
        assertTrue(e.getMessage().startsWith("guestdump.sample-arch = vax is not a loaded architecture; these offer "
                + "a sample guest: [toy]"), e.getMessage());
    }

    @Test
    void sampleDumpsTheSnapshotTheChosenPluginsSampleWroteInSampleDir() throws IOException {
        SampleGuest sample = registry.sampleGuest(null);
        Path conf = SampleGuestWriter.write(sample, dir.resolve("guests"), 3 * 4096);
        assertEquals(dir.resolve("guests/sample-toy64.conf"), conf);
        byte[] ram = Files.readAllBytes(dir.resolve("guests/sample-toy64-ram.bin"));
        assertEquals(3 * 4096, ram.length);
        assertEquals((byte) (5000 * 7), ram[5000]);
        DumpResult r = dumpSample(Map.of());
        assertEquals(1, r.cpus());
        assertEquals(3 * 4096, r.memoryBytes());
        assertTrue(r.source().contains("sample-toy64.conf"), r.source());
        // guestdump.sample-source overrides the snapshot; a missing one is named
        GuestDumpException e = assertThrows(GuestDumpException.class,
                () -> dumpSample(Map.of("guestdump.sample-source", "elsewhere/x.conf")));
        assertTrue(e.getMessage().contains("x.conf"), e.getMessage());
    }

    @Test
    void theWriterRefusesASizeBelowTheSamplesOrNotWholePages() {
        SampleGuest sample = registry.sampleGuest(null);
        assertThrows(IllegalArgumentException.class, () -> SampleGuestWriter.write(sample, dir, 4096));
        assertThrows(IllegalArgumentException.class, () -> SampleGuestWriter.write(sample, dir, 8193));
        assertArrayEquals(new String[0], dir.toFile().list());
    }
}
