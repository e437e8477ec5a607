package io.guestdump.cli;

/** Process exit codes. */
public final class ExitCodes {
    /** Success. */
    public static final int OK = 0;
    /** The dump (or another operation) failed while writing. */
    public static final int DUMP_FAILED = 1;
    /** Bad usage or bad input: options, snapshot, vmcore, configuration. */
    public static final int USAGE = 2;
    /**
     * guestdump stopped a live guest and could not resume it (QEMU refused {@code cont}, or the connection broke):
     * the guest is PAUSED. The message says whether the dump was written (it may have been: check the file).
     */
    public static final int GUEST_PAUSED = 3;
    /** A bug in guestdump. */
    public static final int INTERNAL = 70;

    /** The exit codes as {@code --help} (and the man page) list them: {@code exitCodeList} entries. */
    static final String HELP_OK = "0:success";
    static final String HELP_DUMP_FAILED = "1:the dump failed while writing (disk full, I/O error, the output appeared "
            + "meanwhile); archs: a plugin jar failed to load";
    static final String HELP_USAGE = "2:bad usage or bad input (options, configuration, source, vmcore); nothing was "
            + "written";
    static final String HELP_GUEST_PAUSED = "3:guestdump stopped a live guest and could not resume it: the guest is "
            + "PAUSED (the message says whether the dump was written and how to resume the guest)";
    static final String HELP_INTERNAL = "70:a bug in guestdump (please report it, with --verbose output)";
    static final String HELP_INTERRUPTED = "130:interrupted (Ctrl-C, SIGINT); the partial output is removed";
    static final String HEADING = "%nExit codes:%n";

    private ExitCodes() {}
}
