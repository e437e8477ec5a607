package io.guestdump.core.kdump;

import io.airlift.compress.lzo.LzoDecompressor;
import io.airlift.compress.snappy.SnappyDecompressor;
import io.airlift.compress.zstd.ZstdDecompressor;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfData;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * A small, independent kdump reader for tests, written from makedumpfile's format description (not from the
 * writer): it reads fields at absolute offsets, walks the 2nd bitmap to find descriptors, and decompresses pages.
 */
public final class KdumpReader {
    /** What a pfn holds. */
    public enum PageState { ABSENT, EXCLUDED, DUMPED }

    public final byte[] file;
    public final ElfClass elfClass;
    public final ElfData data;
    public final ByteBuffer buf;
    public final int blockSize;
    public final int status;
    public final int subHdrSize;
    public final int bitmapBlocks;
    public final int nrCpus;
    public final long maxMapnr;
    public final long physBase;
    public final int dumpLevel;
    public final long offsetNote;
    public final long sizeNote;
    public final long offsetVmcoreinfo;
    public final long sizeVmcoreinfo;
    public final String machine;
    public final String release;
    private final long lenBitmap;
    private final long bitmap1;
    private final long bitmap2;
    private final long descOffset;
    private int[] rank;

    /** Reads a seekable kdump file held in memory. */
    public KdumpReader(byte[] file, ElfClass c, ElfData data) {
        this.file = file;
        this.elfClass = c;
        this.data = data;
        this.buf = ByteBuffer.wrap(file).order(data.order());
        if (!new String(file, 0, 8, StandardCharsets.US_ASCII).equals("KDUMP   ")) {
            throw new AssertionError("no KDUMP signature");
        }
        if (buf.getInt(8) != 6) {
            throw new AssertionError("header_version " + buf.getInt(8));
        }
        machine = cString(12 + 4 * 65);
        release = cString(12 + 2 * 65);
        int st = c == ElfClass.ELF64 ? 424 : 412;
        status = buf.getInt(st);
        blockSize = buf.getInt(st + 4);
        subHdrSize = buf.getInt(st + 8);
        bitmapBlocks = buf.getInt(st + 12);
        nrCpus = buf.getInt(st + 36);
        int sub = blockSize;
        if (c == ElfClass.ELF64) {
            physBase = buf.getLong(sub);
            dumpLevel = buf.getInt(sub + 8);
            offsetVmcoreinfo = buf.getLong(sub + 32);
            sizeVmcoreinfo = buf.getLong(sub + 40);
            offsetNote = buf.getLong(sub + 48);
            sizeNote = buf.getLong(sub + 56);
            maxMapnr = buf.getLong(sub + 96);
        } else {
            physBase = buf.getInt(sub) & 0xffff_ffffL;
            dumpLevel = buf.getInt(sub + 4);
            offsetVmcoreinfo = buf.getLong(sub + 20);
            sizeVmcoreinfo = buf.getInt(sub + 28) & 0xffff_ffffL;
            offsetNote = buf.getLong(sub + 32);
            sizeNote = buf.getInt(sub + 40) & 0xffff_ffffL;
            maxMapnr = buf.getLong(sub + 72);
        }
        lenBitmap = (long) bitmapBlocks * blockSize / 2;
        bitmap1 = (long) (1 + subHdrSize) * blockSize;
        bitmap2 = bitmap1 + lenBitmap;
        descOffset = bitmap2 + lenBitmap;
    }

    private String cString(int off) {
        int end = off;
        while (file[end] != 0) {
            end++;
        }
        return new String(file, off, end - off, StandardCharsets.US_ASCII);
    }

