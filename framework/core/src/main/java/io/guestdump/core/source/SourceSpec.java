package io.guestdump.core.source;

import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.core.source.qmp.QmpSettings;
import io.guestdump.core.source.qmp.QmpSource;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Turns a source argument into a {@link GuestSource}: {@code snapshot:PATH}, {@code elf:PATH}, {@code qmp:SOCKET},
 * or a path whose kind is recognised from its content (a unix socket: QMP; ELF magic: a vmcore; anything else: a
 * HOCON file with a {@code guest} block).
 */
public final class SourceSpec {
    /** {@code st_mode} file-type mask and the socket type. */
    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;

    private SourceSpec() {}

    /** Parses a source argument with the reference settings. */
    public static GuestSource parse(String spec) {
        return parse(spec, com.typesafe.config.ConfigFactory.load(SourceSpec.class.getClassLoader()));
    }

    /** Parses a source argument; {@code config} is the resolved configuration (for live sources). */
    public static GuestSource parse(String spec, com.typesafe.config.Config config) {
        int colon = spec.indexOf(':');
        if (colon > 1) {
            String kind = spec.substring(0, colon);
            String rest = spec.substring(colon + 1);
            switch (kind) {
                case "snapshot":
                    return new SnapshotSource(Path.of(rest));
                case "elf":
                    return new ElfVmcoreSource(Path.of(rest));
                case "savestate":
                    return new SaveStateSource(Path.of(rest), SaveStateSource.spoolDir(config));
                case "qmp":
                    return new QmpSource(Path.of(rest), QmpSettings.from(config));
                default:
                    if (!Files.exists(Path.of(spec))) {
                        throw new InvalidInputException("unknown source kind '" + kind + ":' in " + spec
                                + "; use snapshot:PATH, elf:PATH, savestate:PATH, qmp:SOCKET, sample:, or give a path");
                    }
            }
        }
        Path p = Path.of(spec);
        if (!Files.exists(p)) {
            throw new InvalidInputException("source " + spec + " does not exist; give snapshot:PATH, elf:PATH or "
                    + "the path of a snapshot file or vmcore");
        }
        if (isSocket(p)) {
            return new QmpSource(p, QmpSettings.from(config));
        }
        SourceFiles.requireRegular(p, "source");
        if (isElf(p)) {
            return new ElfVmcoreSource(p);
        }
        if (isSaveState(p)) {
            return new SaveStateSource(p, SaveStateSource.spoolDir(config));
        }
        SourceFiles.requireText(p, "source");
        return new SnapshotSource(p);
    }

    private static boolean isSocket(Path p) {
        try {
            return Files.getAttribute(p, "unix:mode") instanceof Integer mode && (mode & S_IFMT) == S_IFSOCK;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return false;
        }
    }

    /** QEMU's migration stream magic, or libvirt's save-image header. */
    private static boolean isSaveState(Path p) {
        if (!Files.isRegularFile(p)) {
            return false;
        }
        try (InputStream in = Files.newInputStream(p)) {
            return SaveStateSource.recognise(in.readNBytes(16));
        } catch (IOException e) {
            return false;
        }
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
