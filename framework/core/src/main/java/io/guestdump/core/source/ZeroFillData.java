package io.guestdump.core.source;

import io.guestdump.memory.BlockData;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;

/**
 * Block data that reads as zeros: the part of a PT_LOAD's {@code p_memsz} beyond its {@code p_filesz} (gABI: "the
 * extra bytes are defined to hold the value 0"). Holds no bytes; writes stream from one small zero buffer.
 *
 * @param size bytes of zeros
 */
public record ZeroFillData(long size) implements BlockData {
    private static final int ZERO_CHUNK = 64 * 1024;

    /** Checks the size. */
    public ZeroFillData {
        if (size < 0) {
            throw new IllegalArgumentException("negative zero-fill size " + size);
        }
    }

    @Override
    public void read(long offset, ByteBuffer dst) {
        BlockData.checkRange(offset, dst.remaining(), size);
        while (dst.hasRemaining()) {
            dst.put((byte) 0);
        }
    }

    @Override
    public void transferTo(long offset, long count, WritableByteChannel target) throws IOException {
        BlockData.checkRange(offset, count, size);
        ByteBuffer zeros = ByteBuffer.allocate((int) Math.min(count, ZERO_CHUNK));
        long left = count;
        while (left > 0) {
            zeros.clear();
            zeros.limit((int) Math.min(zeros.capacity(), left));
            while (zeros.hasRemaining()) {
                target.write(zeros);
            }
            left -= zeros.limit();
        }
    }


    @Override
    public String toString() {
        return "zeros[" + size + "]";
    }
}
