package io.guestdump.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code guestdump}: the top-level command. */
@Command(name = "guestdump", mixinStandardHelpOptions = true, versionProvider = GuestDumpCommand.Version.class,
        description = "Writes the memory and CPU state of a virtual-machine guest into a vmcore that crash, gdb, "
                + "drgn, makedumpfile and libkdumpfile open.",
        exitCodeListHeading = ExitCodes.HEADING, exitCodeList = {ExitCodes.HELP_OK, ExitCodes.HELP_DUMP_FAILED,
            ExitCodes.HELP_USAGE, ExitCodes.HELP_GUEST_PAUSED, ExitCodes.HELP_INTERNAL, ExitCodes.HELP_INTERRUPTED},
        subcommands = {DumpCommand.class, InfoCommand.class, ArchsCommand.class, SampleGuestCommand.class,
                CommandLine.HelpCommand.class})
public final class GuestDumpCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Accepted before the command too; {@link Logging} and the error handler look at every argument. */
    @CommandLine.Option(names = {"-v", "--verbose"}, description = "Log more, and print stack traces of errors.")
    boolean verbose;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "give a command: dump, info, archs, "
                + "sample-guest (see --help)");
    }

    /** Runs the command line and exits ({@link Main} answers {@code --version} before this). */
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code (tests call this). */
    public static int run(String[] args) {
        Logging.configure(args);
        return commandLineFor(args).execute(args);
    }

    /**
     * The command line that runs {@code args}: when the first argument names a command ({@code archs}, {@code info},
     * {@code dump}, {@code sample-guest}), a root named {@code guestdump} holding only that command; otherwise
     * {@link #commandLine()}. picocli builds the model of every command it holds by reflection over all its
     * options, and the other commands' models were a tenth of {@code archs}' start-up. What a command prints and
     * returns does not depend on its siblings (its usage names {@code guestdump COMMAND}; errors, suggestions and
     * exit codes come from the command and the handlers), and {@code CommandLineTest} compares the two.
     */
    static CommandLine commandLineFor(String[] args) {
        Command root = GuestDumpCommand.class.getAnnotation(Command.class);
        if (args.length == 0) {
            return commandLine();
        }
        for (Class<?> sub : root.subcommands()) {
            Command c = sub.getAnnotation(Command.class);
            if (sub != CommandLine.HelpCommand.class && c != null && c.name().equals(args[0])) {
                CommandLine cl = new CommandLine(CommandLine.Model.CommandSpec.create().name(root.name()));
                cl.addSubcommand(c.name(), new CommandLine(sub));
                return withHandlers(cl);
            }
        }
        return commandLine();
    }

    /** The configured command line; tests set its output streams. */
    public static CommandLine commandLine() {
        return withHandlers(new CommandLine(new GuestDumpCommand()));
    }

    /**
     * Sets the error handlers on {@code cl} and the commands it holds. One place makes these method references: JDK
     * 17 crashes while writing the class-data archive (in adjust_lambda_proxy_class_dictionary) when a class makes
     * the same method reference at two call sites.
     */
    private static CommandLine withHandlers(CommandLine cl) {
        cl.setExecutionExceptionHandler(GuestDumpCommand::handle);
        cl.setParameterExceptionHandler(GuestDumpCommand::usage);
        return cl;
    }

    /** A usage error: the one relevant line and where the help is, not the whole help. */
    private static int usage(CommandLine.ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        PrintWriter err = cl.getErr();
        if (java.util.Arrays.asList(args).contains("--json")) {
            Failures.jsonError(cl.getOut(), ExitCodes.USAGE, e.getMessage());
        }
        err.println("guestdump: " + e.getMessage());
        CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
        err.println("Try '" + cl.getCommandSpec().qualifiedName() + " --help' for more information.");
        err.flush();
        return ExitCodes.USAGE;
    }

    private static int handle(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        boolean verbose = parsed.hasMatchedOption("--verbose") || hasVerbose(parsed);
        return Failures.report(e, verbose, wantsJson(parsed), cl.getOut(), cl.getErr());
    }

    private static boolean wantsJson(CommandLine.ParseResult parsed) {
        for (CommandLine.ParseResult p = parsed; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--json")) {
                return true;
            }
        }
        return false;
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
            return new String[] {Main.versionLine()};
        }
    }
}
