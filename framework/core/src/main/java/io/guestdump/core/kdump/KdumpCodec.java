package io.guestdump.core.kdump;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import io.airlift.compress.Compressor;
import io.airlift.compress.lzo.LzoCompressor;
import io.airlift.compress.snappy.SnappyCompressor;
import io.airlift.compress.zstd.ZstdCompressor;
import java.util.zip.Deflater;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The page codecs of the kdump format and their {@code DUMP_DH_COMPRESSED_*} flags (makedumpfile
 * {@code diskdump_mod.h}), used both in the header's {@code status} and in each compressed page's descriptor.
 */
public enum KdumpCodec {
    /** zlib stream ({@code compress2}), {@code java.util.zip.Deflater}. */
    ZLIB("zlib", KdumpCodec.DUMP_DH_COMPRESSED_ZLIB),
    /** LZO1X-1, aircompressor. */
    LZO("lzo", KdumpCodec.DUMP_DH_COMPRESSED_LZO),
    /** Raw snappy (not framed), aircompressor. */
    SNAPPY("snappy", KdumpCodec.DUMP_DH_COMPRESSED_SNAPPY),
    /**
     * One zstd frame per page: libzstd through zstd-jni with one context per thread, or aircompressor's pure-Java
     * zstd where zstd-jni has no native library for the platform.
     */
    ZSTD("zstd", KdumpCodec.DUMP_DH_COMPRESSED_ZSTD);

    /** {@code DUMP_DH_COMPRESSED_ZLIB}. */
    public static final int DUMP_DH_COMPRESSED_ZLIB = 0x1;
    /** {@code DUMP_DH_COMPRESSED_LZO}. */
    public static final int DUMP_DH_COMPRESSED_LZO = 0x2;
    /** {@code DUMP_DH_COMPRESSED_SNAPPY}. */
    public static final int DUMP_DH_COMPRESSED_SNAPPY = 0x4;
    /** {@code DUMP_DH_COMPRESSED_INCOMPLETE}: never written by guestdump (a failed dump leaves no file). */
    public static final int DUMP_DH_COMPRESSED_INCOMPLETE = 0x8;
    /** {@code DUMP_DH_COMPRESSED_ZSTD}. */
    public static final int DUMP_DH_COMPRESSED_ZSTD = 0x20;

    private static final Logger LOG = LoggerFactory.getLogger(KdumpCodec.class);

    private final String id;
    private final int flag;

    KdumpCodec(String id, int flag) {
        this.id = id;
        this.flag = flag;
    }

    /** The suffix of the format name, e.g. {@code zlib} in {@code kdump-zlib}. */
    public String id() {
        return id;
    }

    /** The {@code DUMP_DH_COMPRESSED_*} flag. */
    public int flag() {
        return flag;
    }

    /**
     * A new compressor for pages of {@code pageSize} bytes: one per thread, reused for every page.
     *
     * @param zlibLevel the deflate level, 1 to 9
     * @param zstdLevel the zstd level, 1 to 19 (aircompressor's fallback has only its own level 3)
     */
    public PageCompressor newCompressor(int pageSize, int zlibLevel, int zstdLevel) {
        return switch (this) {
            case ZLIB -> new DeflatePages(pageSize, zlibLevel);
            case LZO -> new AirPages(new LzoCompressor(), pageSize);
            case SNAPPY -> new AirPages(new SnappyCompressor(), pageSize);
            case ZSTD -> NativeZstd.AVAILABLE ? new ZstdPages(pageSize, zstdLevel)
                    : new AirPages(new ZstdCompressor(), pageSize);
        };
    }

    /** Whether kdump-zstd compresses with libzstd (zstd-jni) rather than aircompressor's pure-Java zstd. */
    public static boolean nativeZstd() {
        return NativeZstd.AVAILABLE;
    }

    /** Loads zstd-jni's native library once; says why when it cannot. */
    private static final class NativeZstd {
        static final boolean AVAILABLE = load();

