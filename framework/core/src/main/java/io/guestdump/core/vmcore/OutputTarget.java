package io.guestdump.core.vmcore;

import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.VmcoreWriteException;
import java.io.FileOutputStream;
import java.io.FileDescriptor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;

/**
 * Where a vmcore goes. A new or regular file is written to a temporary file beside the target (mode 0600 whatever
 * the umask), fsynced and committed: without {@code overwrite} by a hard link that fails if the target appeared
 * meanwhile (so another file is never replaced), with it by an atomic rename. Any failure, or an interrupted JVM,
 * removes the temporary file, so a failed dump never leaves a file at the target path. A FIFO or character device
 * (a pipe, {@code /dev/null}) is written in place as a stream, like {@code -} (standard output); it is never
 * unlinked or renamed over. A symbolic link, directory, block device, socket or terminal is refused.
 */
public final class OutputTarget implements AutoCloseable {
    /** {@code st_mode} file-type mask and the types (Linux {@code <sys/stat.h>}). */
    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;
    private static final int S_IFLNK = 0120000;
    private static final int S_IFREG = 0100000;
    private static final int S_IFBLK = 0060000;
    private static final int S_IFDIR = 0040000;
    private static final int S_IFCHR = 0020000;
    private static final int S_IFIFO = 0010000;
    /** Bytes of the target's name kept in the temporary name, so that it stays within NAME_MAX (255). */
    private static final int TEMP_NAME_BYTES = 200;

    private final Path target;
    private final Path temp;
    private final FileChannel channel;
    private final WritableByteChannel stream;
    private final boolean fsync;
    private final boolean overwrite;
    private final Thread cleanup;
    private boolean committed;
    private Commit commitMethod;

    /** How {@link #commit()} put the file in place. */
    public enum Commit {
        /** {@code link(2)} to the target, then unlink the temporary name: fails if the target exists (no race). */
        LINK,
        /** {@code rename(2)} over the target ({@code --force}). */
        RENAME_REPLACING,
        /**
         * No hard links on this file system: the target was checked to be absent, then the file renamed with
         * {@code rename(2)}; a file created at the target between the two is replaced. Java 17 cannot ask for
         * {@code renameat2(RENAME_NOREPLACE)}: {@code Files.move} with {@code ATOMIC_MOVE} is a plain
         * {@code rename(2)}, and without it the JDK makes the same check first.
         */
        CHECKED_RENAME,
        /** Written in place: standard output, a FIFO or a character device. */
        STREAM
    }

    private OutputTarget(Path target, Path temp, FileChannel channel, WritableByteChannel stream, boolean fsync,
            boolean overwrite) {
        this.target = target;
        this.temp = temp;
        this.channel = channel;
        this.stream = stream;
        this.fsync = fsync;
        this.overwrite = overwrite;
        if (temp != null) {
            cleanup = new Thread(this::deleteTemp, "guestdump-output-cleanup");
            Runtime.getRuntime().addShutdownHook(cleanup);
        } else {
            cleanup = null;
        }
    }

    /**
     * Whether {@code path} is written as a stream (no seeking): {@code -}, or an existing FIFO or character
     * device. A kdump format needs its flattened form there.
     */
    public static boolean streams(String path) {
        if (path.equals("-")) {
            return true;
        }
        int type = fileType(resolve(path));
        return type == S_IFIFO || type == S_IFCHR;
    }

