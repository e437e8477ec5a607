package io.guestdump.memory;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;

/**
 * Block data stored in a region of an open file. The channel belongs to whoever opened it (the guest source);
 * this view never closes it.
 *
 * @param channel    the open file
 * @param fileOffset where the block's first byte is in the file
 * @param size       bytes of the block
 * @param label      the file's name, for messages
 */
public record FileRegion(FileChannel channel, long fileOffset, long size, String label) implements BlockData {

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        BlockData.checkRange(offset, dst.remaining(), size);
        long pos = fileOffset + offset;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, pos);
            if (n < 0) {
                throw new EOFException(label + " ended at byte " + pos + " while reading guest memory");
            }
            pos += n;
        }
    }

    @Override
    public void transferTo(long offset, long count, WritableByteChannel target) throws IOException {
        BlockData.checkRange(offset, count, size);
        long pos = fileOffset + offset;
        long left = count;
        while (left > 0) {
            long n = channel.transferTo(pos, left, target);
            if (n <= 0) {
                if (pos >= channel.size()) {
                    throw new EOFException(label + " ended at byte " + pos + " while copying guest memory");
                }
                // transferTo may return 0 on some channels; fall back to buffered copy for the rest
                BlockData.super.transferTo(pos - fileOffset, left, target);
                return;
            }
            pos += n;
            left -= n;
        }
    }

    @Override
    public String toString() {
        return label + "@" + fileOffset;
    }
}
