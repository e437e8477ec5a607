package io.guestdump.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.core.inspect.KdumpInfo;
import io.guestdump.core.inspect.VmcoreFile;
import io.guestdump.core.inspect.VmcoreSummary;
import io.guestdump.core.plugins.ArchitectureRegistry;
import io.guestdump.core.vmcore.ProgressListener;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 13: info's kdump reader, on both forms, against the ELF dump of the same guest; defects are exit 2. */
class KdumpInfoTest {
    @TempDir
    Path dir;

    ArchitectureRegistry registry;
    GuestDump dump;
    Path snap;

    @BeforeEach
    void setUp() throws IOException {
        registry = TestGuests.registry();
        dump = new GuestDump(TestGuests.settings(dir, Map.of()), registry);
        snap = TestGuests.snapshot(dir, "toy64", List.of(new TestGuests.Block(0x1000, 5 * 4096),
                new TestGuests.Block(0x100000, 3 * 4096)), 2);
    }

    @AfterEach
    void tearDown() {
        registry.close();
    }

    private byte[] dump(String format, boolean flattened) throws IOException {
        Path out = dir.resolve(format + (flattened ? ".flat" : ".kdump"));
        dump.dump(new DumpRequest(Optional.of("snapshot:" + snap), out.toString(), Optional.empty(), Optional.empty(),
                false, false, format, flattened), ProgressListener.NONE);
        return Files.readAllBytes(out);
    }

    private VmcoreSummary info(byte[] file) {
        return KdumpInfo.summarize("test", new ByteArrayInputStream(file), file.length, registry);
    }

    @Test
    void bothFormsReadTheHeaderNotesAndBitmapsAsTheElfDumpHasThem() throws IOException {
        Path elf = dir.resolve("v.elf");
        dump.dump(new DumpRequest(Optional.of("snapshot:" + snap), elf.toString(), Optional.empty(), Optional.empty(),
                false), ProgressListener.NONE);
        Object cpus;
        try (VmcoreFile f = VmcoreFile.open(elf)) {
            cpus = VmcoreSummary.of(f, registry).tree().get("cpus");
        }
        for (boolean flattened : new boolean[] {false, true}) {
            for (String format : List.of("kdump-zlib", "kdump-snappy")) {
                Map<String, Object> t = info(dump(format, flattened)).tree();
                assertEquals(format, t.get("format"));
                assertEquals(flattened ? "flattened" : "seekable", t.get("form"));
                assertEquals(2, t.get("nr-cpus"));
                assertEquals(8L, t.get("dumped-pages"), "5 + 3 pages");
                assertEquals(cpus, t.get("cpus"), "the same registers as the ELF dump");
                assertEquals(true, ((Map<?, ?>) t.get("vmcoreinfo")).get("present"));
            }
        }
    }

    @Test
    void truncatedOrCorruptFilesAreDefectsNamingWhat() throws IOException {
        byte[] seekable = dump("kdump-zlib", false);
        InvalidInputException cut = assertThrows(InvalidInputException.class,
                () -> info(Arrays.copyOf(seekable, 1000)));
        assertTrue(cut.getMessage().contains("truncated"), cut.getMessage());
        byte[] flat = dump("kdump-lzo", true);
        InvalidInputException noEnd = assertThrows(InvalidInputException.class,
                () -> info(Arrays.copyOf(flat, flat.length - 16)));
        assertTrue(noEnd.getMessage().contains("end marker"), noEnd.getMessage());
        byte[] badRecord = flat.clone();
        badRecord[4096 + 8] = (byte) 0x80; // the first record's size becomes negative
        assertTrue(assertThrows(InvalidInputException.class, () -> info(badRecord)).getMessage()
                .contains("not a valid record"));
        byte[] badBlock = seekable.clone();
        Arrays.fill(badBlock, 424, 436, (byte) 0x7f); // status, block_size, sub_hdr_size
        assertTrue(assertThrows(InvalidInputException.class, () -> info(badBlock)).getMessage()
                .contains("block_size"));
    }
}
