package io.guestdump.core.source;

import io.guestdump.memory.BlockData;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.util.Arrays;
import java.util.List;

/**
 * Block data made of pieces laid end to end, e.g. the pieces of several aliasing PT_LOADs that together cover one
 * physical block, or a PT_LOAD's file bytes followed by its zero-filled tail. Reads and transfers go to the pieces;
 * nothing is copied into the heap.
 */
public final class ConcatenatedData implements BlockData {
    private final List<BlockData> parts;
    private final long[] starts;
    private final long size;

    /** The parts in order; none may be empty. */
    public ConcatenatedData(List<? extends BlockData> parts) {
        this.parts = List.copyOf(parts);
        this.starts = new long[this.parts.size()];
        long at = 0;
        for (int i = 0; i < this.parts.size(); i++) {
            if (this.parts.get(i).size() <= 0) {
                throw new IllegalArgumentException("empty part #" + i + " of concatenated block data");
            }
            starts[i] = at;
            at = Math.addExact(at, this.parts.get(i).size());
        }
        this.size = at;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        BlockData.checkRange(offset, dst.remaining(), size);
        long at = offset;
        int i = partAt(at);
        while (dst.hasRemaining()) {
            BlockData part = parts.get(i);
            long into = at - starts[i];
            int n = (int) Math.min(dst.remaining(), part.size() - into);
            ByteBuffer piece = dst.slice(dst.position(), n);
            part.read(into, piece);
            dst.position(dst.position() + n);
            at += n;
            i++;
        }
    }

    @Override
    public void transferTo(long offset, long count, WritableByteChannel target) throws IOException {
        BlockData.checkRange(offset, count, size);
        long at = offset;
        long left = count;
        int i = left > 0 ? partAt(at) : 0;
        while (left > 0) {
            BlockData part = parts.get(i);
            long into = at - starts[i];
            long n = Math.min(left, part.size() - into);
            part.transferTo(into, n, target);
            at += n;
            left -= n;
            i++;
        }
    }

    @Override
    public long knownZeros(long offset) {
        if (offset < 0 || offset >= size) {
            return 0;
        }
        long total = 0;
        for (int i = partAt(offset); i < parts.size(); i++) {
            long into = offset + total - starts[i];
            long z = parts.get(i).knownZeros(into);
            total += z;
            if (z < parts.get(i).size() - into) {
                break;
            }
        }
        return total;
    }

    @Override
    public long nextKnownZeros(long offset) {
        if (offset >= size) {
            return size;
        }
        long from = Math.max(0, offset);
        for (int i = partAt(from); i < parts.size(); i++) {
            long into = Math.max(0, from - starts[i]);
            long next = parts.get(i).nextKnownZeros(into);
            if (next < parts.get(i).size()) {
                return starts[i] + next;
            }
        }
        return size;
    }

    /** The index of the part holding byte {@code offset}. */
    private int partAt(long offset) {
        int i = Arrays.binarySearch(starts, offset);
        return i >= 0 ? i : -i - 2;
    }


    @Override
    public String toString() {
        return parts.toString();
    }
}
