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
     * Streams the dump to {@code out} and returns the bytes written.
     *
     * @param seekable whether {@code out} is a regular file (a pipe is not)
     */
    long write(PreparedDump dump, WritableByteChannel out, boolean seekable, ProgressListener progress)
            throws IOException;
}
