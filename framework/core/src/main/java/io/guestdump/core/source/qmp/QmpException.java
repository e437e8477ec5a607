package io.guestdump.core.source.qmp;

import io.guestdump.arch.api.VmcoreWriteException;

/**
 * QEMU answered a QMP command with an error, or the connection failed: the dump failed (the CLI exits with 1).
 */
public class QmpException extends VmcoreWriteException {
    private static final long serialVersionUID = 1L;
    private final String errorClass;

    /** QEMU's {@code {"error": {"class": ..., "desc": ...}}}. */
    public QmpException(String errorClass, String desc) {
        super(desc);
        this.errorClass = errorClass;
    }

    /** QEMU's error class, e.g. {@code GenericError}. */
    public String errorClass() {
        return errorClass;
    }

    /** The socket is not a QMP monitor. */
    public static final class NotQmp extends QmpException {
        private static final long serialVersionUID = 1L;

        /** With the message for the user. */
        public NotQmp(String message) {
            super("NotQmp", message);
        }
    }

    /** The QMP connection broke (QEMU exited or closed the socket). */
    public static final class ConnectionLost extends QmpException {
        private static final long serialVersionUID = 1L;

        /** With the message for the user. */
        public ConnectionLost(String message) {
            super("ConnectionLost", message);
        }
    }
}
