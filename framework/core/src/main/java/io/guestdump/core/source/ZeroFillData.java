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
    private static final byte[] ZEROS = new byte[ZERO_CHUNK];

    /** Checks the size. */
    public ZeroFillData {
        if (size < 0) {
            throw new IllegalArgumentException("negative zero-fill size " + size);
        }
    }

    @Override
    public long knownZeros(long offset) {
        return offset < 0 || offset >= size ? 0 : size - offset;
    }

    @Override
    public long nextKnownZeros(long offset) {
        return offset < 0 ? 0 : Math.min(offset, size);
    }

    @Override
    public void read(long offset, ByteBuffer dst) {
        BlockData.checkRange(offset, dst.remaining(), size);
        while (dst.hasRemaining()) {
            dst.put(ZEROS, 0, Math.min(ZEROS.length, dst.remaining()));
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
