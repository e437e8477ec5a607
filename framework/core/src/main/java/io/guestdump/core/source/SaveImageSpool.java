package io.guestdump.core.source;

import io.airlift.compress.bzip2.BZip2HadoopStreams;
import io.airlift.compress.zstd.ZstdInputStream;
import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.core.source.LibvirtSaveImage.SaveFormat;
import io.guestdump.core.source.migration.MigrationStream;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.GZIPInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The compressed QEMU stream of a libvirt save image, decompressed in-process into a spool file: the stream is read
 * by file position (its JSON description first, from its end; then pages through an index), which a compressed
 * stream cannot give. The spool lives in a private (0700) directory and is unlinked as soon as it is open, so it
 * disappears when the dump ends however it ends. Decoders: gzip (the JDK, concatenated members too), bzip2 and lzop
 * frames (aircompressor; the lzop container is {@link LzopInputStream}), xz (XZ for Java, at most
 * {@link #XZ_MEMORY_LIMIT_KIB} KiB of dictionary: {@code xz -9} needs 65 MiB), zstd (aircompressor). Memory is
 * bounded by the decoders' windows; a truncated or corrupt stream is an {@link InvalidInputException}.
 */
final class SaveImageSpool {
    private static final Logger LOG = LoggerFactory.getLogger(SaveImageSpool.class);
    /** XZ for Java's memory limit (KiB) for one xz stream's decoder. */
    static final int XZ_MEMORY_LIMIT_KIB = 96 << 10;
    private static final int BUFFER = 256 << 10;

    private SaveImageSpool() {}

    /**
     * Decompresses {@code [start, end)} of {@code channel} into a new unlinked spool file in {@code spoolDir}.
     *
     * @return the spool, open for reading, positioned anywhere; its size is the stream's
     */
    static FileChannel decompress(Path file, FileChannel channel, long start, long end, SaveFormat format,
            Path spoolDir) {
        Path dir;
        try {
            Files.createDirectories(spoolDir);
            dir = Files.createTempDirectory(spoolDir, "guestdump-savestate-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make a private directory in " + spoolDir + " for the decompressed "
                    + "stream of " + file + ": " + e.getMessage() + "; set guestdump.source.savestate.spool-dir", e);
        }
        Path spool = dir.resolve("stream.mig");
        FileChannel out;
        try {
            out = FileChannel.open(spool, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + spool + ": " + e.getMessage(), e);
        } finally {
            try {
                Files.deleteIfExists(spool);
                Files.deleteIfExists(dir);
            } catch (IOException e) {
                LOG.warn("could not remove {}: {}", dir, e.getMessage());
            }
        }
        long t0 = System.nanoTime();
        long written = 0;
        CountingInput counted = new CountingInput(channel, start, end);
        try (InputStream in = decoder(format, new BufferedInputStream(counted, 1 << 16))) {
            byte[] buf = new byte[BUFFER];
            ByteBuffer head = ByteBuffer.allocate(4).order(ByteOrder.BIG_ENDIAN);
            while (true) {
                int n = readSome(in, buf);
                if (n < 0) {
                    break;
                }
                // junk that decompresses well (a "bomb") is refused at its first bytes, not after filling the disk
                for (int i = 0; i < n && head.position() < head.capacity(); i++) {
                    head.put(buf[i]);
                }
                if (head.position() == head.capacity() && written < head.capacity()
                        && head.getInt(0) != MigrationStream.QEMU_VM_FILE_MAGIC) {
                    throw new InvalidInputException(file + ": the " + format.program() + "-compressed data after the "
                            + "libvirt header decompresses to bytes starting 0x" + Integer.toHexString(head.getInt(0))
                            + ", not QEMU's migration stream (QEVM, 0x" + Integer.toHexString(MigrationStream
                            .QEMU_VM_FILE_MAGIC) + ")");
                }
                ByteBuffer b = ByteBuffer.wrap(buf, 0, n);
                try {
                    while (b.hasRemaining()) {
                        out.write(b, written + b.position());
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot write the decompressed stream of " + file + " to "
                            + spoolDir + " (" + written + " bytes written): " + e.getMessage() + "; point "
                            + "guestdump.source.savestate.spool-dir at a file system with room for it", e);
                }
                written += n;
            }
        } catch (IOException e) {
            close(out);
            throw invalid(file, format, counted, written, e);
        } catch (RuntimeException e) {
            close(out);
            throw e;
        }
        LOG.info("{}: {} bytes of {}-compressed stream decompressed to {} bytes in {} ms (spool in {})", file,
                end - start, format.program(), written, (System.nanoTime() - t0) / 1_000_000, spoolDir);
        return out;
    }

    private static InputStream decoder(SaveFormat format, InputStream in) throws IOException {
        try {
            return open(format, in);
        } catch (RuntimeException e) {
            throw new IOException(e.getClass().getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    private static InputStream open(SaveFormat format, InputStream in) throws IOException {
        return switch (format) {
            case GZIP -> new GZIPInputStream(in, 1 << 16);
            case BZIP2 -> new BZip2HadoopStreams().createInputStream(in);
            case XZ -> new org.tukaani.xz.XZInputStream(in, XZ_MEMORY_LIMIT_KIB);
            case LZOP -> new LzopInputStream(in);
            case ZSTD -> new ZstdInputStream(in);
            default -> throw new IllegalArgumentException("no decoder for " + format);
        };
    }

    /** One read of the decoder; its runtime failures on corrupt data become IOExceptions. */
    private static int readSome(InputStream in, byte[] buf) throws IOException {
        try {
            return in.read(buf, 0, buf.length);
        } catch (RuntimeException e) {
            throw new IOException(e.getClass().getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    private static InvalidInputException invalid(Path file, SaveFormat format, CountingInput counted, long written,
            IOException e) {
        return new InvalidInputException(file + ": the " + format.program() + "-compressed QEMU stream after the "
                + "libvirt header is truncated or corrupt (" + e.getMessage() + ") after " + counted.read
                + " of its " + (counted.end - counted.start) + " compressed bytes (" + written + " bytes "
                + "decompressed); `tail -c +" + (counted.start + 1) + " " + file + " | " + format.program()
                + " -t` checks the compressed part alone", e);
    }

    private static void close(FileChannel c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // already failing
        }
    }

    /** {@code [start, end)} of a channel as an input stream, counting what was read. */
    private static final class CountingInput extends InputStream {
        private final FileChannel channel;
        private final long start;
        private final long end;
        private long read;

        CountingInput(FileChannel channel, long start, long end) {
            this.channel = channel;
            this.start = start;
            this.end = end;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            long left = end - start - read;
            if (left <= 0) {
                return -1;
            }
            int n = channel.read(ByteBuffer.wrap(b, off, (int) Math.min(len, left)), start + read);
            if (n < 0) {
                return -1;
            }
            read += n;
            return n;
        }
    }
}
