package io.guestdump.core;

import java.util.Optional;

/**
 * What to dump and where.
 *
 * @param source    the guest source spec ({@code snapshot:PATH}, {@code qmp:SOCKET}, {@code sample:}, a path);
 *                  required: empty is refused
 * @param output    the output path, or {@code -} for standard output
 * @param begin     QEMU's {@code begin}: first guest-physical address to dump
 * @param length    QEMU's {@code length}: bytes to dump from {@code begin}
 * @param overwrite replace an existing output file
 * @param paging    build the PT_LOADs from the guest's page tables (the plugin's walker)
 * @param format    the output format name: {@code elf}, or a kdump variant
 * @param flattened write the format's streamable form (makedumpfile's flattened kdump)
 * @param dumpLevel makedumpfile's dump level (0-31): the page classes to leave out; empty to dump every page
 */
public record DumpRequest(Optional<String> source, String output, Optional<Long> begin, Optional<Long> length,
        boolean overwrite, boolean paging, String format, boolean flattened, Optional<Integer> dumpLevel) {

    /** A dump of every page. */
    public DumpRequest(Optional<String> source, String output, Optional<Long> begin, Optional<Long> length,
            boolean overwrite, boolean paging, String format, boolean flattened) {
        this(source, output, begin, length, overwrite, paging, format, flattened, Optional.empty());
    }

    /** A dump in the format's default form. */
    public DumpRequest(Optional<String> source, String output, Optional<Long> begin, Optional<Long> length,
            boolean overwrite, boolean paging, String format) {
        this(source, output, begin, length, overwrite, paging, format, false);
    }

    /** An ELF dump without paging. */
    public DumpRequest(Optional<String> source, String output, Optional<Long> begin, Optional<Long> length,
            boolean overwrite) {
        this(source, output, begin, length, overwrite, false, "elf", false);
    }
}
