package io.guestdump.memory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A guest's physical memory: its blocks in ascending address order, pairwise disjoint. Page-table walkers read
 * through this, never through files.
 */
public final class GuestMemory {
    private final List<GuestBlock> blocks;

    /** Sorts the blocks and checks that no two overlap; throws naming both blocks otherwise. */
    public GuestMemory(List<GuestBlock> blocks) {
        List<GuestBlock> sorted = new ArrayList<>(blocks);
        sorted.sort(Comparator.comparing(b -> b.range().start(), Long::compareUnsigned));
        for (int i = 1; i < sorted.size(); i++) {
            GuestBlock a = sorted.get(i - 1);
            GuestBlock b = sorted.get(i);
            if (a.range().overlaps(b.range())) {
                throw new IllegalArgumentException("guest memory blocks overlap: " + a + " and " + b
                        + "; each guest-physical byte must come from one block");
            }
        }
        this.blocks = List.copyOf(sorted);
    }

    /** The blocks, ascending. */
    public List<GuestBlock> blocks() {
        return blocks;
    }

    /** Total bytes of all blocks. */
    public long size() {
        long total = 0;
        for (GuestBlock b : blocks) {
            total = Math.addExact(total, b.range().length());
        }
        return total;
    }

    /** The block holding the address, or null. */
    public GuestBlock blockAt(long address) {
        int lo = 0;
        int hi = blocks.size() - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            PhysRange r = blocks.get(mid).range();
            if (Long.compareUnsigned(address, r.start()) < 0) {
                hi = mid - 1;
            } else if (Long.compareUnsigned(address, r.end()) >= 0) {
                lo = mid + 1;
            } else {
                return blocks.get(mid);
            }
        }
        return null;
    }

    /** Whether every byte of {@code [address, address + length)} is backed by some block. */
    public boolean isBacked(long address, long length) {
        long at = address;
        long left = length;
        while (left > 0) {
            GuestBlock b = blockAt(at);
            if (b == null) {
                return false;
            }
            long n = Math.min(left, b.range().end() - at);
            at += n;
            left -= n;
        }
        return true;
    }

    /**
     * Fills {@code dst} with guest-physical bytes starting at {@code address}; reading a byte no block holds
     * throws {@link UnbackedAddressException}.
     */
    public void read(long address, ByteBuffer dst) throws IOException {
        long at = address;
        while (dst.hasRemaining()) {
            GuestBlock b = blockAt(at);
            if (b == null) {
                throw new UnbackedAddressException(at);
            }
            int n = (int) Math.min(dst.remaining(), b.range().end() - at);
            ByteBuffer part = dst.slice(dst.position(), n);
            b.data().read(at - b.range().start(), part);
            dst.position(dst.position() + n);
            at += n;
        }
    }

    /** Reads a 64-bit value in the given order. */
    public long readLong(long address, java.nio.ByteOrder order) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(8).order(order);
        read(address, buf);
        return buf.getLong(0);
    }

    /** Reads an unsigned 32-bit value in the given order. */
    public long readInt(long address, java.nio.ByteOrder order) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(4).order(order);
        read(address, buf);
        return Integer.toUnsignedLong(buf.getInt(0));
    }

    /** Thrown when a read touches an address no block holds. */
    public static final class UnbackedAddressException extends IOException {
        private static final long serialVersionUID = 1L;
        private final long address;

        UnbackedAddressException(long address) {
            super("guest-physical address " + PhysRange.hex(address) + " is not in any memory block");
            this.address = address;
        }

        /** The first address that was not backed. */
        public long address() {
            return address;
        }
    }
}
