package io.guestdump.memory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;

/**
 * The bytes behind one guest block, read on demand so that a guest is never held in the heap. Offsets are relative
 * to the start of the block.
 */
public interface BlockData {

    /** Bytes available. */
    long size();

    /**
     * Whether reading these bytes means streaming them from elsewhere (a live hypervisor), so that reading them
     * twice costs a second transfer. Searches over guest memory skip such data; the dump itself reads it once.
     */
    default boolean streamedOnly() {
        return false;
    }

    /**
     * How many bytes from {@code offset} on are known to read as zeros without reading them (a zero-filled tail, a
     * hole), at most to the end of the data; 0 when unknown. Writers leave such runs as holes and searches skip
     * them, so a source that claims a huge zero tail costs no time.
     */
    default long knownZeros(long offset) {
        return 0;
    }

    /**
     * The first offset at or after {@code offset} where {@link #knownZeros} is positive, or {@link #size()} when
     * there is none; with {@code knownZeros} it enumerates a block's known-zero runs in time proportional to the
     * runs, not the bytes. The default knows of none.
     */
    default long nextKnownZeros(long offset) {
        return size();
    }

    /** Fills {@code dst} completely with the bytes starting at {@code offset}. */
    void read(long offset, ByteBuffer dst) throws IOException;

    /**
     * Writes {@code count} bytes starting at {@code offset} to {@code target}. Implementations backed by files
     * override this with {@code FileChannel.transferTo}.
     */
    default void transferTo(long offset, long count, WritableByteChannel target) throws IOException {
        transferThrough(ByteBuffer.allocate((int) Math.min(count, 1 << 20)), offset, count, target);
    }

    /**
     * {@link #transferTo} through the caller's buffer (e.g. a reused direct one): {@link #read} into it, written
     * out, until {@code count} bytes are written.
     */
    default void transferThrough(ByteBuffer buf, long offset, long count, WritableByteChannel target)
            throws IOException {
        long done = 0;
        while (done < count) {
            buf.clear();
            buf.limit((int) Math.min(buf.capacity(), count - done));
            read(offset + done, buf);
            buf.flip();
            while (buf.hasRemaining()) {
                target.write(buf);
            }
            done += buf.limit();
        }
    }

    /**
     * Checks that {@code [offset, offset + count)} lies within {@code size} bytes, without overflow.
     *
     * @throws IndexOutOfBoundsException naming the range and the size otherwise
     */
    static void checkRange(long offset, long count, long size) {
        if (offset < 0 || count < 0 || offset > size || count > size - offset) {
            throw new IndexOutOfBoundsException("bytes " + offset + "+" + count + " of " + size);
        }
    }

    /** A view of {@code [offset, offset + length)} of this data. */
    default BlockData slice(long offset, long length) {
        checkRange(offset, length, size());
        if (offset == 0 && length == size()) {
            return this;
        }
        BlockData parent = this;
        return new BlockData() {
            @Override
            public long size() {
                return length;
            }

            @Override
            public void read(long off, ByteBuffer dst) throws IOException {
                checkRange(off, dst.remaining(), length);
                parent.read(offset + off, dst);
            }

            @Override
            public void transferTo(long off, long count, WritableByteChannel target) throws IOException {
                checkRange(off, count, length);
                parent.transferTo(offset + off, count, target);
            }

            @Override
            public boolean streamedOnly() {
                return parent.streamedOnly();
            }

            @Override
            public long knownZeros(long off) {
                return off < 0 || off >= length ? 0 : Math.min(length - off, parent.knownZeros(offset + off));
            }

            @Override
            public long nextKnownZeros(long off) {
                if (off < 0 || off >= length) {
                    return length;
                }
                return Math.min(length, parent.nextKnownZeros(offset + off) - offset);
            }

            @Override
            public String toString() {
                return parent + "[" + offset + "+" + length + "]";
            }
        };
    }
}
