package io.guestdump.core.vmcore;

import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.VmcoreWriteException;
import java.io.FileOutputStream;
import java.io.FileDescriptor;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Where a vmcore goes. A file is written to a temporary file beside the target (mode 0600), fsynced and renamed
 * into place atomically; any failure, or an interrupted JVM, removes the temporary file, so a failed dump never
 * leaves a file at the target path. An existing target needs {@code overwrite}; a symbolic link is refused.
 * {@code -} streams to standard output.
 */
public final class OutputTarget implements AutoCloseable {
    private final Path target;
    private final Path temp;
    private final FileChannel channel;
    private final WritableByteChannel stdout;
    private final boolean fsync;
    private final Thread cleanup;
    private boolean committed;

    private OutputTarget(Path target, Path temp, FileChannel channel, WritableByteChannel stdout, boolean fsync) {
        this.target = target;
        this.temp = temp;
        this.channel = channel;
        this.stdout = stdout;
        this.fsync = fsync;
        if (temp != null) {
            cleanup = new Thread(this::deleteTemp, "guestdump-output-cleanup");
            Runtime.getRuntime().addShutdownHook(cleanup);
        } else {
            cleanup = null;
        }
    }

    /**
     * Checks the target and creates the temporary file; nothing is at {@code path} until {@link #commit()}.
     *
     * @param path      the output path, or {@code -} for standard output
     * @param overwrite whether an existing file may be replaced
     * @param fsync     whether to flush to disk before renaming
     */
    public static OutputTarget open(String path, boolean overwrite, boolean fsync) {
        if (path.equals("-")) {
            return new OutputTarget(null, null, null,
                    Channels.newChannel(new FileOutputStream(FileDescriptor.out)), false);
        }
        Path target = Path.of(path).toAbsolutePath().normalize();
        if (Files.isSymbolicLink(target)) {
            throw new InvalidInputException("output " + target + " is a symbolic link; guestdump does not write "
                    + "through links; give the real path");
        }
        if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
            throw new InvalidInputException("output " + target + " is a directory; give a file name");
        }
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS) && !overwrite) {
            throw new InvalidInputException("output " + target + " already exists; pass --force to replace it");
        }
        Path dir = target.getParent();
        if (!Files.isDirectory(dir)) {
            throw new InvalidInputException("output directory " + dir + " does not exist; create it first");
        }
        Path temp;
        FileChannel ch;
        try {
            temp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".partial",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            // no TRUNCATE_EXISTING: the file is new and empty, and an O_TRUNC open makes ext4 (auto_da_alloc) start
            // writing the whole dump back inside close(), which cost 1.5 s of a 4 GiB dump with fsync off
            ch = FileChannel.open(temp, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new VmcoreWriteException("cannot create a temporary file in " + dir
                    + " (check that the directory is writable)", e);
        }
        return new OutputTarget(target, temp, ch, null, fsync);
    }

    /** The channel to write the vmcore to. */
    public WritableByteChannel channel() {
        return channel != null ? channel : stdout;
    }

    /** The temporary file the vmcore is written to until {@link #commit()}, or empty for standard output. */
    public java.util.Optional<Path> temporaryPath() {
        return java.util.Optional.ofNullable(temp);
    }

    /** The final path, or null for standard output. */
    public Path path() {
        return target;
    }

    /** Flushes, fsyncs and renames the temporary file into place. */
    public void commit() throws IOException {
        if (channel == null) {
            return;
        }
        if (fsync) {
            channel.force(true);
        }
        channel.close();
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("cannot rename " + temp + " to " + target + " atomically", e);
        } catch (FileAlreadyExistsException e) {
            throw new IOException(target + " appeared while dumping", e);
        }
        committed = true;
        if (fsync) {
            syncDirectory(target.getParent());
        }
    }

    private static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException ignored) {
            // some file systems do not support fsync on directories; the rename itself is done
        }
    }

    /** Removes the temporary file unless committed. */
    @Override
    public void close() {
        try {
            if (channel != null && channel.isOpen()) {
                channel.close();
            }
        } catch (IOException ignored) {
            // the temporary file is deleted below either way
        }
        if (!committed) {
            deleteTemp();
        }
        if (cleanup != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(cleanup);
            } catch (IllegalStateException shuttingDown) {
                // the hook itself is running
            }
        }
    }

    private void deleteTemp() {
        if (temp != null && !committed) {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException ignored) {
                // nothing more can be done; the name starts with a dot and ends in .partial
            }
        }
    }
}
