package io.guestdump.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.quicktheories.QuickTheory.qt;

import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.arch.api.VmcoreWriteException;
import io.guestdump.core.inspect.VmcoreFile;
import io.guestdump.core.plugins.ArchitectureRegistry;
import io.guestdump.core.source.TestElf;
import io.guestdump.core.source.TestElf.Load;
import io.guestdump.core.vmcore.ProgressListener;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;

/**
 * The hostile shapes of issue 15 as generated cases, each through the public API end to end: ELF sources claiming
 * huge zero tails (up to 2^64), non-regular files in every place a source names a file, and snapshots nested
 * deeper than any parser should recurse. Every case must end, within {@link #CASE_TIMEOUT}, in a dump or in
 * {@link InvalidInputException} / {@link VmcoreWriteException} with a one-line message: never another exception
 * (the CLI's exit 70), never a hang, never a {@code .partial} left behind, and never a change to a file that was
 * there before. Each class of case is counted and must be reached.
 */
class HostileFuzzTest {
    private static final Duration CASE_TIMEOUT = Duration.ofSeconds(20);
    private static final int EXAMPLES = 150;
    private static final byte[] PRECIOUS = "another program's file".getBytes();

    @TempDir
    static Path dir;

    static ArchitectureRegistry registry;
    static final Map<String, AtomicLong> CLASSES = new ConcurrentHashMap<>();
    static final AtomicLong CASES = new AtomicLong();

    @BeforeAll
    static void setUp() throws IOException {
        registry = TestGuests.registry();
        Files.write(dir.resolve("precious.bin"), PRECIOUS);
        Files.write(dir.resolve("ram.bin"), new byte[8192]);
        Files.writeString(dir.resolve("regs.txt"), "CPU#0\nPC=1000 SP=2000\n");
        mkfifo(dir.resolve("pipe"));
        Files.createDirectories(dir.resolve("a-directory"));
    }

    @AfterAll
    static void report() {
        registry.close();
        System.err.println("HostileFuzzTest: " + CASES.get() + " hostile cases: " + new java.util.TreeMap<>(CLASSES));
    }

    private static void mkfifo(Path p) throws IOException {
        try {
            assertEquals(0, new ProcessBuilder("mkfifo", p.toString()).start().waitFor());
        } catch (InterruptedException e) {
            throw new IOException(e);
        }
    }

    private static void count(String what) {
        CLASSES.computeIfAbsent(what, k -> new AtomicLong()).incrementAndGet();
    }

    /** Runs one case and checks how it ended. */
    private static void check(String name, Supplier<Path> run) {
        Path out = dir.resolve("out.vmcore");
        try {
            Files.deleteIfExists(out);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        String outcome = assertTimeoutPreemptively(CASE_TIMEOUT, () -> {
            try {
                run.get();
                return "dumped";
            } catch (InvalidInputException | UnsupportedGuestException e) {
                oneLine(name, e.getMessage());
                return "refused (exit 2)";
            } catch (VmcoreWriteException e) {
                oneLine(name, e.getMessage());
                if (System.getenv("GUESTDUMP_FUZZ_VERBOSE") != null) {
                    System.err.println(name + ": " + e.getMessage());
                }
                return "failed (exit 1)";
            } catch (RuntimeException | Error e) {
                fail(name + ": " + e + " would be exit 70 or a stack trace", e);
                return null;
            }
        }, () -> "hang: " + name);
        count(outcome);
        CASES.incrementAndGet();
        try (Stream<Path> s = Files.list(dir)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".partial")), name + ": .partial left");
            assertArrayEquals(PRECIOUS, Files.readAllBytes(dir.resolve("precious.bin")), name + ": lost a file");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void oneLine(String name, String message) {
        assertTrue(message != null && !message.isBlank(), name + ": no message");
        assertFalse(message.contains("\n") || message.contains("\0") || message.contains("\tat "),
                name + ": not one line: " + message);
    }

    private static Path dump(String source, Map<String, String> settings) {
        return dump(source, settings, "elf");
    }

    private static Path dump(String source, Map<String, String> settings, String format) {
        GuestDump gd = new GuestDump(TestGuests.settings(dir, settings), registry);
        Path out = dir.resolve("out.vmcore");
        gd.dump(new DumpRequest(Optional.of(source), out.toString(), Optional.empty(), Optional.empty(), false,
                false, format, false), ProgressListener.NONE);
        return out;
    }

    // ---- huge zero tails

    /** {@code format}: 0 ELF, 1 kdump with shared zero pages, 2 kdump with zero pages excluded. */
    record Tail(long paddr, long filesz, long memsz, boolean vmcoreinfo, boolean sparse, boolean bigEndian,
            int format) {}

    private static Gen<Long> pick(long... values) {
        return Generate.pick(java.util.Arrays.stream(values).boxed().toList());
    }

