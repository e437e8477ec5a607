package io.guestdump.arch.api;

/**
 * The input is wrong: a snapshot, a monitor text, a vmcore, a filter or an option. The message names the file,
 * line or field and the value, and says how to fix it. The CLI exits with 2.
 */
public class InvalidInputException extends GuestDumpException {
    private static final long serialVersionUID = 1L;

    /** An error with a message. */
    public InvalidInputException(String message) {
        super(message);
    }

    /** An error with a message and its cause. */
    public InvalidInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
