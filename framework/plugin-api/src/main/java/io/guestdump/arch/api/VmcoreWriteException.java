package io.guestdump.arch.api;

import java.io.IOException;

/** Writing the vmcore failed (disk full, permissions, a vanished input file). The CLI exits with 1. */
public class VmcoreWriteException extends GuestDumpException {
    private static final long serialVersionUID = 1L;

    /** Wraps the I/O error with the path and what was being written. */
    public VmcoreWriteException(String message, IOException cause) {
        super(message + ": " + cause.getMessage(), cause);
    }

    /** An error with a message. */
    public VmcoreWriteException(String message) {
        super(message);
    }
}
