package io.guestdump.core;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.core.plugins.ArchitectureRegistry;
import io.guestdump.core.source.SnapshotSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad snapshots fail with the file, the line or block, and what to fix. */
class SnapshotErrorsTest {
    @TempDir
    Path dir;

    ArchitectureRegistry registry;

    @BeforeEach
    void setUp() throws IOException {
        registry = TestGuests.registry();
        Files.write(dir.resolve("ram.bin"), new byte[8192]);
        Files.writeString(dir.resolve("regs.txt"), "CPU#0\nPC=1000 SP=2000\n");
    }

    @AfterEach
    void tearDown() {
        registry.close();
    }

    private String error(String guestBody) throws IOException {
        return error(guestBody, InvalidInputException.class);
    }

    private String error(String guestBody, Class<? extends RuntimeException> type) throws IOException {
        Path conf = dir.resolve("g.conf");
        Files.writeString(conf, "guest {\n" + guestBody + "\n}\n");
        RuntimeException e = assertThrows(type,
                () -> new SnapshotSource(conf).open(registry).close());
        return e.getMessage();
    }

    private static void contains(String message, String... parts) {
        for (String p : parts) {
            assertTrue(message.contains(p), "'" + p + "' not in: " + message);
        }
    }

    @Test
    void missingRamFileNamesTheBlockAndThePath() throws IOException {
        contains(error("arch = toy64\nmemory = [ { start = 0, size = 4096, file = nope.bin } ]\n"
                + "cpu-state-from = regs.txt"), "g.conf:3", "guest.memory[0]", "nope.bin", "does not exist");
    }

    @Test
    void blockPastTheEndOfItsFileSaysHowManyBytesThereAre() throws IOException {
        contains(error("arch = toy64\nmemory = [ { start = 0, size = \"8 KiB\", file = ram.bin, file-offset = 1 } ]\n"
                + "cpu-state-from = regs.txt"), "guest.memory[0]", "has only 8192 bytes", "file-offset");
    }

    @Test
    void overlappingBlocksNameBoth() throws IOException {
        contains(error("arch = toy64\nmemory = [ { start = 0, size = 4096, file = ram.bin },\n"
                + "{ start = \"0x800\", size = 4096, file = ram.bin, file-offset = 4096 } ]\ncpu-state-from = regs.txt"),
                "overlap", "guest.memory[0]", "guest.memory[1]");
    }

    @Test
    void unknownRegisterIsRefusedWithItsLine() throws IOException {
        contains(error("arch = toy64\nmemory = [ { start = 0, size = 4096, file = ram.bin } ]\n"
                + "cpu-state-from = regs.txt\ncpus = [ { pc = 5, bogus = 1 } ]"), "g.conf:5", "unknown register 'bogus'",
                "known registers");
    }

    @Test
    void unparsableMonitorTextNamesTheLine() throws IOException {
        Files.writeString(dir.resolve("regs.txt"), "CPU#0\nPC=1000 SP=2000\nwhat is this\n");
        contains(error("arch = toy64\nmemory = [ { start = 0, size = 4096, file = ram.bin } ]\n"
                + "cpu-state-from = regs.txt"), "regs.txt:3", "what is this");
    }

    @Test
    void unknownArchitectureListsTheLoadedOnes() throws IOException {
        contains(error("arch = vax\nmemory = [ { start = 0, size = 4096, file = ram.bin } ]",
                io.guestdump.arch.api.UnsupportedGuestException.class),
                "no plugin for guest architecture 'vax'", "toy64");
    }

    @Test
    void badNumbersAndUnknownKeysAreNamed() throws IOException {
        contains(error("arch = toy64\nmemory = [ { start = \"0xzz\", size = 4096, file = ram.bin } ]"),
                "guest.memory[0]", "0xzz");
        contains(error("arch = toy64\nmemroy = []"), "unknown key guest.memroy");
        contains(error("arch = toy64\nmemory = [ { start = 0, size = 4096, file = ram.bin } ]"), "no vCPU");
        contains(error("arch = toy64\nmemory = [ { start = 0, size = 4096, file = ram.bin } ]\n"
                + "cpu-state-from = regs.txt\ncpus = [ { pc = -1 } ]"), "negative");
    }

    @Test
    void snapshotValuesAcceptDecimalHexAndSizes() throws IOException {
        Path conf = dir.resolve("ok.conf");
        Files.writeString(conf, "guest {\n arch = toy64\n memory = [ { start = \"0x10000\", size = \"4 KiB\","
                + " file = ram.bin, file-offset = 4096 } ]\n cpus = [ { pc = \"0xffffffffffffffff\", sp = 12 } ]\n}\n");
        try (var g = new SnapshotSource(conf).open(registry)) {
            var cpu = g.state().cpus().get(0);
            assertTrue(cpu.u64("pc") == -1L && cpu.u64("sp") == 12);
            assertTrue(g.state().memory().blocks().get(0).range().start() == 0x10000);
        }
    }
}
