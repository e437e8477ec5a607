package io.guestdump.core.kdump;

import io.guestdump.core.vmcore.ProgressListener;
import io.guestdump.elf.ElfData;
import io.guestdump.memory.GuestBlock;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Streams a planned kdump file. Pages go to a fixed pool of compression threads in batches of consecutive pfns;
 * each thread keeps one compressor and one buffer for the whole dump. The calling thread takes the results back
 * in pfn order, so the file does not depend on the thread count, and writes descriptors and data while the pool
 * works on the next batches; at most {@code 2 × threads + 2} batches are in flight, which bounds the memory.
 */
public final class KdumpWriter {
    /** Marks an all-zero page in a batch result. */
    private static final int ZERO = -1;

    private final KdumpLayout layout;
    private final byte[] noteBytes;
    private final List<GuestBlock> blocks;
    private final KdumpCodec codec;
    private final KdumpSettings settings;

    /**
     * @param layout    the plan
     * @param noteBytes the encoded notes
     * @param blocks    the memory, as planned
     * @param codec     the page codec
     * @param settings  zero pages, level, threads, batch size
     */
    public KdumpWriter(KdumpLayout layout, byte[] noteBytes, List<GuestBlock> blocks, KdumpCodec codec,
            KdumpSettings settings) {
        this.layout = layout;
        this.noteBytes = noteBytes;
        this.blocks = blocks;
        this.codec = codec;
        this.settings = settings;
    }

    /** Writes the whole file to {@code sink}; returns the bytes the sink wrote. */
    public long write(KdumpSink sink, ProgressListener progress) throws IOException {
        ElfData data = layout.target().data();
        int bs = layout.blockSize();
        sink.write(0, ByteBuffer.wrap(layout.header().encode(layout.target().elfClass(), data)));
        byte[] sub = layout.subHeader().encode(layout.target().elfClass(), data);
        ByteBuffer subAndNotes = ByteBuffer.allocate(sub.length + noteBytes.length).put(sub).put(noteBytes);
        sink.write(bs, subAndNotes.flip());
        byte[] present = layout.presentBitmap();
        sink.write(layout.bitmap1Offset(), ByteBuffer.wrap(present));
        byte[] dumped = layout.dumped() == null ? layout.clearUnbacked(present.clone()) : layout.dumpedBitmap();

        long dataCursor = layout.dataOffset();
        long zeroOffset = -1;
        if (!settings.excludeZeroPages()) {
            zeroOffset = dataCursor;
            sink.write(zeroOffset, ByteBuffer.wrap(new byte[bs]));
            dataCursor += bs;
        }
        long descIndex = 0;
        long total = layout.dumpedPages() * bs;
        long done = 0;
        progress.progress(0, total);

        int threads = settings.threadCount();
        ConcurrentLinkedQueue<Worker> workers = new ConcurrentLinkedQueue<>();
        ThreadLocal<Worker> local = ThreadLocal.withInitial(() -> {
            Worker w = new Worker(codec.newCompressor(bs, settings.zlibLevel(), settings.zstdLevel()), codec.flag(), bs, batchPages(bs));
            workers.add(w);
            return w;
        });
        ExecutorService pool = Executors.newFixedThreadPool(threads, daemonThreads());
        try {
            ArrayDeque<Future<Result>> inFlight = new ArrayDeque<>();
            int maxInFlight = 2 * threads + 2;
            BatchPlanner planner = new BatchPlanner();
            // memory streamed from the hypervisor is read in pfn order, so that one stream serves many batches
            ReadTurns turns = blocks.stream().anyMatch(g -> g.data().streamedOnly()) ? new ReadTurns() : null;
            long submitted = 0;
            Batch next;
            while ((next = planner.next()) != null || !inFlight.isEmpty()) {
                if (next != null) {
                    Batch b = next;
                    long seq = submitted++;
                    inFlight.add(pool.submit(() -> local.get().process(b, turns, seq)));
                    if (inFlight.size() < maxInFlight) {
                        continue;
                    }
                }
                Result r = await(inFlight.poll());
                ByteBuffer descs = data.allocate(r.sizes.length * PageDesc.SIZE);
                long rel = 0;
                for (int i = 0; i < r.sizes.length; i++) {
                    long pfn = r.batch.pfn(i);
                    if (r.sizes[i] == ZERO) {
                        if (settings.excludeZeroPages()) {
                            dumped[(int) (pfn >>> 3)] &= (byte) ~(1 << (pfn & 7));
                        } else {
                            new PageDesc(zeroOffset, bs, 0).writeTo(descs);
                        }
                    } else {
                        new PageDesc(dataCursor + rel, r.sizes[i], r.flags[i]).writeTo(descs);
                        rel += r.sizes[i];
                    }
                }
                sink.write(layout.descOffset() + descIndex * PageDesc.SIZE, descs.flip());
                descIndex += descs.limit() / PageDesc.SIZE;
                sink.write(dataCursor, ByteBuffer.wrap(r.data));
                dataCursor += r.data.length;
                done += (long) r.sizes.length * bs;
                progress.progress(done, total);
            }
        } finally {
            pool.shutdownNow();
            try {
                pool.awaitTermination(1, TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            workers.forEach(Worker::close);
        }
        sink.write(layout.bitmap2Offset(), ByteBuffer.wrap(dumped));
        return sink.finish();
    }

    private int batchPages(int bs) {
        return (int) Math.max(1, settings.batchBytes() / bs);
    }

    private static Result await(Future<Result> f) throws IOException {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("kdump: interrupted while compressing");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof UncheckedIOException u) {
                throw u.getCause();
            }
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IOException(cause);
        }
    }

