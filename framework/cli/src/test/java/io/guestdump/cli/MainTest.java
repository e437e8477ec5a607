package io.guestdump.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Issue 13: the launcher's fast paths ({@code --version}; {@code archs} and {@code archs --json}) print and return
 * exactly what picocli's command line does.
 */
class MainTest {
    @TempDir
    Path home;

    private static String picocli(String... args) {
        StringWriter out = new StringWriter();
        CommandLine cl = GuestDumpCommand.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(new StringWriter()));
        assertEquals(ExitCodes.OK, cl.execute(args));
        return out.toString();
    }

    @Test
    void theFastVersionLineIsWhatPicocliPrints() {
        String fast = Main.versionLine() + System.lineSeparator();
        assertEquals(picocli("--version"), fast);
        assertEquals(picocli("-V"), fast);
        assertTrue(fast.startsWith("guestdump "), fast);
    }

    @Test
    void onlyVersionAloneTakesTheFastPath() {
        assertTrue(Main.answersAlone(new String[] {"--version"}));
        assertTrue(Main.answersAlone(new String[] {"-V"}));
        // everything else is picocli's: other options, a subcommand's --version, a second argument
        assertFalse(Main.answersAlone(new String[] {}));
        assertFalse(Main.answersAlone(new String[] {"--verbose", "--version"}));
        assertFalse(Main.answersAlone(new String[] {"archs", "--version"}));
        assertFalse(Main.answersAlone(new String[] {"--version", "archs"}));
        assertFalse(Main.answersAlone(new String[] {"--versio"}));
    }

    /** {@code archs [--json]} through {@link ArchsListing#runAlone}, as {@link Main} runs it, capturing the output. */
    private CommandLineTest.Run fast(String... args) {
        assertTrue(ArchsListing.answersAlone(args), Arrays.toString(args));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        System.setProperty("guestdump.home", home.toString());
        try {
            int exit = ArchsListing.runAlone(args.length == 2, new PrintWriter(out), new PrintWriter(err));
            return new CommandLineTest.Run(exit, out.toString(), err.toString());
        } finally {
            System.clearProperty("guestdump.home");
        }
    }

    private void sameOnBothPaths(String what) {
        for (String[] args : new String[][] {{"archs"}, {"archs", "--json"}}) {
            CommandLineTest.Run expected = CommandLineTest.run(GuestDumpCommand.commandLine(), home, args);
            assertEquals(expected, fast(args), what + " " + Arrays.toString(args));
        }
    }

    @Test
    void archsAloneAnswersAsPicocliDoes() throws IOException {
        sameOnBothPaths("no configuration, no plugins");
        Path conf = Files.createDirectories(home.resolve("config")).resolve("guestdump.conf");
        Files.writeString(conf, "guestdump.progres.mode = never\n");
        CommandLineTest.Run typo = fast("archs");
        assertEquals(0, typo.exit(), typo.err());
        assertTrue(typo.err().contains("guestdump.progress"), "the closest known key is named: " + typo.err());
        sameOnBothPaths("a typo'd key (a warning)");
        Files.writeString(conf, "guestdump.plugins.dirs = 7\n");
        CommandLineTest.Run wrongType = fast("archs", "--json");
        assertEquals(ExitCodes.USAGE, wrongType.exit(), wrongType.err());
        assertTrue(wrongType.out().contains("\"error\""), "the error as JSON: " + wrongType.out());
        sameOnBothPaths("a value of the wrong type");
        Files.writeString(conf, "guestdump { \u0000 \n");
        assertEquals(ExitCodes.USAGE, fast("archs").exit());
        sameOnBothPaths("a file that is not HOCON");
    }

    @Test
    void onlyArchsAndArchsJsonAloneTakeTheArchsFastPath() {
        assertTrue(ArchsListing.answersAlone(new String[] {"archs"}));
        assertTrue(ArchsListing.answersAlone(new String[] {"archs", "--json"}));
        for (String[] args : new String[][] {{}, {"archs", "-v"}, {"archs", "--help"}, {"archs", "--json", "-v"},
                {"--verbose", "archs"}, {"archs", "-D", "x=1"}, {"archs", "--jsn"}, {"Archs"}, {"info"},
                {"archs", "--config", "f"}, {"--json", "archs"}}) {
            assertFalse(ArchsListing.answersAlone(args), Arrays.toString(args));
        }
    }
}
