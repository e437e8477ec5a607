package io.guestdump.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/** Issues 13 and 15: usage, configuration and number errors are exit 2 with one line that says what to do. */
class CommandLineTest {
    @TempDir
    Path dir;

    record Run(int exit, String out, String err) {}

    private Run run(String... args) {
        return run(GuestDumpCommand.commandLine(), dir, args);
    }

    /** Runs {@code cl} with {@code home} as guestdump.home, capturing what it prints. */
    static Run run(CommandLine cl, Path home, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        System.setProperty("guestdump.home", home.toString());
        try {
            return new Run(cl.execute(args), out.toString(), err.toString());
        } finally {
            System.clearProperty("guestdump.home");
        }
    }

    @Test
    void dumpWithoutASourceIsOneLineAndAHintNotTheWholeHelp() {
        Run r = run("dump", "-o", dir.resolve("v").toString());
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().startsWith("guestdump: Missing required parameter: 'SOURCE'"), r.err());
        assertTrue(r.err().contains("Try 'guestdump dump --help'"), r.err());
        assertFalse(r.err().contains("Usage:"), r.err());
        assertTrue(r.err().lines().count() <= 2, r.err());
        assertFalse(Files.exists(dir.resolve("v")));
    }

    @Test
    void everyParserErrorCarriesThePrefixAndTheHint() {
        for (String[] args : new String[][] {{"frobnicate"}, {"dump", "sample:"}, {"info"}, {"archs", "--bogus"},
                {}}) {
            Run r = run(args);
            assertEquals(2, r.exit(), String.join(" ", args) + ": " + r.err());
            assertTrue(r.err().startsWith("guestdump: "), r.err());
            assertTrue(r.err().contains("--help' for more information"), r.err());
            assertFalse(r.err().contains("Usage:"), r.err());
        }
    }

    @Test
    void verboseWorksBeforeAndAfterTheCommand() {
        assertEquals(0, run("--verbose", "archs").exit());
        assertEquals(0, run("archs", "--verbose").exit());
        assertEquals(0, run("-v", "archs", "--json").exit());
    }

    @Test
    void helpDocumentsTheExitCodesIncluding130() {
        for (String[] args : new String[][] {{"--help"}, {"dump", "--help"}}) {
            Run r = run(args);
            assertEquals(0, r.exit());
            assertTrue(r.out().contains("Exit codes:"), r.out());
            for (String code : new String[] {"0 ", "1 ", "2 ", "70 ", "130 "}) {
                assertTrue(r.out().contains("  " + code), code + " in " + r.out());
            }
        }
    }

    @Test
    void everyCommandsModelCarriesTheExitCodesForTheManPage() {
        CommandLine plain = new CommandLine(new GuestDumpCommand());
        for (CommandLine c : plain.getSubcommands().values()) {
            if (!c.getCommandName().equals("help")) {
                assertTrue(c.getUsageMessage().contains("  130 "), c.getCommandName() + ": " + c.getUsageMessage());
            }
        }
        assertTrue(plain.getUsageMessage().contains("  130 "));
    }

    @Test
    void dashDWithoutEqualsIsRefused() {
        Run r = run("archs", "-D", "guestdump.progress.mode");
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains("KEY=VALUE"), r.err());
    }

    @Test
    void aWrongTypeNamesKeyValueOriginAndExpectationWithExit2() {
        Run r = run("dump", "sample:", "-o", dir.resolve("v").toString(), "-D", "guestdump.kdump.threads=lots");
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains("guestdump.kdump.threads = \"lots\"") && r.err().contains("-D guestdump.kdump.threads")
                && r.err().contains("expected number"), r.err());
        Run bool = run("archs", "-D", "guestdump.output.fsync=maybe");
        assertEquals(2, bool.exit(), bool.err());
        assertTrue(bool.err().contains("guestdump.output.fsync = \"maybe\"") && bool.err().contains("boolean"),
                bool.err());
        Run size = run("archs", "-D", "guestdump.progress.min-bytes=12 furlongs");
        assertEquals(2, size.exit(), size.err());
        assertTrue(size.err().contains("guestdump.progress.min-bytes = \"12 furlongs\""), size.err());
    }

    @Test
    void aTypoUnderGuestdumpIsAWarningNamingTheClosestKey() {
        Run r = run("archs", "-D", "guestdump.progres.mode=never");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.err().contains("warning: unknown setting guestdump.progres.mode (set in -D "
                + "guestdump.progres.mode) is ignored; did you mean guestdump.progress.mode?"), r.err());
        assertFalse(run("archs", "-D", "guestdump.progress.mode=never").err().contains("warning"));
    }

    @Test
    void compressionThreadsAreBounded() {
        Run r = run("dump", "sample:", "-o", dir.resolve("v").toString(), "--format", "kdump-zlib",
                "-D", "guestdump.kdump.threads=100000");
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains("guestdump.kdump.threads = 100000 is not between 0 and 256"), r.err());
    }

    @ParameterizedTest
    @ValueSource(strings = {"0x+5", "1e3", "1.5MiB", "0.5", "\u0661\u0662\u0663", "-1", "+5", "12 furlongs", "1kB",
        "0x", "", "1__0", "\uff11"})
    void numbersOutsideTheDocumentedFormsAreRefused(String value) {
        assertThrows(CommandLine.TypeConversionException.class, () -> new AddressConverter().convert(value));
        Run r = run("dump", "sample:", "-o", dir.resolve("v").toString(), "--begin", value, "--length", "1");
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains("is not an address or size"), r.err());
    }

    @Test
    void theDocumentedFormsAreRead() {
        AddressConverter c = new AddressConverter();
        assertEquals(4096L, c.convert("4096"));
        assertEquals(0x1000L, c.convert("0x1000"));
        assertEquals(0x1_0000_0000L, c.convert("0x1_0000_0000"));
        assertEquals(16L << 20, c.convert("16MiB"));
        assertEquals(2L << 30, c.convert("2 GiB"));
        assertEquals(512L << 10, c.convert("512K"));
        assertEquals(-1L, c.convert("0xffffffffffffffff"));
        assertThrows(CommandLine.TypeConversionException.class, () -> c.convert("0x10000000000000000"));
    }

    @Test
    void sampleGuestSizeZeroIsAUsageError() {
        Run r = run("sample-guest", "--output-dir", dir.resolve("s").toString(), "--size", "0");
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains("--size 0") && r.err().contains("up to 1TiB"), r.err());
        assertEquals(2, run("sample-guest", "--output-dir", dir.resolve("s").toString(), "--size", "2TiB").exit());
    }
}
