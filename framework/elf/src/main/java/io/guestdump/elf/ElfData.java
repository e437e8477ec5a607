package io.guestdump.elf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** {@code EI_DATA}: the byte order of every multi-byte field in the file. */
public enum ElfData {
    /** {@code ELFDATA2LSB}: little-endian. */
    LSB(1, ByteOrder.LITTLE_ENDIAN),
    /** {@code ELFDATA2MSB}: big-endian. */
    MSB(2, ByteOrder.BIG_ENDIAN);

    private final int wire;
    private final ByteOrder order;

    ElfData(int wire, ByteOrder order) {
        this.wire = wire;
        this.order = order;
    }

    /** The {@code EI_DATA} byte. */
    public int wire() {
        return wire;
    }

    /** The matching {@link ByteOrder}. */
    public ByteOrder order() {
        return order;
    }

    /**
     * The one way main code makes a buffer: zero-filled and already in this byte order, so no field can be
     * written in the host's order by accident.
     */
    public ByteBuffer allocate(int size) {
        return ByteBuffer.allocate(size).order(order);
    }

    /** Wraps bytes in a buffer of this byte order. */
    public ByteBuffer wrap(byte[] bytes) {
        return ByteBuffer.wrap(bytes).order(order);
    }

    /** Parses the {@code EI_DATA} byte. */
    public static ElfData fromWire(int value) {
        for (ElfData d : values()) {
            if (d.wire == value) {
                return d;
            }
        }
        throw new IllegalArgumentException("unknown EI_DATA: " + value);
    }

    /** The value for a {@link ByteOrder}. */
    public static ElfData of(ByteOrder order) {
        return order == ByteOrder.BIG_ENDIAN ? MSB : LSB;
    }
}
