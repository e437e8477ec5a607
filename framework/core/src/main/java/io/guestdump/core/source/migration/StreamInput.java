package io.guestdump.core.source.migration;

import io.guestdump.arch.api.InvalidInputException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;

/**
 * Sequential big-endian reads from {@code [start, end)} of an open file, through one 1 MiB buffer. Reading past
 * {@code end} is an {@link InvalidInputException} naming the byte and what was being read (a truncated stream).
 */
final class StreamInput implements io.guestdump.arch.api.MigrationInput {
    private static final int BUFFER = 1 << 20;

    private final FileChannel channel;
    private final long end;
    private final String label;
    private final ByteBuffer buf = ByteBuffer.allocate(BUFFER).order(ByteOrder.BIG_ENDIAN);
    /** File position of {@code buf}'s first byte. */
    private long bufStart;

    StreamInput(FileChannel channel, long start, long end, String label) {
        this.channel = channel;
        this.end = end;
        this.label = label;
        this.bufStart = start;
        buf.limit(0);
    }

    /** The file position of the next byte. */
    @Override
    public long position() {
        return bufStart + buf.position();
    }

    /** Bytes left before the end. */
    long remaining() {
        return end - position();
    }

    /** Whether every byte was read. */
    boolean atEnd() {
        return remaining() <= 0;
    }

    @Override
    public int u8(String what) {
        ensure(1, what);
        return buf.get() & 0xff;
    }

    /** The next byte without consuming it, or -1 at the end. */
    int peek() {
        if (remaining() <= 0) {
            return -1;
        }
        ensure(1, "a byte");
        return buf.get(buf.position()) & 0xff;
    }

    @Override
    public long u32(String what) {
        ensure(4, what);
        return Integer.toUnsignedLong(buf.getInt());
    }

    @Override
    public long u64(String what) {
        ensure(8, what);
        return buf.getLong();
    }

    /** {@code n} bytes (n was checked against the bytes left, so a corrupt length cannot allocate much). */
    byte[] bytes(long n, String what) {
        if (n < 0 || n > remaining()) {
            throw truncated(n, what);
        }
        byte[] out = new byte[(int) Math.min(n, Integer.MAX_VALUE - 8)];
        if (out.length != n) {
            throw new InvalidInputException(label + ": " + what + " of " + n + " bytes at byte " + position()
                    + " is larger than anything a migration stream holds");
        }
        int done = 0;
        while (done < n) {
            ensure(1, what);
            int k = (int) Math.min(buf.remaining(), n - done);
            buf.get(out, done, k);
            done += k;
        }
        return out;
    }

    /** A string of {@code u8} length, as QEMU writes section and RAMBlock id strings. */
    String shortString(String what) {
        int len = u8(what + " length");
        return new String(bytes(len, what), StandardCharsets.ISO_8859_1);
    }

    @Override
    public void skip(long n, String what) {
        if (n < 0 || n > remaining()) {
            throw truncated(n, what);
        }
        long inBuf = Math.min(n, buf.remaining());
        buf.position(buf.position() + (int) inBuf);
        long rest = n - inBuf;
        if (rest > 0) {
            bufStart = position() + rest;
            buf.limit(0);
            buf.position(0);
        }
    }

    /** Continues reading at file position {@code pos} (within the stream). */
    void seek(long pos) {
        if (pos >= bufStart && pos <= bufStart + buf.limit()) {
            buf.position((int) (pos - bufStart));
        } else {
            bufStart = pos;
            buf.limit(0);
            buf.position(0);
        }
    }

    private void ensure(int n, String what) {
        if (buf.remaining() >= n) {
            return;
        }
        if (remaining() < n) {
            throw truncated(n, what);
        }
        long pos = position();
        buf.compact(); // the unread bytes move to the front
        int keep = buf.position();
        try {
            long want = Math.min(buf.remaining(), end - (pos + keep));
            buf.limit(keep + (int) want);
            long at = pos + keep;
            while (buf.position() < buf.limit()) {
                int r = channel.read(buf, at);
                if (r < 0) {
                    throw new InvalidInputException(label + ": the file ended at byte " + at + " while reading "
                            + what + " (it shrank while being read?)");
                }
                at += r;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(label + ": " + e.getMessage(), e);
        }
        buf.flip();
        bufStart = pos;
    }

    private InvalidInputException truncated(long n, String what) {
        return new InvalidInputException(label + ": the stream is truncated: " + what + " needs " + n + " bytes at "
                + "byte " + position() + " but " + Math.max(0, remaining()) + " are left; the file is incomplete "
                + "(was the migration finished?)");
    }
}
