package io.guestdump.core.sample;

import io.guestdump.arch.api.SampleGuest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Writes the files of a plugin's {@link SampleGuest} into a directory ({@code guestdump sample-guest}, and the build
 * for the distribution's {@code config/guests}): each file in 1 MiB pieces, so a RAM file of any size streams.
 */
public final class SampleGuestWriter {
    private static final int PIECE = 1 << 20;

    private SampleGuestWriter() {}

    /**
     * Writes a sample of {@code size} bytes of guest-physical space into {@code dir} (created if missing), replacing
     * files of the same names; returns the snapshot file, {@code <name>.conf}.
     *
     * @throws IllegalArgumentException when the size is not a multiple of 4 KiB of at least the sample's default
     */
    public static Path write(SampleGuest sample, Path dir, long size) throws IOException {
        if (size < sample.defaultSize() || size % 4096 != 0) {
            throw new IllegalArgumentException("sample guest size 0x" + Long.toHexString(size) + " must be a multiple "
                    + "of 4 KiB of at least 0x" + Long.toHexString(sample.defaultSize()));
        }
        Files.createDirectories(dir);
        for (SampleGuest.SampleFile f : sample.files(size)) {
            write(f, dir.resolve(f.name()));
        }
        Path snapshot = dir.resolve(sample.name() + ".conf");
        if (!Files.isRegularFile(snapshot)) {
            throw new IllegalStateException("the sample guest " + sample.name() + " has no file " + snapshot.getFileName()
                    + "; its plugin must list its snapshot among its files");
        }
        return snapshot;
    }

    private static void write(SampleGuest.SampleFile f, Path path) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer piece = ByteBuffer.allocate((int) Math.min(PIECE, Math.max(f.length(), 1)));
            for (long at = 0; at < f.length(); ) {
                piece.clear().limit((int) Math.min(piece.capacity(), f.length() - at));
                f.content().read(at, piece);
                if (piece.hasRemaining()) {
                    throw new IllegalStateException("the sample guest's file " + f.name() + " left " + piece.remaining()
                            + " bytes unfilled at offset " + at);
                }
                piece.flip();
                while (piece.hasRemaining()) {
                    at += ch.write(piece, at);
                }
            }
        }
    }
}
