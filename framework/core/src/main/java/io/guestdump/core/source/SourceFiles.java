package io.guestdump.core.source;

import io.guestdump.arch.api.InvalidInputException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Checks on the files a source reads, made before opening them: a FIFO with no writer would block the open (or
 * the read) for ever, a device would stream without end, so where a regular file is required anything else is
 * refused with one line naming what the path is. Also recognises binary content where text (a snapshot) is
 * expected, so that a kdump file or an image is refused in one line rather than parsed as HOCON.
 */
public final class SourceFiles {
    /** {@code st_mode} file-type bits. */
    private static final int S_IFMT = 0170000;
    private static final int S_IFIFO = 0010000;
    private static final int S_IFCHR = 0020000;
    private static final int S_IFDIR = 0040000;
    private static final int S_IFBLK = 0060000;
    private static final int S_IFSOCK = 0140000;

    private SourceFiles() {}

    /**
     * Refuses {@code p} unless it is a regular file (after following links). A missing path is left to the caller,
     * which knows how to say what was expected there.
     *
     * @param what what the file is for, e.g. {@code "elf: source"}, {@code "guest.memory[3]: file"}
     */
    public static void requireRegular(Path p, String what) {
        if (!Files.exists(p) || Files.isRegularFile(p)) {
            return;
        }
        throw new InvalidInputException(what + " " + p + " is " + kind(p) + ", not a regular file; guestdump reads "
                + "sources from regular files only (a pipe or device could block or never end): copy it to a file");
    }

    /** What a path is, as a phrase: "a directory", "a FIFO (named pipe)", "a character device", .... */
    static String kind(Path p) {
        try {
            if (Files.getAttribute(p, "unix:mode") instanceof Integer mode) {
                switch (mode & S_IFMT) {
                    case S_IFDIR:
                        return "a directory";
                    case S_IFIFO:
                        return "a FIFO (named pipe)";
                    case S_IFCHR:
                        return "a character device";
                    case S_IFBLK:
                        return "a block device";
                    case S_IFSOCK:
                        return "a socket";
                    default:
                        break;
                }
            }
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            // fall through to the portable answer
        }
        return Files.isDirectory(p) ? "a directory" : "not a regular file";
    }

    /** The makedumpfile kdump-compressed signature ({@code disk_dump_header.signature}). */
    private static final byte[] KDUMP = "KDUMP   ".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    /** The makedumpfile flattened-format signature. */
    private static final byte[] FLATTENED = "makedumpfile".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /**
     * Refuses a file meant to be a HOCON snapshot whose first bytes are binary: a kdump file is named as one, any
     * other binary file (NUL bytes, or no valid text) is refused without quoting its bytes.
     */
    public static void requireText(Path p, String what) {
        byte[] head;
        try (InputStream in = Files.newInputStream(p)) {
            head = in.readNBytes(4096);
        } catch (IOException e) {
            throw new InvalidInputException("cannot read " + what + " " + p + ": " + e.getMessage(), e);
        }
        if (startsWith(head, KDUMP) || startsWith(head, FLATTENED)) {
            throw new InvalidInputException(what + " " + p + " is a kdump-compressed vmcore ("
                    + (startsWith(head, KDUMP) ? "seekable" : "flattened") + "), not a snapshot; guestdump re-dumps "
                    + "ELF vmcores (elf:PATH); inspect this one with 'guestdump info' or crash");
        }
        for (byte b : head) {
            if (b == 0) {
                throw new InvalidInputException(what + " " + p + " is a binary file (it holds NUL bytes), not a "
                        + "HOCON snapshot, an ELF vmcore or a QMP socket; see docs/snapshot-format.md");
            }
        }
        if (!java.nio.charset.StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(head),
                java.nio.CharBuffer.allocate(head.length), head.length < 4096).isError()) {
            return;
        }
        throw new InvalidInputException(what + " " + p + " is not UTF-8 text, so not a HOCON snapshot; give a "
                + "snapshot (.conf), an ELF vmcore or a QMP socket");
    }

    private static boolean startsWith(byte[] head, byte[] magic) {
        return head.length >= magic.length && Arrays.equals(head, 0, magic.length, magic, 0, magic.length);
    }
}
