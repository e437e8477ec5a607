package io.guestdump.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Issue 13: the launcher's {@code --version} fast path prints exactly what picocli prints for it. */
class MainTest {
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
}
