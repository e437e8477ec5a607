package io.guestdump.core.vmcore;

import io.guestdump.core.PreparedDump;
import java.io.IOException;
import java.nio.channels.WritableByteChannel;

/** One output format: ELF, or a kdump-compressed variant. */
public interface DumpFormat {

    /** The name {@code --format} selects, e.g. {@code elf}. */
    String name();

    /**
     * Checks that the prepared dump can be written in this format, before the output file exists; throws
     * {@code InvalidInputException} or {@code UnsupportedGuestException} otherwise.
     */
    default void check(PreparedDump dump) {}

    /**
     * Whether the format has a streamable ("flattened") form besides a seekable one; such a format can go to a pipe
     * only in that form, and {@code write} gets {@code seekable = false} when it is asked for.
     */
    default boolean hasFlattenedForm() {
        return false;
    }

    /**
     * Streams the dump to {@code out} and returns the bytes written.
     *
     * @param seekable whether {@code out} is a regular file (a {@code FileChannel}; a pipe is not) and the
     *                 streamable form was not asked for
     */
    long write(PreparedDump dump, WritableByteChannel out, boolean seekable, ProgressListener progress)
            throws IOException;
}
