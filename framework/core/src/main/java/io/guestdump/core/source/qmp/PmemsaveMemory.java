package io.guestdump.core.source.qmp;

import io.guestdump.memory.BlockData;
import io.guestdump.memory.PhysRange;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Guest-physical memory read through QMP {@code pmemsave} into a FIFO: QEMU writes the range into the pipe, we
 * read it as it comes, so nothing is stored twice. Reads that continue where the previous one stopped continue
 * the same {@code pmemsave}; any other read of more than a page ends it and starts a new one for the rest of its
 * block. Smaller reads that do not continue it (page-table walkers) get their page from a small cache, filled by
 * a {@code pmemsave} of exactly that page.
 *
 * <p>{@code pmemsave} holds QEMU's main loop until the range is written, so no other QMP command runs meanwhile;
 * {@link #shutdown()} closes our end of the pipe, which makes QEMU's write fail and the command return.
 */
final class PmemsaveMemory {
    private static final int BUFFER = 1 << 20;
    /** Small reads that do not continue the running stream are served by whole pages, kept in a small cache. */
    private static final int PAGE = 4096;
    /** Pages kept (1 MiB): page-table walkers go back to a parent table after each child. */
    private static final int CACHED_PAGES = 256;

    private final QmpClient qmp;
    private final Path fifoDir;
    private final Duration timeout;
    private final AtomicLong fifoNumber = new AtomicLong();
    private final ByteBuffer buffer = ByteBuffer.allocateDirect(BUFFER);
    private volatile Stream stream;
    /** Guest-physical page address to its bytes; the guest is stopped while this object is used. */
    private final Map<Long, byte[]> pages = new LinkedHashMap<>(CACHED_PAGES * 2, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, byte[]> eldest) {
            return size() > CACHED_PAGES;
        }
    };
    private volatile boolean shutDown;

    /** One running {@code pmemsave}: {@code next} is the guest-physical address the pipe delivers next. */
    private static final class Stream {
        final Path fifo;
        final FileChannel pipe;
        final CompletableFuture<Object> reply;
        final long end;
        long next;
        volatile Throwable failure;

        Stream(Path fifo, FileChannel pipe, CompletableFuture<Object> reply, long start, long end) {
            this.fifo = fifo;
            this.pipe = pipe;
            this.reply = reply;
            this.next = start;
            this.end = end;
        }
    }

    /**
     * @param qmp     the connection
     * @param fifoDir a private directory QEMU can write to, for the pipes
     * @param timeout how long to wait for QEMU to give up a cancelled {@code pmemsave}
     */
    PmemsaveMemory(QmpClient qmp, Path fifoDir, Duration timeout) {
        this.qmp = qmp;
        this.fifoDir = fifoDir;
        this.timeout = timeout;
    }

    /** The bytes of {@code [start, start + size)}, read on demand. */
    BlockData data(long start, long size, String label) {
        return new Data(start, size, label);
    }

    private final class Data implements BlockData {
        @Override
        public boolean streamedOnly() {
            return true;
        }

        private final long start;
        private final long size;
        private final String label;

        Data(long start, long size, String label) {
            this.start = start;
            this.size = size;
            this.label = label;
        }

        @Override
        public long size() {
            return size;
        }

        @Override
        public void read(long offset, ByteBuffer dst) throws IOException {
            BlockData.checkRange(offset, dst.remaining(), size);
            PmemsaveMemory.this.read(start + offset, dst, start, start + size);
        }

        @Override
        public void transferTo(long offset, long count, WritableByteChannel target) throws IOException {
            BlockData.checkRange(offset, count, size);
            PmemsaveMemory.this.transfer(start + offset, count, start + size, target);
        }

        @Override
        public BlockData slice(long offset, long length) {
            BlockData.checkRange(offset, length, size);
            return new Data(start + offset, length, label);
        }


        @Override
        public String toString() {
            return "pmemsave " + label + " " + PhysRange.ofLength(start, size);
        }
    }

    private synchronized void read(long address, ByteBuffer dst, long blockStart, long limit) throws IOException {
        Stream running = stream;
        boolean continues = running != null && running.next == address && running.end - running.next >= dst
                .remaining();
        if (!continues && dst.remaining() <= PAGE) {
            while (dst.hasRemaining()) {
                long page = Math.max(blockStart, address & -PAGE);
                byte[] bytes = page(page, Math.min(limit, (address & -PAGE) + PAGE));
                int at = (int) (address - page);
                int n = Math.min(dst.remaining(), bytes.length - at);
                dst.put(bytes, at, n);
                address += n;
            }
            return;
        }
        Stream s = positionAt(address, dst.remaining(), limit);
        while (dst.hasRemaining()) {
            pipeRead(s, dst);
        }
        finishIfDone(s);
    }

    private synchronized void transfer(long address, long count, long limit, WritableByteChannel target)
            throws IOException {
        Stream s = positionAt(address, count, limit);
        long left = count;
        while (left > 0) {
            buffer.clear();
            buffer.limit((int) Math.min(buffer.capacity(), left));
            while (buffer.hasRemaining()) {
                pipeRead(s, buffer);
            }
            buffer.flip();
            while (buffer.hasRemaining()) {
                target.write(buffer);
            }
            left -= buffer.limit();
        }
        finishIfDone(s);
    }

    /** The bytes of {@code [page, end)} (at most one page), from the cache or a pmemsave of exactly that range. */
    private byte[] page(long page, long end) throws IOException {
        byte[] bytes = pages.get(page);
        if (bytes != null) {
            return bytes;
        }
        if (stream != null) {
            endStream(); // QEMU runs one pmemsave at a time: its main loop is held until the range is written
        }
        Stream s = start(page, end);
        ByteBuffer b = ByteBuffer.allocate((int) (end - page));
        while (b.hasRemaining()) {
            pipeRead(s, b);
        }
        finishIfDone(s);
        pages.put(page, b.array());
        return b.array();
    }

    /** A stream that delivers {@code address} next and holds at least {@code count} bytes. */
    private Stream positionAt(long address, long count, long limit) throws IOException {
        Stream s = stream;
        if (s != null && s.next == address && s.end - s.next >= count) {
            return s;
        }
        if (s != null) {
            endStream();
        }
        return start(address, limit);
    }

    private Stream start(long address, long end) throws IOException {
        if (shutDown) {
            throw new IOException("the dump was cancelled; no more guest memory is read");
        }
        Path fifo = fifoDir.resolve("pmem-" + fifoNumber.incrementAndGet());
        Fifos.make(fifo);
        // read+write so that opening never blocks; QEMU's errors arrive as the command's reply
        FileChannel pipe = FileChannel.open(fifo, StandardOpenOption.READ, StandardOpenOption.WRITE);
        CompletableFuture<Object> reply;
        try {
            reply = qmp.send("pmemsave", Map.of("val", address, "size", end - address, "filename",
                    fifo.toString()));
        } catch (IOException | RuntimeException e) {
            pipe.close();
            Files.deleteIfExists(fifo);
            throw e;
        }
        Stream s = new Stream(fifo, pipe, reply, address, end);
        reply.whenComplete((v, t) -> {
            if (t != null) {
                s.failure = t;
                try {
                    s.pipe.close(); // wakes a reader blocked on the pipe
                } catch (IOException ignored) {
                    // the failure is recorded
                }
            }
        });
        stream = s;
        return s;
    }

    private void pipeRead(Stream s, ByteBuffer dst) throws IOException {
        int n;
        try {
            n = s.pipe.read(dst);
        } catch (ClosedChannelException e) {
            throw failure(s, e);
        }
        if (n < 0) {
            throw failure(s, new EOFException("the pipe from QEMU ended early"));
        }
        s.next += n;
    }

    private IOException failure(Stream s, IOException e) {
        stream = null;
        Throwable why = s.failure;
        cleanup(s);
        return new IOException("QMP pmemsave of guest-physical " + PhysRange.hex(s.next) + " failed: "
                + (why != null ? why.getMessage() : e.getMessage()), e);
    }

    private void finishIfDone(Stream s) throws IOException {
        if (s.next != s.end) {
            return;
        }
        stream = null;
        try {
            QmpClient.await(s.reply);
        } finally {
            cleanup(s);
        }
    }

    /** Ends a running {@code pmemsave} and refuses to start another (cancellation, end of the dump). */
    void shutdown() {
        shutDown = true;
        endStream();
    }

    /** Ends a running {@code pmemsave} early (closing the pipe fails QEMU's write) and waits for QEMU. */
    private void endStream() {
        Stream s = stream;
        stream = null;
        if (s == null) {
            return;
        }
        cleanup(s);
        try {
            s.reply.get(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (Exception expected) {
            // QEMU reports the broken pipe as an I/O error: that is the point
        }
    }

    private static void cleanup(Stream s) {
        try {
            s.pipe.close();
        } catch (IOException ignored) {
            // closing a pipe we no longer read
        }
        try {
            Files.deleteIfExists(s.fifo);
        } catch (IOException ignored) {
            // the private directory is removed at the end
        }
    }
}
