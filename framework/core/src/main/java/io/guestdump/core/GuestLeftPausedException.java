package io.guestdump.core;

import io.guestdump.arch.api.VmcoreWriteException;

/**
 * The dump was written, but the live guest that guestdump stopped for it could not be resumed (QEMU refused
 * {@code cont}, or the connection broke after the dump): the file exists, and the guest stays paused until
 * someone resumes it. The CLI exits with its own code (3) so that no script mistakes this for success.
 */
public final class GuestLeftPausedException extends VmcoreWriteException {
    private static final long serialVersionUID = 1L;
    private final transient DumpResult result;

    /** From the source, before the dump's result is known. */
    public GuestLeftPausedException(String message) {
        this(message, null);
    }

    /** With the dump that was written. */
    public GuestLeftPausedException(String message, DumpResult result) {
        super(message);
        this.result = result;
    }

    /** The dump that was written, or null when the failure came before the file was committed. */
    public DumpResult result() {
        return result;
    }
}
