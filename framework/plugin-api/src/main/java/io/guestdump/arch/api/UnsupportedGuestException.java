package io.guestdump.arch.api;

/**
 * The guest is well described but cannot be dumped as asked: no plugin for its architecture, an address that
 * does not fit ELF32, no vCPU. The CLI exits with 2.
 */
public class UnsupportedGuestException extends GuestDumpException {
    private static final long serialVersionUID = 1L;

    /** An error with a message. */
    public UnsupportedGuestException(String message) {
        super(message);
    }
}
