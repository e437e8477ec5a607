package io.guestdump.cli;

/**
 * The launcher's entry point. {@code guestdump --version} (or {@code -V}) alone is answered here, before any
 * picocli class is loaded: building picocli's model of every command (reflection over each option, about 175
 * classes that the class-data archive cannot hold because picocli ships Java 5 class files) was most of that
 * command's start-up time. The answer is the one picocli prints ({@link GuestDumpCommand.Version}, a test keeps
 * them equal). {@code archs} and {@code archs --json} alone are answered by {@link ArchsListing} for the same reason.
 * Everything else goes to {@link GuestDumpCommand#run}.
 *
 * <p>This class refers to no picocli type, not even through a method signature, so that loading and linking it
 * loads none; string concatenation is explicit because {@code +} on strings would spin method handles.
 */
public final class Main {
    private Main() {}

    /** Runs the command line and exits. */
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code. */
    static int run(String[] args) {
        if (answersAlone(args)) {
            System.out.println(versionLine());
            return ExitCodes.OK;
        }
        if (ArchsListing.answersAlone(args)) {
            Logging.configure(args);
            return ArchsListing.runAlone(args.length == 2, ArchsListing.writer(System.out, "sun.stdout.encoding"),
                    ArchsListing.writer(System.err, "sun.stderr.encoding"));
        }
        return GuestDumpCommand.run(args);
    }

    /** Whether the arguments are {@code --version} or {@code -V} alone, which this class answers itself. */
    static boolean answersAlone(String[] args) {
        return args.length == 1 && (args[0].equals("--version") || args[0].equals("-V"));
    }

    /** {@code guestdump 0.1.0}: the version from the jar manifest. */
    static String versionLine() {
        String v = Main.class.getPackage().getImplementationVersion();
        return "guestdump ".concat(v == null ? "(development build)" : v);
    }
}
