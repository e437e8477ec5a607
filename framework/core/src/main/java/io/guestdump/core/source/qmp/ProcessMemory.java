package io.guestdump.core.source.qmp;

import io.guestdump.memory.BlockData;
import io.guestdump.memory.PhysRange;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Guest RAM read straight from the QEMU process's memory ({@code /proc/TID/mem}), for a stopped guest whose RAM is
 * not a readable shared file: the fastest way out of QEMU, with no pipe and no QMP round trip per range, and random
 * access for the dump levels' {@code struct page} scan. Where the bytes are: {@code query-cpus-fast} names a vCPU
 * thread of the QEMU process (its {@code thread-id}), and HMP {@code gpa2hva} the host address of each block's
 * first byte (one flat-view section is one contiguous piece of one RAM block).
 *
 * <p>Used only when all of it holds: the process memory can be opened (same user as QEMU, or the right to trace
 * it), every block has a host address, and the first page of every block reads the same as QEMU's own
 * {@code pmemsave} of it (which also rules out a thread id from another PID namespace). Otherwise the dump streams
 * through {@code pmemsave} as before, and the reason is logged.
 */
final class ProcessMemory {
    private static final Logger LOG = LoggerFactory.getLogger(ProcessMemory.class);
    private static final Pattern HVA = Pattern.compile("is (0x[0-9a-fA-F]+)");
    /**
     * Bytes per read into the transfer buffer: small and reused, like cat's, which the kernel writes out of faster
     * than out of a large one (VmcoreWriter.SPARSE_CHUNK).
     */
    private static final int BUFFER = 128 << 10;
    /** Bytes of each block compared with QEMU's pmemsave before the process memory is trusted. */
    static final int CHECK = 4096;
    private static final ThreadLocal<ByteBuffer> BUFFERS = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(
            BUFFER));

    private final FileChannel mem;
    private final Path path;

    private ProcessMemory(FileChannel mem, Path path) {
        this.mem = mem;
        this.path = path;
    }

    /**
     * The host addresses of {@code blocks} in the QEMU process behind {@code s}, checked against {@code pmemsave};
     * empty (with the reason logged) when the process memory cannot be used.
     *
     * @return the block data, in the order of {@code blocks}
     */
    static Optional<List<BlockData>> open(QmpSession s, List<FlatView.Block> blocks, PmemsaveMemory pmem) {
        Path path;
        try {
            path = Path.of("/proc", Long.toString(vcpuThread(s)), "mem");
        } catch (IOException | RuntimeException e) {
            LOG.debug("not reading QEMU's process memory: no vCPU thread id ({})", e.getMessage());
            return Optional.empty();
        }
        FileChannel mem;
        try {
            mem = FileChannel.open(path, StandardOpenOption.READ);
        } catch (IOException | RuntimeException e) {
            LOG.debug("not reading QEMU's process memory: cannot open {} ({}); streaming through pmemsave", path,
                    e.toString());
            return Optional.empty();
        }
        ProcessMemory pm = new ProcessMemory(mem, path);
        try {
            List<BlockData> out = new java.util.ArrayList<>();
            for (FlatView.Block b : blocks) {
                long hva = hostAddress(s, b.range().start());
                BlockData data = pm.data(hva, b.range().length(), b.region());
                int n = (int) Math.min(CHECK, b.range().length());
                ByteBuffer ours = ByteBuffer.allocate(n);
                data.read(0, ours);
                ByteBuffer qemus = ByteBuffer.allocate(n);
                pmem.data(b.range().start(), b.range().length(), b.region()).read(0, qemus);
                if (!ours.flip().equals(qemus.flip())) {
                    throw new IOException("the first " + n + " bytes of " + b.region() + " at "
                            + PhysRange.hex(b.range().start()) + " differ from QEMU's pmemsave of them");
                }
                out.add(data);
            }
            s.closeLater(mem);
            LOG.debug("reading guest RAM from {} ({} blocks)", path, blocks.size());
            return Optional.of(out);
        } catch (IOException | RuntimeException e) {
            LOG.debug("not reading QEMU's process memory {}: {}; streaming through pmemsave", path, e.getMessage());
            try {
                mem.close();
            } catch (IOException ignored) {
                // unused either way
            }
            return Optional.empty();
        }
    }

    @SuppressWarnings("unchecked")
    private static long vcpuThread(QmpSession s) throws IOException {
        List<Object> cpus = (List<Object>) s.command("query-cpus-fast");
        for (Object o : cpus) {
            Object tid = ((Map<String, Object>) o).get("thread-id");
            if (tid instanceof Number n && n.longValue() > 0) {
                return n.longValue();
            }
        }
        throw new IOException("query-cpus-fast names no thread-id");
    }

    private static long hostAddress(QmpSession s, long gpa) throws IOException {
        String reply = s.hmp("gpa2hva 0x" + Long.toHexString(gpa));
        Matcher m = HVA.matcher(reply);
        if (!m.find()) {
            throw new IOException("gpa2hva " + PhysRange.hex(gpa) + ": " + reply.trim());
        }
        return Long.parseUnsignedLong(m.group(1).substring(2), 16);
    }

    BlockData data(long hva, long size, String label) {
        return new Data(hva, size, label);
    }

    private void read(long address, ByteBuffer dst) throws IOException {
        while (dst.hasRemaining()) {
            int n = mem.read(dst, address);
            if (n <= 0) {
                throw new EOFException("reading " + dst.remaining() + " bytes of QEMU's memory at 0x"
                        + Long.toHexString(address) + " from " + path + " returned " + n);
            }
            address += n;
        }
    }

    private final class Data implements BlockData {
        private final long hva;
        private final long size;
        private final String label;

        Data(long hva, long size, String label) {
            this.hva = hva;
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
            ProcessMemory.this.read(hva + offset, dst);
        }

        @Override
        public void transferTo(long offset, long count, WritableByteChannel target) throws IOException {
            BlockData.checkRange(offset, count, size);
            transferThrough(BUFFERS.get(), offset, count, target);
        }

        @Override
        public BlockData slice(long offset, long length) {
            BlockData.checkRange(offset, length, size);
            return new Data(hva + offset, length, label);
        }

        @Override
        public String toString() {
            return "QEMU process memory " + label + " at 0x" + Long.toHexString(hva) + ", " + size + " bytes";
        }
    }
}
