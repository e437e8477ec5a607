package io.guestdump.cli;

/** Process exit codes. */
public final class ExitCodes {
    /** Success. */
    public static final int OK = 0;
    /** The dump (or another operation) failed while writing. */
    public static final int DUMP_FAILED = 1;
    /** Bad usage or bad input: options, snapshot, vmcore, configuration. */
    public static final int USAGE = 2;
    /** A bug in guestdump. */
    public static final int INTERNAL = 70;

    private ExitCodes() {}
}