    @Test
    void elfSourcesClaimingHugeZeroTailsEndQuicklyAndCleanly() {
        Gen<Long> paddr = pick(0, 0x100000, 1L << 40, Long.MIN_VALUE, -0x100000L, -0x1000L);
        Gen<Long> filesz = pick(0, 4096);
        Gen<Long> memszs = pick(4096, 1L << 20, 1L << 40, 1L << 44, (1L << 44) + 4096, 1L << 46, 1L << 62,
                Long.MAX_VALUE - 0xfff, -4096L, -1L);
        Gen<Tail> tails = paddr.zip(filesz, memszs, (p, f, m) -> new long[] {p, f, m})
                .zip(Generate.booleans(), Generate.booleans(), Generate.booleans(), Generate.range(0, 2),
                        (a, v, s, b, f) -> new Tail(a[0], a[1], a[2], v, s, b, f));
        qt().withExamples(EXAMPLES).forAll(tails).checkAssert(t -> {
            long memsz = Long.compareUnsigned(t.memsz(), t.filesz()) < 0 ? t.filesz() : t.memsz();
            String name = t + " memsz=0x" + Long.toHexString(memsz);
            DumpTarget target = TestElf.toyTarget(ElfClass.ELF64, t.bigEndian() ? ElfData.MSB : ElfData.LSB);
            Path src = dir.resolve("tail.elf");
            try {
                Files.write(src, TestElf.build(target, TestElf.toyNotes(target, 1, t.vmcoreinfo()
                        ? "OSRELEASE=6.1\nPAGESIZE=4096\n" : null, List.of()), List.of(new Load(0, t.paddr(),
                        t.filesz(), memsz)), new byte[(int) t.filesz()], false));
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            count("zero tail 0x" + Long.toHexString(memsz));
            String format = t.format() == 0 ? "elf" : "kdump-zlib";
            count("format " + format + (t.format() == 2 ? " zero pages excluded" : ""));
            check(name, () -> dump("elf:" + src, Map.of("guestdump.elf.sparse", Boolean.toString(t.sparse()),
                    "guestdump.output.fsync", "false",
                    "guestdump.kdump.zero-pages", t.format() == 2 ? "exclude" : "share"), format));
        });
        assertTrue(CLASSES.containsKey("dumped") && CLASSES.containsKey("refused (exit 2)"), CLASSES.toString());
        assertTrue(CLASSES.containsKey("format kdump-zlib zero pages excluded")
                && CLASSES.containsKey("format kdump-zlib"), CLASSES.toString());
    }

    // ---- non-regular files wherever a source names a file

    private static final List<String> SPECIALS = List.of("pipe", "/dev/null", "/dev/zero", "a-directory");
    private static final List<String> PLACES = List.of("elf:", "bare", "snapshot:", "info", "memory file",
            "cpu-state-from", "vmcoreinfo-from");

    @Test
    void fifosDevicesAndDirectoriesAreRefusedInEveryPlace() {
        for (String special : SPECIALS) {
            Path p = special.startsWith("/") ? Path.of(special) : dir.resolve(special);
            for (String place : PLACES) {
                String name = place + " " + special;
                count("non-regular file as " + place);
                check(name, () -> {
                    switch (place) {
                        case "elf:" -> dump("elf:" + p, Map.of());
                        case "bare" -> dump(p.toString(), Map.of());
                        case "snapshot:" -> dump("snapshot:" + p, Map.of());
                        case "info" -> VmcoreFile.open(p);
                        default -> dump("snapshot:" + snapshot(place, p), Map.of());
                    }
                    throw new AssertionError(name + " was accepted");
                });
            }
        }
    }

    private static Path snapshot(String place, Path special) {
        String mem = place.equals("memory file") ? special.toString() : "ram.bin";
        String text = "guest {\n arch = toy64\n memory = [ { start = 0, size = 4096, file = \"" + mem + "\" } ]\n"
                + " cpu-state-from = \"" + (place.equals("cpu-state-from") ? special : "regs.txt") + "\"\n"
                + (place.equals("vmcoreinfo-from") ? " vmcoreinfo-from = \"" + special + "\"\n" : "") + "}\n";
        try {
            return Files.writeString(dir.resolve("special.conf"), text);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- deep nesting in snapshots

    record Nest(int depth, int kind, boolean closed, int where) {}

    @Test
    void snapshotsNestedDeeplyAreRefusedWithoutRecursion() {
        Gen<Nest> nests = Generate.pick(List.of(3, 60, 64, 65, 100, 1000, 20_000, 200_000))
                .zip(Generate.range(0, 2), Generate.booleans(), Generate.range(0, 2), Nest::new);
        qt().withExamples(EXAMPLES).forAll(nests).checkAssert(n -> {
            String open = switch (n.kind()) {
                case 0 -> "[";
                case 1 -> "{a:";
                default -> "{a = [";
            };
            String close = switch (n.kind()) {
                case 0 -> "]";
                case 1 -> "}";
                default -> "]}";
            };
            String nest = open.repeat(n.depth()) + "1" + (n.closed() ? close.repeat(n.depth()) : "");
            String guest = "guest {\n arch = toy64\n memory = [ { start = 0, size = 4096, file = ram.bin } ]\n"
                    + " cpu-state-from = regs.txt\n" + (n.where() == 1 ? " x = " + nest + "\n" : "") + "}\n";
            String text = switch (n.where()) {
                case 0 -> "x = " + nest + "\n" + guest;
                case 1 -> guest;
                default -> guest + "y = " + nest + "\n";
            };
            Path conf;
            try {
                conf = Files.writeString(dir.resolve("nested.conf"), text);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            count("nested " + (n.depth() > 64 ? "deeper than 64" : "within 64"));
            check(n.toString(), () -> dump("snapshot:" + conf, Map.of("guestdump.output.fsync", "false")));
        });
    }
}
