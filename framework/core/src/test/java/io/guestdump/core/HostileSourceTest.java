package io.guestdump.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestDumpException;
import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.VmcoreWriteException;
import io.guestdump.core.inspect.VmcoreFile;
import io.guestdump.core.plugins.ArchitectureRegistry;
import io.guestdump.core.source.TestElf;
import io.guestdump.core.source.TestElf.Load;
import io.guestdump.core.vmcore.ProgressListener;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfData;
import io.guestdump.elf.ProgramHeader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sources that claim more than they hold, or are not files at all (issue 15, "Bounded work for any input", and
 * issue 13's binary sources): each is refused with {@link InvalidInputException} (exit 2) and one line, or
 * dumped in time proportional to the bytes it really holds, never left hanging.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HostileSourceTest {
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

    private DumpResult dump(String source, Path out, Map<String, String> settings) {
        GuestDump gd = new GuestDump(TestGuests.settings(dir, settings), registry);
        return gd.dump(new DumpRequest(Optional.of(source), out.toString(), Optional.empty(), Optional.empty(),
                false), ProgressListener.NONE);
    }

    /** A toy64 vmcore of one PT_LOAD: 4 KiB in the file, {@code memsz} in memory. */
    private Path hugeTail(long filesz, long memsz, boolean vmcoreinfo) throws IOException {
        DumpTarget t = TestElf.toyTarget(ElfClass.ELF64, ElfData.LSB);
        byte[] data = TestElf.pattern(0x100000, (int) filesz);
        Path p = dir.resolve("tail-" + Long.toHexString(memsz) + ".elf");
        Files.write(p, TestElf.build(t, TestElf.toyNotes(t, 1, vmcoreinfo ? "OSRELEASE=6.1\nPAGESIZE=4096\n" : null,
                List.of()), List.of(new Load(0, 0x100000, filesz, memsz)), data, false));
        return p;
    }

    private static void oneLine(String message) {
        assertFalse(message.contains("\n") || message.contains("\0") || message.contains("\tat "), message);
    }

    private void assertNoOutput(Path out) throws IOException {
        assertFalse(Files.exists(out));
        try (Stream<Path> s = Files.list(out.getParent())) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".partial")));
        }
    }

    @Test
    void aZeroTailOfTwoToTheSixtySecondIsRefusedByTheMemoryLimit() throws IOException {
        Path out = dir.resolve("out");
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> dump("elf:" + hugeTail(4096, 1L << 62, true), out, Map.of()));
        assertTrue(e.getMessage().contains("guestdump.source.max-guest-memory"), e.getMessage());
        oneLine(e.getMessage());
        assertNoOutput(out);
    }

    @Test
    void aZeroTailNearTwoToTheSixtyThreeIsExitTwoNotAnOverflow() throws IOException {
        Path out = dir.resolve("out");
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> dump("elf:" + hugeTail(4096, Long.MAX_VALUE - 0xfff, true), out, Map.of()));
        oneLine(e.getMessage());
        assertNoOutput(out);
    }

    @Test
    void aZeroTailNearTwoToTheSixtyThreeWithoutTheLimitFailsCleanlyNotWithAnOverflow() throws IOException {
        // the user lifted the limit: the file system refuses a file that large (exit 1), no arithmetic overflow
        Path out = dir.resolve("out");
        Path src = hugeTail(4096, Long.MAX_VALUE - 0xfff, true);
        GuestDumpException e = assertThrows(GuestDumpException.class, () -> dump("elf:" + src, out, Map.of(
                "guestdump.source.max-guest-memory", Long.toString(Long.MAX_VALUE))));
        assertTrue(e instanceof InvalidInputException || e instanceof VmcoreWriteException, e.toString());
        oneLine(e.getMessage());
        assertNoOutput(out);
    }

    @Test
    void aTebibyteZeroTailIsWrittenAsAHoleInBothModesAndWithoutVmcoreinfo() throws IOException {
        for (String sparse : List.of("false", "true")) {
            Path out = dir.resolve("out-" + sparse);
            // no VMCOREINFO note: the memory scan runs, and must skip the zeros rather than read them
            DumpResult r = dump("elf:" + hugeTail(0, 1L << 40, false), out, Map.of("guestdump.elf.sparse", sparse,
                    "guestdump.output.fsync", "false"));
            assertEquals(1L << 40, r.memoryBytes());
            long allocated = (Long) Files.getAttribute(out, "unix:size") > 0
                    ? allocatedBytes(out) : 0;
            assertTrue(allocated < (64L << 20), "a hole, not a TiB of zeros: " + allocated + " bytes allocated");
            try (VmcoreFile f = VmcoreFile.open(out)) {
                ProgramHeader p = f.loads().get(0);
                assertEquals(1L << 40, p.filesz());
                assertEquals(f.channel().size(), p.offset() + p.filesz());
            }
            Files.delete(out);
        }
    }

    private static long allocatedBytes(Path p) throws IOException {
        try {
            Process du = new ProcessBuilder("du", "-B1", "--", p.toString()).redirectErrorStream(true).start();
            String o = new String(du.getInputStream().readAllBytes()).trim();
            du.waitFor();
            return Long.parseLong(o.split("\\s+")[0]);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }
}
