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

    /** Fills {@code dst} completely with the bytes starting at {@code offset}. */
    void read(long offset, ByteBuffer dst) throws IOException;

    /**
     * Writes {@code count} bytes starting at {@code offset} to {@code target}. Implementations backed by files
     * override this with {@code FileChannel.transferTo}.
     */
    default void transferTo(long offset, long count, WritableByteChannel target) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate((int) Math.min(count, 1 << 20));
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

    /** A view of {@code [offset, offset + length)} of this data. */
    default BlockData slice(long offset, long length) {
        if (offset < 0 || length < 0 || offset > size() || length > size() - offset) {
            throw new IndexOutOfBoundsException("slice " + offset + "+" + length + " of " + size() + " bytes");
        }
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
                check(off, dst.remaining());
                parent.read(offset + off, dst);
            }

            @Override
            public void transferTo(long off, long count, WritableByteChannel target) throws IOException {
                check(off, count);
                parent.transferTo(offset + off, count, target);
            }

            private void check(long off, long count) {
                if (off < 0 || count < 0 || off > length || count > length - off) {
                    throw new IndexOutOfBoundsException("read " + off + "+" + count + " of " + length + " bytes");
                }
            }

            @Override
            public boolean streamedOnly() {
                return parent.streamedOnly();
            }

            @Override
            public String toString() {
                return parent + "[" + offset + "+" + length + "]";
            }
        };
    }
}
