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

    private ExitCodes() {}
}