    /** Rebuilds the seekable file from the flattened form, checking its records (as makedumpfile -R does). */
    public static byte[] rearrange(byte[] flat) {
        ByteBuffer b = ByteBuffer.wrap(flat).order(ByteOrder.BIG_ENDIAN);
        if (!new String(flat, 0, 12, StandardCharsets.US_ASCII).equals("makedumpfile") || flat[12] != 0) {
            throw new AssertionError("no makedumpfile signature");
        }
        if (b.getLong(16) != 1 || b.getLong(24) != 1) {
            throw new AssertionError("flattened type/version");
        }
        for (int i = 32; i < 4096; i++) {
            if (flat[i] != 0) {
                throw new AssertionError("flattened header not zero-padded at " + i);
            }
        }
        int pos = 4096;
        List<long[]> records = new ArrayList<>();
        long size = 0;
        while (true) {
            long off = b.getLong(pos);
            long len = b.getLong(pos + 8);
            pos += 16;
            if (off == -1 && len == -1) {
                break;
            }
            if (off < 0 || len <= 0) {
                throw new AssertionError("bad record {" + off + ", " + len + "} at " + (pos - 16));
            }
            records.add(new long[] {off, len, pos});
            size = Math.max(size, off + len);
            pos += (int) len;
        }
        if (pos != flat.length) {
            throw new AssertionError("bytes after the end marker: " + (flat.length - pos));
        }
        byte[] out = new byte[(int) size];
        for (long[] r : records) {
            System.arraycopy(flat, (int) r[2], out, (int) r[0], (int) r[1]);
        }
        return out;
    }

    /** Number of records in a flattened file. */
    public static int records(byte[] flat) {
        ByteBuffer b = ByteBuffer.wrap(flat).order(ByteOrder.BIG_ENDIAN);
        int pos = 4096;
        int n = 0;
        while (b.getLong(pos) != -1) {
            pos += 16 + (int) b.getLong(pos + 8);
            n++;
        }
        return n;
    }

    private boolean bit(long bitmap, long pfn) {
        return (file[(int) (bitmap + (pfn >>> 3))] & (1 << (pfn & 7))) != 0;
    }

    /** Whether the pfn is absent, excluded or dumped. */
    public PageState state(long pfn) {
        if (pfn >= maxMapnr || !bit(bitmap1, pfn)) {
            return PageState.ABSENT;
        }
        return bit(bitmap2, pfn) ? PageState.DUMPED : PageState.EXCLUDED;
    }

    /** The page at pfn, decompressed; zeros for an excluded page; null when absent. */
    public byte[] page(long pfn) {
        PageState s = state(pfn);
        if (s == PageState.ABSENT) {
            return null;
        }
        if (s == PageState.EXCLUDED) {
            return new byte[blockSize];
        }
        if (rank == null) {
            rank = new int[(int) maxMapnr];
            int r = 0;
            for (int p = 0; p < maxMapnr; p++) {
                rank[p] = r;
                if (bit(bitmap2, p)) {
                    r++;
                }
            }
        }
        long index = rank[(int) pfn];
        int d = (int) (descOffset + index * 24);
        long off = buf.getLong(d);
        int size = buf.getInt(d + 8);
        int flags = buf.getInt(d + 12);
        if (buf.getLong(d + 16) != 0) {
            throw new AssertionError("page_flags not 0 at pfn " + pfn);
        }
        if (size <= 0 || size > blockSize) {
            throw new AssertionError("descriptor size " + size + " at pfn " + pfn);
        }
        byte[] in = Arrays.copyOfRange(file, (int) off, (int) off + size);
        if (flags == 0) {
            if (size != blockSize) {
                throw new AssertionError("raw page of " + size + " bytes at pfn " + pfn);
            }
            return in;
        }
        if (flags != status) {
            throw new AssertionError("page flags " + flags + " != header status " + status);
        }
        byte[] out = new byte[blockSize];
        int n;
        switch (flags) {
            case 1 -> {
                Inflater inf = new Inflater();
                inf.setInput(in);
                try {
                    n = inf.inflate(out);
                    if (!inf.finished()) {
                        throw new AssertionError("zlib stream longer than a page at pfn " + pfn);
                    }
                } catch (DataFormatException e) {
                    throw new AssertionError(e);
                } finally {
                    inf.end();
                }
            }
            case 2 -> n = new LzoDecompressor().decompress(in, 0, in.length, out, 0, out.length);
            case 4 -> n = new SnappyDecompressor().decompress(in, 0, in.length, out, 0, out.length);
            case 0x20 -> n = new ZstdDecompressor().decompress(in, 0, in.length, out, 0, out.length);
            default -> throw new AssertionError("flags " + flags);
        }
        if (n != blockSize) {
            throw new AssertionError("decompressed " + n + " bytes at pfn " + pfn);
        }
        return out;
    }

    /** The notes area. */
    public byte[] notes() {
        return Arrays.copyOfRange(file, (int) offsetNote, (int) (offsetNote + sizeNote));
    }
}
