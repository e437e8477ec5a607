package io.guestdump.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Issue 13 (start-up): a command line whose first argument names a command runs on a root holding only that command;
 * everything it prints and returns is what the whole command line gives.
 */
class CommandLineForTest {
    @TempDir
    Path dir;

    private CommandLineTest.Run run(CommandLine cl, String... args) {
        return CommandLineTest.run(cl, dir, args);
    }

    @Test
    void eachCommandAloneAnswersAsTheWholeCommandLineDoes() {
        String missing = dir.resolve("missing.vmcore").toString();
        String[][] cases = {
            {"archs"}, {"archs", "--json"}, {"archs", "--help"}, {"archs", "-h"}, {"archs", "--version"},
            {"archs", "--bogus"}, {"archs", "--jsn"}, {"archs", "dump"}, {"archs", "-D", "guestdump.progress.mode"},
            {"archs", "-D", "guestdump.output.fsync=maybe"}, {"archs", "-D", "guestdump.progres.mode=never"},
            {"archs", "--json", "--bogus"}, {"archs", "-v"},
            {"info"}, {"info", "--help"}, {"info", missing}, {"info", missing, "--json"}, {"info", "archs"},
            {"dump"}, {"dump", "--help"}, {"dump", "sample:"}, {"dump", "sample:", "-o", dir.resolve("v").toString(),
                "--format", "bogus"}, {"dump", "-x"}, {"dump", "--begin"},
            {"sample-guest"}, {"sample-guest", "--help"}, {"sample-guest", "--output-dir"},
        };
        for (String[] args : cases) {
            CommandLine slim = GuestDumpCommand.commandLineFor(args);
            assertEquals(1, slim.getSubcommands().size(), Arrays.toString(args));
            CommandLineTest.Run expected = run(GuestDumpCommand.commandLine(), args);
            CommandLineTest.Run actual = run(slim, args);
            assertEquals(expected, actual, Arrays.toString(args));
        }
    }

    @Test
    void anythingElseGetsTheWholeCommandLine() {
        for (String[] args : new String[][] {{}, {"--help"}, {"help", "archs"}, {"-v", "archs"}, {"--version"},
                {"frobnicate"}, {"Archs"}}) {
            CommandLine cl = GuestDumpCommand.commandLineFor(args);
            assertEquals(GuestDumpCommand.commandLine().getSubcommands().keySet(), cl.getSubcommands().keySet());
            assertTrue(cl.getSubcommands().size() > 1);
        }
    }
}
