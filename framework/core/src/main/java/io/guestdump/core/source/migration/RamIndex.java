package io.guestdump.core.source.migration;

import io.guestdump.memory.BlockData;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;

/**
 * Where each target page of one RAMBlock is in the stream: the file position of its bytes (a
 * {@code RAM_SAVE_FLAG_PAGE} record), a fill byte ({@code RAM_SAVE_FLAG_ZERO}), or nothing (never sent: reads as
 * zeros, as the destination's fresh RAM would). A page sent again replaces the earlier entry. Eight bytes per page,
 * allocated in chunks when a page of the chunk is first sent; the stream checks the total against its budget before
 * any page is indexed.
 */
final class RamIndex implements BlockData {
    /** Pages per lazily allocated chunk. */
    private static final int CHUNK_SHIFT = 9;
    private static final int CHUNK_PAGES = 1 << CHUNK_SHIFT;
    /** Heap bytes of one chunk. */
    static final long CHUNK_BYTES = (long) CHUNK_PAGES * Long.BYTES;
    /** Bytes gathered per write in {@link #transferTo}. */
    private static final int TRANSFER_BUFFER = 1 << 20;
    /** Zeros for pages never sent or sent as zero pages (target pages are at most 64 KiB). */
    private static final byte[] ZEROS = new byte[1 << 16];

    private final String name;
    private final long usedLength;
    private final int pageShift;
    private final long[][] chunks;
    private FileChannel channel;
    private String label;

    RamIndex(String name, long usedLength, int pageShift) {
        this.name = name;
        this.usedLength = usedLength;
        this.pageShift = pageShift;
        long pages = pages(usedLength, pageShift);
        this.chunks = new long[(int) ((pages + CHUNK_PAGES - 1) >>> CHUNK_SHIFT)][];
    }

    /** Target pages of {@code length} bytes, rounded up. */
    static long pages(long length, int pageShift) {
        return (length + (1L << pageShift) - 1) >>> pageShift;
    }

    String name() {
        return name;
    }

    long usedLength() {
        return usedLength;
    }

    /** Binds the index to the file its positions refer to. */
    void attach(FileChannel channel, String label) {
        this.channel = channel;
        this.label = label;
    }

    /**
     * Page {@code page}'s bytes are at file position {@code position} (which is never 0: the header is there).
     *
     * @return whether a chunk of {@link #CHUNK_BYTES} was allocated
     */
    boolean page(long page, long position) {
        return set(page, position);
    }

    /**
     * Page {@code page} reads as {@code fill} everywhere.
     *
     * @return whether a chunk of {@link #CHUNK_BYTES} was allocated
     */
    boolean fill(long page, int fill) {
        if ((fill & 0xff) == 0) {
            if (chunks[(int) (page >>> CHUNK_SHIFT)] != null) {
                set(page, 0); // a zero page replaces an earlier copy; never-sent pages read as zeros too
            }
            return false;
        }
        return set(page, -(fill & 0xff) - 1);
    }

    private boolean set(long page, long entry) {
        int c = (int) (page >>> CHUNK_SHIFT);
        long[] chunk = chunks[c];
        boolean fresh = chunk == null;
        if (fresh) {
            chunk = new long[CHUNK_PAGES];
            chunks[c] = chunk;
        }
        chunk[(int) (page & (CHUNK_PAGES - 1))] = entry;
        return fresh;
    }

    private long entry(long page) {
        long[] chunk = chunks[(int) (page >>> CHUNK_SHIFT)];
        return chunk == null ? 0 : chunk[(int) (page & (CHUNK_PAGES - 1))];
    }

    @Override
    public long size() {
        return usedLength;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        BlockData.checkRange(offset, dst.remaining(), usedLength);
        long at = offset;
        while (dst.hasRemaining()) {
            long page = at >>> pageShift;
            int into = (int) (at & ((1L << pageShift) - 1));
            int n = (int) Math.min(dst.remaining(), (1L << pageShift) - into);
            long e = entry(page);
            if (e > 0) {
                ByteBuffer part = dst.slice(dst.position(), n);
                long pos = e + into;
                while (part.hasRemaining()) {
                    int r = channel.read(part, pos);
                    if (r < 0) {
                        throw new IOException(label + " ended at byte " + pos + " while reading " + name);
                    }
                    pos += r;
                }
                dst.position(dst.position() + n);
            } else {
                if (e == 0) {
                    dst.put(ZEROS, 0, n);
                } else {
                    byte b = (byte) (-e - 1);
                    for (int i = 0; i < n; i++) {
                        dst.put(b);
                    }
                }
            }
            at += n;
        }
    }

    /**
     * Gathers pages into a 1 MiB buffer (one positional read per page sent, zeros put in bulk) and writes the buffer
     * at once, so the target sees large writes whatever the stream's page order.
     */
    @Override
    public void transferTo(long offset, long count, WritableByteChannel target) throws IOException {
        BlockData.checkRange(offset, count, usedLength);
        ByteBuffer buf = ByteBuffer.allocate((int) Math.min(count, TRANSFER_BUFFER));
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

    @Override
    public String toString() {
        return label + " RAMBlock " + name;
    }
}
