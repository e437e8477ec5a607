package io.guestdump.memory;

import java.nio.ByteBuffer;

/** Block data held in a byte array: for small blocks and tests. */
public final class ByteArrayData implements BlockData {
    private final byte[] bytes;

    /** Wraps (does not copy) the array. */
    public ByteArrayData(byte[] bytes) {
        this.bytes = bytes;
    }

    @Override
    public long size() {
        return bytes.length;
    }

    @Override
    public void read(long offset, ByteBuffer dst) {
        BlockData.checkRange(offset, dst.remaining(), bytes.length);
        dst.put(bytes, (int) offset, dst.remaining());
    }

    @Override
    public String toString() {
        return "bytes[" + bytes.length + "]";
    }
}
