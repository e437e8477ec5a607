package io.guestdump.core.source;

import io.airlift.compress.lzo.LzoDecompressor;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.zip.Adler32;
import java.util.zip.CRC32;
import java.util.zip.Checksum;

/**
 * The lzop file format (what {@code lzop -c} writes, lzop 1.0x), decompressed block by block with aircompressor's
 * LZO1X decompressor. Big-endian throughout:
 *
 * <pre>
 * magic[9] 89 4c 5a 4f 00 0d 0a 1a 0a
 * u16 version · u16 lib_version · [u16 version_needed, if version >= 0x0940]
 * u8 method (1 LZO1X-1, 2 LZO1X-1(15), 3 LZO1X-999) · [u8 level, if version >= 0x0940]
 * u32 flags · [u32 filter, if F_H_FILTER] · u32 mode · u32 mtime_low · [u32 mtime_high, if version >= 0x0940]
 * u8 name_len · name · u32 header checksum (Adler-32, or CRC-32 with F_H_CRC32, of version..name)
 * [u32 extra_len · extra · u32 checksum, if F_H_EXTRA_FIELD]
 * blocks: u32 dst_len (0 ends the file) · u32 src_len · [u32 adler32/crc32 of the uncompressed block, with
 *         F_ADLER32_D / F_CRC32_D] · [u32 adler32/crc32 of the compressed block, with F_ADLER32_C / F_CRC32_C, when
 *         src_len < dst_len] · src_len bytes (stored as they are when src_len == dst_len)
 * </pre>
 *
 * Checksums present are verified. A block may hold at most lzop's {@code MAX_BLOCK_SIZE} (64 MiB), so memory stays
 * bounded whatever the lengths say.
 */
final class LzopInputStream extends InputStream {
    static final byte[] MAGIC = {(byte) 0x89, 0x4c, 0x5a, 0x4f, 0x00, 0x0d, 0x0a, 0x1a, 0x0a};
    static final int F_ADLER32_D = 0x0000_0001;
    static final int F_ADLER32_C = 0x0000_0002;
    static final int F_H_EXTRA_FIELD = 0x0000_0040;
    static final int F_CRC32_D = 0x0000_0100;
    static final int F_CRC32_C = 0x0000_0200;
    static final int F_H_FILTER = 0x0000_0800;
    static final int F_H_CRC32 = 0x0000_1000;
    /** lzop's {@code MAX_BLOCK_SIZE}. */
    static final int MAX_BLOCK_SIZE = 64 << 20;
    /** Slack aircompressor's LZO decoder wants after its buffers. */
    private static final int SLACK = 8;

    private final DataInputStream in;
    private final int flags;
    private final LzoDecompressor lzo = new LzoDecompressor();
    private byte[] compressed = new byte[0];
    private byte[] block = new byte[0];
    private int blockLength;
    private int blockPos;
    private boolean finished;
    private long blocks;

    /** Reads and checks the file header. */
    LzopInputStream(InputStream raw) throws IOException {
        this.in = new DataInputStream(raw);
        byte[] magic = new byte[MAGIC.length];
        in.readFully(magic);
        if (!Arrays.equals(magic, MAGIC)) {
            throw new IOException("not an lzop file (magic " + hex(magic) + ")");
        }
        HeaderReader h = new HeaderReader(in);
        int version = h.u16();
        h.u16(); // lib_version
        if (version >= 0x0940) {
            int needed = h.u16();
            if (needed > 0x1040) {
                throw new IOException("lzop file needs lzop " + Integer.toHexString(needed) + " to extract; "
                        + "formats up to 1.040 are read");
            }
        }
        int method = h.u8();
        if (method < 1 || method > 3) {
            throw new IOException("lzop method " + method + "; only the LZO1X methods (1, 2, 3) are read");
        }
        if (version >= 0x0940) {
            h.u8(); // level
        }
        flags = h.u32();
        if ((flags & F_H_FILTER) != 0) {
            throw new IOException("lzop file with a filter (F_H_FILTER); lzop writes none unless asked (--filter)");
        }
        h.u32(); // mode
        h.u32(); // mtime_low
        if (version >= 0x0940) {
            h.u32(); // mtime_high
        }
        int nameLength = h.u8();
        for (int i = 0; i < nameLength; i++) {
            h.u8();
        }
        int expected = (int) h.checksum((flags & F_H_CRC32) != 0 ? new CRC32() : new Adler32());
        int stored = in.readInt();
        if (stored != expected) {
            throw new IOException("lzop header checksum 0x" + Integer.toHexString(stored) + ", computed 0x"
                    + Integer.toHexString(expected));
        }
        if ((flags & F_H_EXTRA_FIELD) != 0) {
            long extra = Integer.toUnsignedLong(in.readInt());
            if (extra > 1 << 20) {
                throw new IOException("lzop extra field of " + extra + " bytes");
            }
            in.skipNBytes(extra + 4);
        }
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        while (blockPos == blockLength) {
            if (finished || !nextBlock()) {
                return -1;
            }
        }
        int n = Math.min(len, blockLength - blockPos);
        System.arraycopy(block, blockPos, b, off, n);
        blockPos += n;
        return n;
    }

