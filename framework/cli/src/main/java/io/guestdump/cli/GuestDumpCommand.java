package io.guestdump.cli;

import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.arch.api.VmcoreWriteException;
import io.guestdump.core.GuestLeftPausedException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code guestdump}: the top-level command. */
@Command(name = "guestdump", mixinStandardHelpOptions = true, versionProvider = GuestDumpCommand.Version.class,
        description = "Writes the memory and CPU state of a virtual-machine guest into a vmcore that crash, gdb, "
                + "drgn, makedumpfile and libkdumpfile open.",
        subcommands = {DumpCommand.class, InfoCommand.class, ArchsCommand.class, SampleGuestCommand.class,
                CommandLine.HelpCommand.class})
public final class GuestDumpCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "give a command: dump, info, archs, "
                + "sample-guest (see --help)");
    }

    /** Runs the command line and exits. */
    public static void main(String[] args) {
        if (args.length == 1 && (args[0].equals("--version") || args[0].equals("-V"))) {
            // the answer needs no command model: building picocli's (reflection over every command, ~170
            // classes that the class-data archive cannot hold) is most of this command's start-up time
            System.out.println(new Version().getVersion()[0]);
            System.exit(ExitCodes.OK);
        }
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code (tests call this). */
    public static int run(String[] args) {
        Logging.configure(args);
        return commandLine().execute(args);
    }

    /** The configured command line; tests set its output streams. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new GuestDumpCommand());
        cl.setExecutionExceptionHandler(GuestDumpCommand::handle);
        return cl;
    }

    private static int handle(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        boolean verbose = parsed.hasMatchedOption("--verbose") || hasVerbose(parsed);
        PrintWriter err = cl.getErr();
        int code;
        GuestLeftPausedException paused = pausedGuest(e);
        if (paused != null) {
            code = ExitCodes.GUEST_PAUSED;
        } else if (e instanceof InvalidInputException || e instanceof UnsupportedGuestException) {
            code = ExitCodes.USAGE;
        } else if (e instanceof VmcoreWriteException) {
            code = ExitCodes.DUMP_FAILED;
        } else {
            code = ExitCodes.INTERNAL;
        }
        String msg = e.getMessage() == null ? e.toString() : e.getMessage();
        if (code == ExitCodes.INTERNAL) {
            err.println("guestdump: internal error: " + e + (verbose ? "" : " (run with --verbose for details)"));
        } else {
            err.println("guestdump: " + msg);
        }
        if (paused != null && paused != e) {
            err.println("guestdump: " + paused.getMessage());
        }
        if (verbose) {
            e.printStackTrace(err);
        }
        err.flush();
        return code;
    }

    /** The exception, or one suppressed by it, saying that the guest guestdump stopped stays paused. */
    private static GuestLeftPausedException pausedGuest(Throwable e) {
        if (e instanceof GuestLeftPausedException p) {
            return p;
        }
        for (Throwable s : e.getSuppressed()) {
            if (s instanceof GuestLeftPausedException p) {
                return p;
            }
        }
        return null;
    }

    private static boolean hasVerbose(CommandLine.ParseResult parsed) {
        for (CommandLine.ParseResult sub = parsed.subcommand(); sub != null; sub = sub.subcommand()) {
            if (sub.hasMatchedOption("--verbose")) {
                return true;
            }
        }
        return false;
    }

    /** The version from the jar manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = GuestDumpCommand.class.getPackage().getImplementationVersion();
            return new String[] {"guestdump " + (v == null ? "(development build)" : v)};
        }
    }
}
