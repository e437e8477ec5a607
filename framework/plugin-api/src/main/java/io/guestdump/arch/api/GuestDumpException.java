package io.guestdump.arch.api;

/**
 * The root of every error a user can meet. Messages say what, which values, why, and what to do; subclasses
 * split by what the user can do about it.
 */
public class GuestDumpException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** An error with a message. */
    public GuestDumpException(String message) {
        super(message);
    }

    /** An error with a message and its cause. */
    public GuestDumpException(String message, Throwable cause) {
        super(message, cause);
    }
}
