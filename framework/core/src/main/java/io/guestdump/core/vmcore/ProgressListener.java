package io.guestdump.core.vmcore;

/** Told how far a dump has got. */
@FunctionalInterface
public interface ProgressListener {
    /** Does nothing. */
    ProgressListener NONE = (done, total) -> { };

    /** {@code done} of {@code total} bytes of the current phase (writing the output, unless told otherwise). */
    void progress(long done, long total);

    /**
     * A new phase starts ({@code "searching for VMCOREINFO"}, {@code "writing"}): the following {@link #progress}
     * calls count its bytes.
     */
    default void phase(String name) {
    }
}
