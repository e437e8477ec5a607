package io.guestdump.core.source;

import io.guestdump.arch.api.InvalidInputException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Turns a source argument into a {@link GuestSource}: {@code snapshot:PATH}, {@code elf:PATH}, or a path whose
 * kind is recognised from its content (ELF magic: a vmcore; anything else: a HOCON file with a {@code guest}
 * block).
 */
public final class SourceSpec {
    private SourceSpec() {}

    /** Parses a source argument. */
    public static GuestSource parse(String spec) {
        int colon = spec.indexOf(':');
        if (colon > 1) {
            String kind = spec.substring(0, colon);
            String rest = spec.substring(colon + 1);
            switch (kind) {
                case "snapshot":
                    return new SnapshotSource(Path.of(rest));
                case "elf":
                    return new ElfVmcoreSource(Path.of(rest));
                default:
                    if (!Files.exists(Path.of(spec))) {
                        throw new InvalidInputException("unknown source kind '" + kind + ":' in " + spec
                                + "; use snapshot:PATH, elf:PATH, or give a path");
                    }
            }
        }
        Path p = Path.of(spec);
        if (!Files.exists(p)) {
            throw new InvalidInputException("source " + spec + " does not exist; give snapshot:PATH, elf:PATH or "
                    + "the path of a snapshot file or vmcore");
        }
        if (isElf(p)) {
            return new ElfVmcoreSource(p);
        }
        return new SnapshotSource(p);
    }

    private static boolean isElf(Path p) {
        if (!Files.isRegularFile(p)) {
            return false;
        }
        try (InputStream in = Files.newInputStream(p)) {
            byte[] m = in.readNBytes(4);
            return m.length == 4 && m[0] == 0x7f && m[1] == 'E' && m[2] == 'L' && m[3] == 'F';
        } catch (IOException e) {
            return false;
        }
    }
}