    /** Reads the next block into {@code block}; false at the end marker. */
    private boolean nextBlock() throws IOException {
        long dst = Integer.toUnsignedLong(readInt("a block's uncompressed length"));
        if (dst == 0) {
            finished = true;
            return false;
        }
        long src = Integer.toUnsignedLong(readInt("a block's compressed length"));
        if (dst > MAX_BLOCK_SIZE || src > dst || src == 0) {
            throw new IOException("lzop block " + blocks + " has dst_len " + dst + " and src_len " + src
                    + " (at most " + MAX_BLOCK_SIZE + ", src_len 1..dst_len)");
        }
        int dstSum = 0;
        Checksum dstCheck = null;
        if ((flags & F_ADLER32_D) != 0) {
            dstSum = readInt("a block checksum");
            dstCheck = new Adler32();
        }
        int dstCrc = 0;
        if ((flags & F_CRC32_D) != 0) {
            dstCrc = readInt("a block checksum");
        }
        boolean packed = src < dst;
        // LZO1X writes fewer than 256 bytes per input byte (a run-length extension byte adds 255): a dst_len beyond
        // that is a lie, refused before it sizes the output (lzop -1 of zeros reaches about 220)
        if (packed && dst > 256L * src + 1024) {
            throw new IOException("lzop block " + blocks + " has dst_len " + dst + " for only " + src
                    + " compressed bytes (LZO1X expands at most 255 times)");
        }
        int srcSum = 0;
        int srcCrc = 0;
        if (packed && (flags & F_ADLER32_C) != 0) {
            srcSum = readInt("a block checksum");
        }
        if (packed && (flags & F_CRC32_C) != 0) {
            srcCrc = readInt("a block checksum");
        }
        // read the compressed bytes before sizing the output by dst_len, so a lying length costs nothing
        compressed = fill(compressed, (int) src);
        if (packed && (flags & F_ADLER32_C) != 0) {
            verify(new Adler32(), compressed, (int) src, srcSum, "Adler-32 of the compressed data");
        }
        if (packed && (flags & F_CRC32_C) != 0) {
            verify(new CRC32(), compressed, (int) src, srcCrc, "CRC-32 of the compressed data");
        }
        if (block.length < dst + SLACK) {
            block = new byte[(int) dst + SLACK];
        }
        if (packed) {
            int n;
            try {
                n = lzo.decompress(compressed, 0, (int) src, block, 0, (int) dst);
            } catch (RuntimeException e) {
                throw new IOException("lzop block " + blocks + ": LZO1X data is corrupt (" + e.getMessage() + ")", e);
            }
            if (n != dst) {
                throw new IOException("lzop block " + blocks + " decompressed to " + n + " bytes, dst_len says " + dst);
            }
        } else {
            System.arraycopy(compressed, 0, block, 0, (int) dst);
        }
        if (dstCheck != null) {
            verify(dstCheck, block, (int) dst, dstSum, "Adler-32 of the data");
        }
        if ((flags & F_CRC32_D) != 0) {
            verify(new CRC32(), block, (int) dst, dstCrc, "CRC-32 of the data");
        }
        blockLength = (int) dst;
        blockPos = 0;
        blocks++;
        return true;
    }

    /** {@code n} bytes read into {@code buf} (grown as they arrive, not ahead of them). */
    private byte[] fill(byte[] buf, int n) throws IOException {
        int have = 0;
        while (have < n) {
            int want = Math.min(n - have, 1 << 20);
            if (buf.length < have + want + SLACK) {
                buf = Arrays.copyOf(buf, Math.max(Math.min(n, 2 * buf.length), have + want) + SLACK);
            }
            int r = in.read(buf, have, want);
            if (r < 0) {
                throw new EOFException("lzop block " + blocks + " truncated: " + have + " of " + n + " bytes");
            }
            have += r;
        }
        return buf;
    }

    private int readInt(String what) throws IOException {
        try {
            return in.readInt();
        } catch (EOFException e) {
            throw new EOFException("lzop file truncated in " + what + " of block " + blocks);
        }
    }

    private void verify(Checksum c, byte[] data, int n, int stored, String what) throws IOException {
        c.update(data, 0, n);
        if ((int) c.getValue() != stored) {
            throw new IOException("lzop block " + blocks + ": " + what + " is 0x" + Integer.toHexString((int)
                    c.getValue()) + ", the file says 0x" + Integer.toHexString(stored));
        }
    }

    @Override
    public void close() throws IOException {
        in.close();
    }

    private static String hex(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (byte x : b) {
            s.append(String.format("%02x", x & 0xff));
        }
        return s.toString();
    }

    /** Reads header fields and remembers their bytes for the header checksum. */
    private static final class HeaderReader {
        private final DataInputStream in;
        private final byte[] bytes = new byte[64 + 255];
        private int n;

        HeaderReader(DataInputStream in) {
            this.in = in;
        }

        int u8() throws IOException {
            int v = in.readUnsignedByte();
            bytes[n++] = (byte) v;
            return v;
        }

        int u16() throws IOException {
            return u8() << 8 | u8();
        }

        int u32() throws IOException {
            return u16() << 16 | u16();
        }

        long checksum(Checksum c) {
            c.update(bytes, 0, n);
            return c.getValue();
        }
    }
}
