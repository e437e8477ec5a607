package io.guestdump.core.vmcore;

/** Told how far a dump has got. */
@FunctionalInterface
public interface ProgressListener {
    /** Does nothing. */
    ProgressListener NONE = (done, total) -> { };

    /** {@code done} of {@code total} bytes of the output are written. */
    void progress(long done, long total);
}
