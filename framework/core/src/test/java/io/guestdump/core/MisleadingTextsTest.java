package io.guestdump.core;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.core.plugins.ArchitectureRegistry;
import io.guestdump.core.source.SnapshotSource;
import io.guestdump.core.vmcore.ProgressListener;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 15: texts that said something untrue now say what the path is and what to do, with exit 2. */
class MisleadingTextsTest {
    @TempDir
    Path dir;

    ArchitectureRegistry registry;

    @BeforeEach
    void setUp() throws IOException {
        registry = TestGuests.registry();
        Files.writeString(dir.resolve("regs.txt"), "CPU#0\nPC=1000 SP=2000\n");
    }

    @AfterEach
    void tearDown() {
        registry.close();
    }

    private String error(String guestBody) throws IOException {
        Path conf = dir.resolve("g.conf");
        Files.writeString(conf, "guest {\n" + guestBody + "\n}\n");
        return assertThrows(InvalidInputException.class, () -> new SnapshotSource(conf).open(registry).close())
                .getMessage();
    }

    @Test
    void aDeviceAsSnapshotIsNotSaidToBeMissing() {
        String m = assertThrows(InvalidInputException.class,
                () -> new SnapshotSource(Path.of("/dev/null")).open(registry).close()).getMessage();
        assertTrue(m.contains("/dev/null is a character device"), m);
        assertFalse(m.contains("does not exist"), m);
    }

    @Test
    void aDirectoryAsRamFileIsABadSnapshotNotAWriteFailure() throws IOException {
        Files.createDirectory(dir.resolve("ram"));
        String m = error("arch = toy64\nmemory = [ { start = 0, size = 4096, file = ram } ]\ncpu-state-from = regs.txt");
        assertTrue(m.contains("is a directory") && m.contains("guest.memory[0]"), m);
        // and through a dump: exit 2 (InvalidInputException), nothing written
        GuestDump dump = new GuestDump(TestGuests.settings(dir, Map.of()), registry);
        Path out = dir.resolve("vmcore");
        assertThrows(InvalidInputException.class, () -> dump.dump(new DumpRequest(Optional.of("snapshot:"
                + dir.resolve("g.conf")), out.toString(), Optional.empty(), Optional.empty(), false),
                ProgressListener.NONE));
        assertFalse(Files.exists(out));
    }

    @Test
    void aHugeBlockNamesTheBytesItNeedsUnsigned() throws IOException {
        Files.write(dir.resolve("ram.bin"), new byte[4096]);
        String m = error("arch = toy64\nmemory = [ { start = 0, size = \"0x8000000000000000\", file = ram.bin } ]\n"
                + "cpu-state-from = regs.txt");
        assertTrue(m.contains("needs bytes 0x0..0x8000000000000000"), m);
        assertFalse(m.contains("-9223372036854775808"), m);
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"0x+5", "1e3", "1.5 MiB", "\u0661\u0662\u0663", "+4096",
        "\uff14\uff10\uff19\uff16"})
    void snapshotNumbersAreOnlyTheDocumentedForms(String size) throws IOException {
        Files.write(dir.resolve("ram.bin"), new byte[8192]);
        String m = error("arch = toy64\nmemory = [ { start = 0, size = \"" + size + "\", file = ram.bin } ]\n"
                + "cpu-state-from = regs.txt");
        assertTrue(m.contains("is not a number"), m);
    }
}
