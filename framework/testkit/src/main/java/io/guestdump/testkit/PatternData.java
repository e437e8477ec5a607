package io.guestdump.testkit;

import io.guestdump.memory.BlockData;
import java.nio.ByteBuffer;

/**
 * Block data whose every byte is a function of its guest-physical address, so a test can check any byte of a
 * vmcore without keeping the guest: {@code byteAt(paddr)}.
 */
public final class PatternData implements BlockData {
    private final long start;
    private final long size;

    /** The bytes of {@code [start, start + size)}. */
    public PatternData(long start, long size) {
        this.start = start;
        this.size = size;
    }

    /** The byte every test guest holds at {@code paddr}. */
    public static byte byteAt(long paddr) {
        long x = (paddr + 0x632BE59BD9B4E019L) * 0x9E3779B97F4A7C15L;
        return (byte) ((x >>> 56) ^ (x >>> 23) ^ paddr);
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void read(long offset, ByteBuffer dst) {
        if (offset < 0 || offset + dst.remaining() > size) {
            throw new IndexOutOfBoundsException("read " + offset + "+" + dst.remaining() + " of " + size);
        }
        long pa = start + offset;
        while (dst.hasRemaining()) {
            dst.put(byteAt(pa++));
        }
    }
}