    /**
     * Checks the target and creates the temporary file; nothing is at {@code path} until {@link #commit()}.
     *
     * @param path      the output path, or {@code -} for standard output
     * @param overwrite whether an existing regular file may be replaced
     * @param fsync     whether to flush to disk before renaming
     */
    public static OutputTarget open(String path, boolean overwrite, boolean fsync) {
        if (path.equals("-")) {
            terminal(Path.of("/proc/self/fd/1")).ifPresent(tty -> {
                throw new InvalidInputException("standard output is a terminal (" + tty + "); a vmcore is binary: "
                        + "redirect it (-o - > FILE, or into a pipe) or give a file with -o");
            });
            return new OutputTarget(null, null, null,
                    Channels.newChannel(new FileOutputStream(FileDescriptor.out)), false, false);
        }
        Path target = resolve(path);
        int type = fileType(target);
        switch (type) {
            case S_IFLNK -> throw new InvalidInputException("output " + target + " is a symbolic link; guestdump "
                    + "does not write through links; give the real path");
            case S_IFDIR -> throw new InvalidInputException("output " + target + " is a directory; give a file name");
            case S_IFBLK -> throw new InvalidInputException("output " + target + " is a block device; guestdump "
                    + "does not write onto devices; give a file (and copy it onto the device yourself)");
            case S_IFSOCK -> throw new InvalidInputException("output " + target + " is a socket; give a file, a FIFO "
                    + "or - (standard output)");
            case S_IFIFO, S_IFCHR -> {
                return openStream(target);
            }
            case S_IFREG -> {
                if (!overwrite) {
                    throw new InvalidInputException("output " + target + " already exists; pass --force to replace "
                            + "it");
                }
            }
            default -> {
                // absent: created at commit
            }
        }
        Path dir = target.getParent();
        if (!Files.isDirectory(dir)) {
            throw new InvalidInputException("output directory " + dir + " does not exist; create it first");
        }
        Path temp;
        FileChannel ch;
        try {
            temp = Files.createTempFile(dir, "." + truncate(target.getFileName().toString()) + ".", ".partial",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (IOException e) {
            throw new VmcoreWriteException("cannot create a temporary file in " + dir
                    + " (check that the directory is writable)", e);
        }
        try {
            // the mode given at creation is masked by the umask (0777 made it 0000); chmod is not
            Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rw-------"));
            // no TRUNCATE_EXISTING: the file is new and empty, and an O_TRUNC open makes ext4 (auto_da_alloc) start
            // writing the whole dump back inside close(), which cost 1.5 s of a 4 GiB dump with fsync off
            ch = FileChannel.open(temp, StandardOpenOption.WRITE);
        } catch (IOException e) {
            deleteQuietly(temp);
            throw new VmcoreWriteException("cannot open the temporary file " + temp, e);
        }
        return new OutputTarget(target, temp, ch, null, fsync, overwrite);
    }

    private static OutputTarget openStream(Path target) {
        terminal(target).ifPresent(tty -> {
            throw new InvalidInputException("output " + target + " is a terminal (" + tty + "); a vmcore is binary: "
                    + "give a file with -o");
        });
        try {
            // WRITE without CREATE: if the device or FIFO vanished meanwhile, nothing is created in its place
            return new OutputTarget(target, null, null, FileChannel.open(target, StandardOpenOption.WRITE), false,
                    false);
        } catch (IOException e) {
            throw new VmcoreWriteException("cannot open " + target + " for writing", e);
        }
    }

    private static Path resolve(String path) {
        try {
            return Path.of(path).toAbsolutePath().normalize();
        } catch (InvalidPathException e) {
            throw new InvalidInputException("output path " + path + " cannot be represented in this system's file "
                    + "name encoding (" + System.getProperty("sun.jnu.encoding") + "): " + e.getReason()
                    + "; run guestdump in a UTF-8 locale (e.g. LC_ALL=C.UTF-8) or choose an ASCII name", e);
        }
    }

    /** The {@code S_IF*} type of the path itself (links not followed), or 0 when it does not exist. */
    private static int fileType(Path p) {
        try {
            if (Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS) instanceof Integer mode) {
                return mode & S_IFMT;
            }
        } catch (NoSuchFileException e) {
            return 0;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            // not a unix file system: fall through to the portable checks
        }
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            return 0;
        }
        if (Files.isSymbolicLink(p)) {
            return S_IFLNK;
        }
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            return S_IFDIR;
        }
        return Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) ? S_IFREG : S_IFCHR;
    }

    /** The terminal {@code p} is or points at ({@code /proc/self/fd/1}), if it is one. */
    private static Optional<String> terminal(Path p) {
        String real;
        try {
            real = Files.isSymbolicLink(p) ? Files.readSymbolicLink(p).toString() : p.toRealPath().toString();
        } catch (IOException | UnsupportedOperationException e) {
            return Optional.empty();
        }
        boolean tty = real.startsWith("/dev/pts/") || real.startsWith("/dev/tty") || real.equals("/dev/console")
                || real.equals("/dev/ptmx");
        return tty ? Optional.of(real) : Optional.empty();
    }

    /** The longest prefix of {@code name} whose UTF-8 encoding fits {@link #TEMP_NAME_BYTES}. */
    private static String truncate(String name) {
        StringBuilder b = new StringBuilder();
        int bytes = 0;
        for (int i = 0; i < name.length(); ) {
            int cp = name.codePointAt(i);
            int n = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8).length;
            if (bytes + n > TEMP_NAME_BYTES) {
                break;
            }
            b.appendCodePoint(cp);
            bytes += n;
            i += Character.charCount(cp);
        }
        return b.toString();
    }

    /** Whether the channel can seek (a regular file); false for standard output, FIFOs and devices. */
    public boolean seekable() {
        return channel != null;
    }

    /** The channel to write the vmcore to. */
    public WritableByteChannel channel() {
        return channel != null ? channel : stream;
    }

    /** The temporary file the vmcore is written to until {@link #commit()}, or empty for standard output. */
    public java.util.Optional<Path> temporaryPath() {
        return java.util.Optional.ofNullable(temp);
    }

    /**
     * Extends the temporary file to the vmcore's final {@code size} before anything else is written, so that a
     * file larger than the target's file system allows (ext4: 16 TiB) is refused as bad input, in one line, rather
     * than failing part-way with EFBIG. Writes one zero byte at {@code size - 1}; every writer later writes that
     * byte again or leaves it a hole, which reads as the same zero. Nothing happens for a stream.
     *
     * @throws InvalidInputException when the file system cannot hold a file of {@code size} bytes
     */
    public void reserve(long size) {
        if (channel == null || size <= 0) {
            return;
        }
        try {
            channel.write(ByteBuffer.wrap(new byte[1]), size - 1);
        } catch (IOException e) {
            // EFBIG past the file system's largest file; EINVAL where the offset itself is refused
            String m = String.valueOf(e.getMessage());
            if (m.contains("File too large") || m.contains("Invalid argument")) {
                throw new InvalidInputException("the vmcore would be " + size + " bytes (0x" + Long.toHexString(size)
                        + "), more than the file system of " + target.getParent() + " holds in one file (" + e.getMessage()
                        + "); dump part of the guest (--begin/--length), choose a kdump --format, or write to another "
                        + "file system");
            }
            throw new VmcoreWriteException("cannot extend the temporary file " + temp + " to " + size + " bytes", e);
        }
    }

    /** The final path (a file, FIFO or device), or null for standard output. */
    public Path path() {
        return target;
    }

    /**
     * Flushes, fsyncs and puts the file in place: without {@code overwrite} by linking it to the target, which
     * fails if a file appeared there meanwhile (it is kept; this dump is discarded), with it by an atomic rename.
     * A stream is closed.
     */
    public void commit() throws IOException {
        if (channel == null) {
            if (target != null) {
                stream.close();
            }
            commitMethod = Commit.STREAM;
            return;
        }
        if (fsync) {
            channel.force(true);
        }
        channel.close();
        if (overwrite) {
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                commitMethod = Commit.RENAME_REPLACING;
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("cannot rename " + temp + " to " + target + " atomically", e);
            }
        } else {
            linkWithoutReplacing();
        }
        committed = true;
        if (!overwrite) {
            deleteQuietly(temp);
        }
        if (fsync) {
            syncDirectory(target.getParent());
        }
    }

    private void linkWithoutReplacing() throws IOException {
        try {
            Files.createLink(target, temp);
            commitMethod = Commit.LINK;
        } catch (FileAlreadyExistsException e) {
            throw appeared();
        } catch (UnsupportedOperationException | FileSystemException e) {
            // no hard links here (vfat, exFAT, some SMB and FUSE mounts): check, then rename; a file created
            // between the two is replaced. renameat2(RENAME_NOREPLACE) would close that window, but Java 17 has no
            // way to ask for it without native code (docs/output.md)
            if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                throw appeared();
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            commitMethod = Commit.CHECKED_RENAME;
        }
    }

    /** How the file was put in place, once {@link #commit()} returned. */
    public Optional<Commit> committedBy() {
        return Optional.ofNullable(commitMethod);
    }

    private VmcoreWriteException appeared() {
        return new VmcoreWriteException("output " + target + " appeared while dumping (another program or "
                + "guestdump wrote it); it is kept and this dump is discarded; choose another -o or pass --force");
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
            if (channel == null && target != null && stream.isOpen()) {
                stream.close();
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

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // nothing more can be done; the name starts with a dot and ends in .partial
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