        private static boolean load() {
            try {
                com.github.luben.zstd.util.Native.load();
                return true;
            } catch (LinkageError | RuntimeException e) {
                LOG.warn("zstd-jni has no native library for {}/{} ({}); kdump-zstd uses aircompressor's pure-Java "
                        + "zstd, about 10 times slower", System.getProperty("os.name"), System.getProperty("os.arch"),
                        e.toString());
                return false;
            }
        }
    }

    /** Compresses one page at a time into a reused scratch buffer; not thread-safe. */
    public interface PageCompressor extends AutoCloseable {
        /**
         * Compresses {@code src[off, off + pageSize)}.
         *
         * @return the compressed length, in {@link #output()}, or -1 when the result is not smaller than a page
         *         (the page is then stored raw, as makedumpfile and QEMU do)
         */
        int compress(byte[] src, int off);

        /** The scratch buffer holding the last result. */
        byte[] output();

        /** Frees native resources. */
        @Override
        void close();
    }

    /**
     * One reused scratch buffer of the codec's worst-case size; a result that is not smaller than the page is
     * reported as -1 (stored raw).
     */
    private abstract static class ScratchPages implements PageCompressor {
        final int pageSize;
        final byte[] out;

        ScratchPages(int pageSize, int scratchSize) {
            this.pageSize = pageSize;
            this.out = new byte[scratchSize];
        }

        /** Compresses {@code src[off, off + pageSize)} into {@link #out}; the length, or -1 when it does not fit. */
        abstract int compressInto(byte[] src, int off);

        @Override
        public final int compress(byte[] src, int off) {
            int n = compressInto(src, off);
            return n >= 0 && n < pageSize ? n : -1;
        }

        @Override
        public final byte[] output() {
            return out;
        }
    }

    /** zlib through one reused {@link Deflater} ({@code reset()} per page, never one per page). */
    private static final class DeflatePages extends ScratchPages {
        private final Deflater deflater;

        DeflatePages(int pageSize, int level) {
            super(pageSize, pageSize);
            this.deflater = new Deflater(level);
        }

        @Override
        int compressInto(byte[] src, int off) {
            deflater.reset();
            deflater.setInput(src, off, pageSize);
            deflater.finish();
            int n = 0;
            while (!deflater.finished() && n < out.length) {
                n += deflater.deflate(out, n, out.length - n);
            }
            return deflater.finished() ? n : -1;
        }

        @Override
        public void close() {
            deflater.end();
        }
    }

    /**
     * libzstd through one reused {@code ZSTD_CCtx} (zstd-jni's {@link ZstdCompressCtx}): each page is one complete
     * frame with its content size and no checksum, as makedumpfile writes them, so a reader decompresses every page
     * alone.
     */
    private static final class ZstdPages extends ScratchPages {
        private final ZstdCompressCtx ctx;

        ZstdPages(int pageSize, int level) {
            super(pageSize, (int) Zstd.compressBound(pageSize));
            this.ctx = new ZstdCompressCtx();
            ctx.setLevel(level);
            ctx.setChecksum(false);
            ctx.setContentSize(true);
        }

        @Override
        int compressInto(byte[] src, int off) {
            return ctx.compressByteArray(out, 0, out.length, src, off, pageSize);
        }

        @Override
        public void close() {
            ctx.close();
        }
    }

    /** An aircompressor codec (pure Java, nothing to free). */
    private static final class AirPages extends ScratchPages {
        private final Compressor compressor;

        AirPages(Compressor compressor, int pageSize) {
            super(pageSize, compressor.maxCompressedLength(pageSize));
            this.compressor = compressor;
        }

        @Override
        int compressInto(byte[] src, int off) {
            return compressor.compress(src, off, pageSize, out, 0, out.length);
        }

        @Override
        public void close() {
            // pure Java: nothing to free
        }
    }
}
