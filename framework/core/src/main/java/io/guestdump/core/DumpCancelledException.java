package io.guestdump.core;

import io.guestdump.arch.api.GuestDumpException;

/** A dump stopped because its caller cancelled it ({@link GuestDumper.Job#cancelWhen}); no output file is left. */
public final class DumpCancelledException extends GuestDumpException {
    private static final long serialVersionUID = 1L;

    /** With a message naming the dump. */
    public DumpCancelledException(String message) {
        super(message);
    }
}
