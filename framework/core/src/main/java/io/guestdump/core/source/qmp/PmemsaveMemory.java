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
 * a {@code pmemsave} of the aligned 64 KiB around it.
 *
 * <p>{@code pmemsave} holds QEMU's main loop until the range is written, so no other QMP command runs meanwhile;
 * {@link #shutdown()} closes our end of the pipe, which makes QEMU's write fail and the command return.
 */
final class PmemsaveMemory {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(PmemsaveMemory.class);
    private static final int BUFFER = 1 << 20;
    /**
     * A read up to this far past where the running {@code pmemsave} has got reads on through the bytes in between
     * rather than starting another: a new {@code pmemsave} costs a QMP round trip, a FIFO and the end of the previous
     * one (milliseconds), in which QEMU streams megabytes. A dump level's kept pages and a {@code struct page} array
     * read in pieces are read this way, in a few long streams.
     */
    static final long READ_THROUGH = 4L << 20;
    /** FIFOs made by one {@code mkfifo}. */
    static final int FIFO_BATCH = 32;
    /** Small reads that do not continue the running stream are served by whole pages, kept in a small cache. */
    private static final int PAGE = 4096;
    /**
     * A small read that misses the cache fetches the aligned 64 KiB around it (16 pages, one {@code pmemsave}): a
     * kernel's page tables are allocated close together, so a walk asks QEMU a few times rather than once a table.
     */
    static final int PAGE_CHUNK = 16 * PAGE;
    /** Pages kept (1 MiB): page-table walkers go back to a parent table after each child. */
    private static final int CACHED_PAGES = 256;

    private final QmpClient qmp;
    private final Path fifoDir;
    private final Duration timeout;
    private final AtomicLong fifoNumber = new AtomicLong();
    /** FIFOs made and not used yet ({@link #nextFifo}). */
    private final java.util.ArrayDeque<Path> spareFifos = new java.util.ArrayDeque<>();
    /** Pmemsave commands started, for the debug summary. */
    private long commands;
    /** Bytes read from the pipes, and of those, read through and dropped ({@link #READ_THROUGH}). */
    private long pipeBytes;
    private long droppedBytes;
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

    /**
     * One running {@code pmemsave}: {@code next} is the guest-physical address the pipe delivers next. The FIFO is
     * open twice: {@code pipe} reads, {@code keeper} (read-write, so that neither open blocks) stands in for QEMU as a
     * writer until QEMU has answered. QEMU closes its end before it answers, so once the answer has come and the
     * keeper is closed, the pipe ends (EOF) where QEMU stopped writing: a short {@code pmemsave} is seen as one.
     */
    private static final class Stream {
        final Path fifo;
        final FileChannel pipe;
        final FileChannel keeper;
        final CompletableFuture<Object> reply;
        final long start;
        final long end;
        /** The nanoTime by which QEMU must have delivered everything (time spent waiting on the pipe only). */
        final long budget;
        long next;
        volatile Throwable failure;
        /** nanoTime at which the current blocking read began, or 0 when not reading. */
        volatile long readingSince;
        /** Nanoseconds spent waiting for QEMU in reads that ended. */
        volatile long waited;

        Stream(Path fifo, FileChannel pipe, FileChannel keeper, CompletableFuture<Object> reply, long start, long end,
                long budget) {
            this.fifo = fifo;
            this.pipe = pipe;
            this.keeper = keeper;
            this.reply = reply;
            this.start = start;
            this.next = start;
            this.end = end;
            this.budget = budget;
        }
    }

    private final Duration stall;
    private final long minRate;
    private volatile Thread watchdog;

    /**
     * @param qmp     the connection
     * @param fifoDir a private directory QEMU can write to, for the pipes
     * @param timeout how long to wait for QEMU to give up a cancelled {@code pmemsave}
     * @param stall   how long QEMU may deliver nothing while we wait for bytes, or not answer after the last one
     * @param minRate the slowest rate accepted: a {@code pmemsave} of N bytes may make us wait at most
     *                {@code stall + N / minRate}
     */
    PmemsaveMemory(QmpClient qmp, Path fifoDir, Duration timeout, Duration stall, long minRate) {
        this.qmp = qmp;
        this.fifoDir = fifoDir;
        this.timeout = timeout;
        this.stall = stall;
        this.minRate = Math.max(1, minRate);
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
        if (!reachable(stream, address, dst.remaining()) && dst.remaining() <= PAGE) {
            while (dst.hasRemaining()) {
                long page = Math.max(blockStart, address & -PAGE);
                byte[] bytes = page(page, blockStart, limit);
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
    private byte[] page(long page, long blockStart, long limit) throws IOException {
        byte[] bytes = pages.get(page);
        if (bytes != null) {
            return bytes;
        }
        if (stream != null) {
            endStream(); // QEMU runs one pmemsave at a time: its main loop is held until the range is written
        }
        // the aligned PAGE_CHUNK around the page, within the block: page tables lie close to each other
        long start = Math.max(blockStart, page & -PAGE_CHUNK);
        long end = Math.min(limit, (page & -PAGE_CHUNK) + PAGE_CHUNK);
        Stream s = start(start, end);
        ByteBuffer b = ByteBuffer.allocate((int) (end - start));
        while (b.hasRemaining()) {
            pipeRead(s, b);
        }
        finishIfDone(s);
        byte[] all = b.array();
        for (long p = start; p < end; ) {
            long pEnd = Math.min(end, (p & -PAGE) + PAGE);
            pages.put(p, java.util.Arrays.copyOfRange(all, (int) (p - start), (int) (pEnd - start)));
            p = pEnd;
        }
        return pages.get(page);
    }

    /**
     * Whether the running stream {@code s} can deliver {@code [address, address + count)}: it continues there, or
     * gets there by reading through at most {@link #READ_THROUGH} bytes.
     */
    private static boolean reachable(Stream s, long address, long count) {
        return s != null && Long.compareUnsigned(address, s.next) >= 0 && address - s.next <= READ_THROUGH
                && Long.compareUnsigned(s.end - address, count) >= 0;
    }

    /** A stream that delivers {@code address} next and holds at least {@code count} bytes. */
    private Stream positionAt(long address, long count, long limit) throws IOException {
        Stream s = stream;
        if (reachable(s, address, count)) {
            while (s.next != address) { // the bytes in between are read and dropped
                buffer.clear();
                buffer.limit((int) Math.min(buffer.capacity(), address - s.next));
                long before = s.next;
                pipeRead(s, buffer);
                droppedBytes += s.next - before;
            }
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
        Path fifo = nextFifo();
        // the read-write keeper first, so that opening the reader does not block; QEMU's errors arrive as the reply
        FileChannel keeper = FileChannel.open(fifo, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileChannel pipe;
        CompletableFuture<Object> reply;
        try {
            pipe = FileChannel.open(fifo, StandardOpenOption.READ);
        } catch (IOException | RuntimeException e) {
            keeper.close();
            Files.deleteIfExists(fifo);
            throw e;
        }
        try {
            reply = qmp.send("pmemsave", Map.of("val", address, "size", end - address, "filename",
                    fifo.toString()));
            commands++;
        } catch (IOException | RuntimeException e) {
            pipe.close();
            keeper.close();
            Files.deleteIfExists(fifo);
            throw e;
        }
        long size = end - address;
        double budget = stall.toNanos() + (double) size / minRate * 1e9;
        Stream s = new Stream(fifo, pipe, keeper, reply, address, end,
                budget >= Long.MAX_VALUE ? Long.MAX_VALUE : (long) budget);
        reply.whenComplete((v, t) -> {
            if (t != null) {
                fail(s, t); // wakes a reader blocked on the pipe
            } else {
                close(s.keeper); // QEMU has closed its end: the pipe now ends where QEMU stopped writing
            }
        });
        stream = s;
        startWatchdog();
        return s;
    }

    /**
     * A new FIFO for the next {@code pmemsave}: each stream has its own, made {@link #FIFO_BATCH} at a time (one
     * {@code mkfifo} process for many streams); those not used are removed with the private directory.
     */
    private Path nextFifo() throws IOException {
        if (spareFifos.isEmpty()) {
            java.util.List<Path> batch = new java.util.ArrayList<>();
            for (int i = 0; i < FIFO_BATCH; i++) {
                batch.add(fifoDir.resolve("pmem-" + fifoNumber.incrementAndGet()));
            }
            Fifos.makeAll(batch);
            spareFifos.addAll(batch);
        }
        return spareFifos.poll();
    }

    private void pipeRead(Stream s, ByteBuffer dst) throws IOException {
        int n;
        long t0 = System.nanoTime();
        s.readingSince = t0;
        try {
            n = s.pipe.read(dst);
        } catch (ClosedChannelException e) {
            throw failure(s, e);
        } finally {
            s.readingSince = 0;
            s.waited += System.nanoTime() - t0;
        }
        if (n < 0) {
            throw failure(s, new EOFException("QEMU answered pmemsave of " + (s.end - s.start) + " bytes at "
                    + PhysRange.hex(s.start) + " as done after writing only " + (s.next - s.start) + " of them (a "
                    + "short pmemsave); no dump is written from a short read"));
        }
        s.next += n;
        pipeBytes += n;
    }

    /** Fails a stream: records why and closes both ends, which wakes a reader and makes QEMU's writes fail. */
    private static void fail(Stream s, Throwable why) {
        if (s.failure == null) {
            s.failure = why;
        }
        close(s.keeper);
        close(s.pipe);
    }

    private static void close(FileChannel c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // nothing to do: the channel is unusable either way
        }
    }

    /** Watches the running stream: QEMU that delivers nothing for {@code stall}, or too slowly, fails it. */
    private void startWatchdog() { // called with this object's lock held (read, transfer)
        if (watchdog != null) {
            return;
        }
        long period = Math.max(5, Math.min(1000, stall.toMillis() / 10));
        watchdog = new Thread(() -> {
            while (!shutDown) {
                try {
                    Thread.sleep(period);
                } catch (InterruptedException e) {
                    return;
                }
                Stream s = stream;
                long since = s == null ? 0 : s.readingSince;
                if (since == 0) {
                    continue;
                }
                long now = System.nanoTime();
                if (now - since > stall.toNanos()) {
                    fail(s, new IOException("QEMU delivered no byte for " + stall.toMillis() / 1000.0 + " s ("
                            + (s.next - s.start) + " of " + (s.end - s.start) + " bytes so far; "
                            + "guestdump.source.qmp.pmemsave-stall-timeout)"));
                } else if (s.waited + (now - since) > s.budget) {
                    fail(s, new IOException("QEMU delivered only " + (s.next - s.start) + " of " + (s.end - s.start)
                            + " bytes in " + (s.waited + now - since) / 1_000_000_000L + " s, slower than "
                            + "guestdump.source.qmp.pmemsave-min-rate = " + minRate + " bytes/s"));
                }
            }
        }, "guestdump-pmemsave-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
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
            s.reply.get(stall.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IOException("QMP pmemsave of guest-physical " + PhysRange.hex(s.start) + ": QEMU delivered all "
                    + (s.end - s.start) + " bytes but did not answer within " + stall.toMillis() / 1000.0 + " s "
                    + "(guestdump.source.qmp.pmemsave-stall-timeout)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for QEMU", e);
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException r) {
                throw r;
            }
            throw c instanceof IOException io ? io : new IOException(c);
        } finally {
            cleanup(s);
        }
    }

    /**
     * Ends the running {@code pmemsave}, if any, once the dump has read what it needs: a stream the writer did not
     * read to its end holds QEMU's main loop (it blocks writing the pipe), and every later command would wait.
     */
    synchronized void endReading() {
        endStream();
    }

    /** Ends a running {@code pmemsave} and refuses to start another (cancellation, end of the dump). */
    void shutdown() {
        shutDown = true;
        endStream();
        LOG.debug("pmemsave: {} commands, {} bytes through the pipes, {} of them read through to a later address",
                commands, pipeBytes, droppedBytes);
        Thread w = watchdog;
        if (w != null) {
            w.interrupt();
        }
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
        close(s.keeper);
        close(s.pipe);
        try {
            Files.deleteIfExists(s.fifo);
        } catch (IOException ignored) {
            // the private directory is removed at the end
        }
    }
}