    private static ThreadFactory daemonThreads() {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, "guestdump-kdump-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** One piece of a block copied into a batch buffer. */
    private record Segment(int bufferOffset, GuestBlock block, long blockOffset, int length) {}

    /**
     * Consecutive present pfns and the block pieces behind them; {@code unbacked} when the source declares them all
     * zero without holding their bytes, so that nothing is read.
     */
    private record Batch(long firstPfn, int pages, List<Segment> segments, boolean fullyCovered, long[] pfns,
            boolean unbacked) {
        Batch(long firstPfn, int pages, List<Segment> segments, boolean fullyCovered) {
            this(firstPfn, pages, segments, fullyCovered, null, false);
        }

        /** The pfn of the batch's page {@code i}: consecutive, or listed when a dump level leaves gaps. */
        long pfn(int i) {
            return pfns == null ? firstPfn + i : pfns[i];
        }
    }

    /** What a thread made of a batch. */
    private record Result(Batch batch, int[] sizes, int[] flags, byte[] data) {}

    /** Cuts the present runs into batches, in pfn order, on the calling thread. */
    private final class BatchPlanner {
        private final int bs = layout.blockSize();
        private final int shift = Integer.numberOfTrailingZeros(bs);
        private final int maxPages = batchPages(bs);
        private int run;
        private long pfn = layout.runs().isEmpty() ? 0 : layout.runs().get(0)[0];
        private int blockCursor;

        Batch next() {
            while (run < layout.runs().size()) {
                long[] r = layout.runs().get(run);
                pfn = layout.skipUnbacked(pfn); // a whole run at a time, never page by page
                if (layout.dumped() != null) {
                    while (pfn < r[1] && !layout.dumped().test(pfn)) {
                        pfn = layout.skipUnbacked(pfn + 1);
                    }
                }
                if (pfn >= r[1]) {
                    run++;
                    if (run < layout.runs().size()) {
                        pfn = layout.runs().get(run)[0];
                    }
                    continue;
                }
                if (layout.dumped() == null) {
                    int pages = (int) Math.min(maxPages, r[1] - pfn);
                    long[] u = layout.unbackedAt(pfn);
                    if (u != null && u[0] <= pfn) {
                        // shared zero pages: each unbacked page gets a descriptor, but nothing is read
                        pages = (int) Math.min(pages, u[1] - pfn);
                        Batch b = new Batch(pfn, pages, List.of(), true, null, true);
                        pfn += pages;
                        return b;
                    }
                    if (u != null) {
                        pages = (int) Math.min(pages, u[0] - pfn);
                    }
                    Batch b = batch(pfn, pages);
                    pfn += pages;
                    return b;
                }
                return gathered();
            }
            return null;
        }

        /**
         * Up to a batch of dumped pfns, across the gaps a dump level leaves (and across runs), each stretch of
         * consecutive pfns read into the buffer after the previous one.
         */
        private Batch gathered() {
            long[] pfns = new long[maxPages];
            List<Segment> segs = new ArrayList<>();
            boolean covered = true;
            int n = 0;
            while (n < maxPages && run < layout.runs().size()) {
                long[] r = layout.runs().get(run);
                pfn = layout.skipUnbacked(pfn);
                while (pfn < r[1] && !layout.dumped().test(pfn)) {
                    pfn = layout.skipUnbacked(pfn + 1);
                }
                if (pfn >= r[1]) {
                    run++;
                    if (run < layout.runs().size()) {
                        pfn = layout.runs().get(run)[0];
                    }
                    continue;
                }
                int k = 1;
                while (n + k < maxPages && pfn + k < r[1] && layout.skipUnbacked(pfn + k) == pfn + k
                        && layout.dumped().test(pfn + k)) {
                    k++;
                }
                Batch part = batch(pfn, k);
                for (Segment sg : part.segments()) {
                    segs.add(new Segment(sg.bufferOffset() + n * bs, sg.block(), sg.blockOffset(), sg.length()));
                }
                covered &= part.fullyCovered();
                for (int i = 0; i < k; i++) {
                    pfns[n + i] = pfn + i;
                }
                n += k;
                pfn += k;
            }
            return n == 0 ? null : new Batch(pfns[0], n, segs, covered, Arrays.copyOf(pfns, n), false);
        }

        private Batch batch(long first, int pages) {
            long start = first << shift;
            long end = start + ((long) pages << shift);
            while (blockCursor < blocks.size()
                    && Long.compareUnsigned(blocks.get(blockCursor).range().end(), start) <= 0) {
                blockCursor++;
            }
            List<Segment> segs = new ArrayList<>(2);
            long covered = 0;
            for (int j = blockCursor; j < blocks.size(); j++) {
                GuestBlock g = blocks.get(j);
                if (Long.compareUnsigned(g.range().start(), end) >= 0) {
                    break;
                }
                long s = Long.compareUnsigned(g.range().start(), start) > 0 ? g.range().start() : start;
                long e = Long.compareUnsigned(g.range().end(), end) < 0 ? g.range().end() : end;
                if (Long.compareUnsigned(s, e) < 0) {
                    segs.add(new Segment((int) (s - start), g, s - g.range().start(), (int) (e - s)));
                    covered += e - s;
                }
            }
            return new Batch(first, pages, segs, covered == ((long) pages << shift));
        }
    }

    /**
     * Batches take turns reading, in the order they were planned (pfn order). The pool starts batches in that order,
     * so the batch whose turn it is has always started, and a batch waits only for earlier ones.
     */
    private static final class ReadTurns {
        private long next;

        synchronized void await(long seq) throws IOException {
            while (next != seq) {
                try {
                    wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("kdump: interrupted while waiting to read guest memory");
                }
            }
        }

        synchronized void done(long seq) {
            if (next == seq) {
                next++;
                notifyAll();
            }
        }
    }

    /** A compression thread's reused state: one compressor, one input and one output buffer. */
    private static final class Worker {
        private final KdumpCodec.PageCompressor compressor;
        private final int flag;
        private final int bs;
        private final byte[] in;
        private final byte[] out;
        private final byte[] zeros;

        Worker(KdumpCodec.PageCompressor compressor, int flag, int bs, int maxPages) {
            this.compressor = compressor;
            this.flag = flag;
            this.bs = bs;
            this.in = new byte[maxPages * bs];
            this.out = new byte[maxPages * bs];
            this.zeros = new byte[bs];
        }

        Result process(Batch b, ReadTurns turns, long seq) {
            if (b.unbacked()) {
                if (turns != null) { // nothing to read, but its turn passes in order all the same
                    try {
                        turns.await(seq);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    } finally {
                        turns.done(seq);
                    }
                }
                int[] sizes = new int[b.pages()];
                Arrays.fill(sizes, ZERO);
                return new Result(b, sizes, new int[b.pages()], new byte[0]);
            }
            int len = b.pages() * bs;
            if (!b.fullyCovered()) {
                Arrays.fill(in, 0, len, (byte) 0); // partial pages: what no block covers reads as zeros
            }
            try {
                if (turns != null) {
                    turns.await(seq);
                }
                for (Segment s : b.segments()) {
                    s.block().data().read(s.blockOffset(), ByteBuffer.wrap(in, s.bufferOffset(), s.length()));
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } finally {
                if (turns != null) {
                    turns.done(seq);
                }
            }
            int[] sizes = new int[b.pages()];
            int[] flags = new int[b.pages()];
            int n = 0;
            for (int i = 0; i < b.pages(); i++) {
                int off = i * bs;
                if (Arrays.mismatch(in, off, off + bs, zeros, 0, bs) < 0) {
                    sizes[i] = ZERO;
                    continue;
                }
                int c = compressor.compress(in, off);
                if (c >= 0) {
                    System.arraycopy(compressor.output(), 0, out, n, c);
                    sizes[i] = c;
                    flags[i] = flag;
                } else {
                    System.arraycopy(in, off, out, n, bs);
                    sizes[i] = bs;
                }
                n += sizes[i];
            }
            return new Result(b, sizes, flags, Arrays.copyOf(out, n));
        }

        void close() {
            compressor.close();
        }
    }
}
