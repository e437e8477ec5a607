package io.guestdump.core.inspect;

import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.core.kdump.DiskDumpHeader;
import io.guestdump.core.kdump.KdumpCodec;
import io.guestdump.core.plugins.ArchitectureRegistry;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfData;
import io.guestdump.elf.Note;
import io.guestdump.elf.NoteEncoder;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads what {@code guestdump info} shows of a kdump-compressed file (makedumpfile's format, seekable or
 * flattened), from a stream: only the metadata at the start of the file is kept ({@code disk_dump_header}, the
 * sub-header, the notes and both bitmaps, at most {@link #MAX_METADATA_BYTES}); the page data is skipped. A
 * flattened stream is reassembled from its {@code {offset, size}} records.
 */
public final class KdumpInfo {
    /** The most metadata (headers, notes, bitmaps) read; a 4 TiB guest has 256 MiB of bitmaps at 4 KiB pages. */
    public static final long MAX_METADATA_BYTES = 256L << 20;
    /** {@code "makedumpfile"}: the flattened form's signature, padded to 16 bytes. */
    private static final byte[] FLAT_SIGNATURE = "makedumpfile".getBytes(StandardCharsets.US_ASCII);
    private static final int FLAT_HEADER = 4096;
    /** The largest flattened record accepted. */
    private static final long MAX_RECORD = 1L << 30;

    private final TreeMap<Long, byte[]> pieces = new TreeMap<>();
    private long end;

    private KdumpInfo() {}

    /** Whether the first bytes are a kdump header or a flattened stream's. */
    public static boolean isKdump(byte[] head) {
        return startsWith(head, DiskDumpHeader.KDUMP_SIGNATURE.getBytes(StandardCharsets.US_ASCII))
                || startsWith(head, FLAT_SIGNATURE);
    }

    private static boolean startsWith(byte[] a, byte[] prefix) {
        return a.length >= prefix.length && Arrays.equals(a, 0, prefix.length, prefix, 0, prefix.length);
    }

    /**
     * Reads a kdump file or stream and summarises it; a defect is an {@link InvalidInputException} naming the field.
     *
     * @param name     the file name to print ({@code -} for standard input)
     * @param in       the bytes, from the first
     * @param size     the file's size, or -1 when unknown (a stream)
     * @param registry plugins that decode the CPU notes
     */
    public static VmcoreSummary summarize(String name, InputStream in, long size, ArchitectureRegistry registry) {
        KdumpInfo k = new KdumpInfo();
        try {
            byte[] head = in.readNBytes(FLAT_HEADER);
            boolean flattened = startsWith(head, FLAT_SIGNATURE);
            if (flattened) {
                k.readFlattened(name, head, in);
            } else {
                k.readSeekable(head, in);
            }
            return k.summary(name, flattened, size, registry);
        } catch (IOException e) {
            throw new InvalidInputException(name + ": cannot read: " + e.getMessage(), e);
        }
    }

    private void readSeekable(byte[] head, InputStream in) throws IOException {
        pieces.put(0L, head);
        end = head.length;
        long limit = metadataEnd();
        if (limit > end) {
            byte[] rest = in.readNBytes((int) (limit - end));
            pieces.put(end, rest);
            end += rest.length;
        }
    }

    /** The flattened form: a 4096-byte header, then big-endian {@code {offset, size}} records, then 16 × 0xff. */
    private void readFlattened(String name, byte[] head, InputStream in) throws IOException {
        ByteBuffer h = ByteBuffer.wrap(head);
        if (head.length < FLAT_HEADER || h.getLong(16) != 1 || h.getLong(24) != 1) {
            throw new InvalidInputException(name + ": flattened kdump header: type " + (head.length >= 32
                    ? h.getLong(16) + ", version " + h.getLong(24) : "truncated") + "; expected type 1, version 1");
        }
        long limit = MAX_METADATA_BYTES;
        long logical = 0;
        byte[] rec = new byte[16];
        while (true) {
            if (in.readNBytes(rec, 0, 16) < 16) {
                throw new InvalidInputException(name + ": the flattened stream ends without its end marker (16 bytes "
                        + "of 0xff); the file is truncated");
            }
            ByteBuffer r = ByteBuffer.wrap(rec);
            long offset = r.getLong(0);
            long size = r.getLong(8);
            if (offset == -1 && size == -1) {
                break;
            }
            if (offset < 0 || size <= 0 || size > MAX_RECORD) {
                throw new InvalidInputException(name + ": flattened record at stream byte " + logical + ": offset "
                        + offset + ", size " + size + " is not a valid record");
            }
            long keep = Math.max(0, Math.min(size, limit - offset));
            if (keep > 0) {
                byte[] data = in.readNBytes((int) keep);
                if (data.length < keep) {
                    throw new EOFException("stream ends inside a record");
                }
                pieces.put(offset, data);
            }
            skip(in, size - keep);
            end = Math.max(end, offset + size);
            logical += 16 + size;
            if (limit == MAX_METADATA_BYTES && covered(0, 464)) {
                limit = metadataEnd();
            }
        }
    }

    /** Skips by seeking where the stream can (a file), else by reading (a pipe: FileInputStream.skip fails). */
    private static void skip(InputStream in, long n) throws IOException {
        long left = n;
        try {
            while (left > 0) {
                long k = in.skip(left);
                if (k <= 0) {
                    break;
                }
                left -= k;
            }
        } catch (IOException notSeekable) {
            // "Illegal seek" on a pipe: read the rest instead
        }
        byte[] scratch = new byte[(int) Math.min(left, 1 << 20)];
        while (left > 0) {
            int k = in.read(scratch, 0, (int) Math.min(scratch.length, left));
            if (k < 0) {
                throw new EOFException("stream ends inside a record");
            }
            left -= k;
        }
    }

    private boolean covered(long from, long len) {
        try {
            read(from, (int) len);
            return true;
        } catch (InvalidInputException e) {
            return false;
        }
    }

    // the layout, once the header is known
    private ElfData data;
    private ElfClass elfClass;
    private int blockSize;
    private int subHdrSize;
    private int bitmapBlocks;

    /** Parses the header's class, order and sizes; returns where the bitmaps end. */
    private long metadataEnd() {
        byte[] h = read(0, DiskDumpHeader.SIZE_32);
        if (!startsWith(h, DiskDumpHeader.KDUMP_SIGNATURE.getBytes(StandardCharsets.US_ASCII))) {
            throw new InvalidInputException("not a kdump file: no \"KDUMP   \" signature at byte 0");
        }
        int le = ByteBuffer.wrap(h).order(ElfData.LSB.order()).getInt(8);
        int be = ByteBuffer.wrap(h).order(ElfData.MSB.order()).getInt(8);
        if (le > 0 && le < 0x100) {
            data = ElfData.LSB;
        } else if (be > 0 && be < 0x100) {
            data = ElfData.MSB;
        } else {
            throw new InvalidInputException("kdump header_version 0x" + Integer.toHexString(le) + " is not a version "
                    + "(1 to 6 in either byte order)");
        }
        // the layout is chosen by struct timeval: the 64-bit header is 12 bytes longer; block_size is a power of two
        byte[] h64 = read(0, DiskDumpHeader.SIZE_64);
        ByteBuffer b = ByteBuffer.wrap(h64).order(data.order());
        int bs64 = b.getInt(DiskDumpHeader.STATUS_OFFSET_64 + 4);
        int bs32 = b.getInt(DiskDumpHeader.STATUS_OFFSET_32 + 4);
        elfClass = plausibleBlockSize(bs64) ? ElfClass.ELF64 : plausibleBlockSize(bs32) ? ElfClass.ELF32 : null;
        if (elfClass == null) {
            throw new InvalidInputException("kdump block_size " + bs64 + " (64-bit layout) / " + bs32 + " (32-bit) is "
                    + "not a power of two from 512 bytes to 1 MiB");
        }
        int status = DiskDumpHeader.statusOffset(elfClass);
        blockSize = b.getInt(status + 4);
        subHdrSize = b.getInt(status + 8);
        bitmapBlocks = b.getInt(status + 12);
        if (subHdrSize < 1 || bitmapBlocks < 0 || bitmapBlocks % 2 != 0) {
            throw new InvalidInputException("kdump sub_hdr_size " + subHdrSize + ", bitmap_blocks " + bitmapBlocks
                    + ": a header needs at least one sub-header block and an even number of bitmap blocks");
        }
        long metadata = (1L + subHdrSize + bitmapBlocks) * blockSize;
        if (metadata > MAX_METADATA_BYTES) {
            throw new InvalidInputException("kdump headers and bitmaps of " + metadata + " bytes are more than the "
                    + MAX_METADATA_BYTES + " guestdump info reads");
        }
        return metadata;
    }

    private static boolean plausibleBlockSize(int bs) {
        return bs >= 512 && bs <= (1 << 20) && Integer.bitCount(bs) == 1;
    }

    /** {@code len} bytes at {@code off} of the logical file; a gap or the end is a defect. */
    private byte[] read(long off, int len) {
        byte[] out = new byte[len];
        long pos = off;
        while (pos < off + len) {
            Map.Entry<Long, byte[]> e = pieces.floorEntry(pos);
            if (e == null || e.getKey() + e.getValue().length <= pos) {
                throw new InvalidInputException("kdump: bytes " + pos + ".." + (off + len) + " are not in the file "
                        + "(it is " + end + " bytes); the file is truncated or corrupt");
            }
            int from = (int) (pos - e.getKey());
            int n = (int) Math.min(e.getValue().length - from, off + len - pos);
            System.arraycopy(e.getValue(), from, out, (int) (pos - off), n);
            pos += n;
        }
        return out;
    }

    private VmcoreSummary summary(String name, boolean flattened, long size, ArchitectureRegistry registry) {
        metadataEnd();
        ByteBuffer h = ByteBuffer.wrap(read(0, DiskDumpHeader.size(elfClass))).order(data.order());
        int status = h.getInt(DiskDumpHeader.statusOffset(elfClass));
        int nrCpus = h.getInt(DiskDumpHeader.statusOffset(elfClass) + 36);
        String release = cString(h, DiskDumpHeader.RELEASE_OFFSET);
        String machine = cString(h, DiskDumpHeader.MACHINE_OFFSET);
        boolean wide = elfClass == ElfClass.ELF64;
        ByteBuffer sub = ByteBuffer.wrap(read(blockSize, wide ? 104 : 80)).order(data.order());
        long physBase = wide ? sub.getLong(0) : Integer.toUnsignedLong(sub.getInt(0));
        int dumpLevel = sub.getInt(wide ? 8 : 4);
        long offsetNote = sub.getLong(wide ? 48 : 32);
        long sizeNote = wide ? sub.getLong(56) : Integer.toUnsignedLong(sub.getInt(40));
        long maxMapnr = sub.getLong(wide ? 96 : 72);
        long subEnd = (1L + subHdrSize) * blockSize;
        if (offsetNote < blockSize || sizeNote < 0 || sizeNote > subEnd - offsetNote) {
            throw new InvalidInputException(name + ": kdump offset_note " + offsetNote + ", size_note " + sizeNote
                    + " lie outside the sub-header blocks (bytes " + blockSize + ".." + subEnd + ")");
        }
        List<Note> notes;
        try {
            notes = NoteEncoder.decode(read(offsetNote, (int) sizeNote), data);
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(name + ": malformed kdump notes: " + e.getMessage());
        }
        long lenBitmap = (long) bitmapBlocks / 2 * blockSize;
        byte[] bitmap2 = read(subEnd + lenBitmap, (int) lenBitmap);
        long dumped = 0;
        for (byte x : bitmap2) {
            dumped += Integer.bitCount(x & 0xff);
        }
        String codec = "none";
        for (KdumpCodec c : KdumpCodec.values()) {
            if ((status & c.flag()) != 0) {
                codec = c.name().toLowerCase();
            }
        }
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("schema", Json.SCHEMA);
        t.put("format", "kdump-" + codec);
        t.put("form", flattened ? "flattened" : "seekable");
        t.put("file", name);
        t.put("size", size >= 0 ? size : end);
        t.put("class", elfClass.name());
        t.put("byte-order", data.name());
        int eMachine = elfMachine(machine, registry);
        if (eMachine >= 0) {
            t.put("e_machine", eMachine);
            t.put("machine", VmcoreSummary.machineName(registry, eMachine));
        }
        t.put("utsname-machine", machine);
        t.put("utsname-release", release);
        t.put("header-version", h.getInt(8));
        t.put("block-size", blockSize);
        t.put("nr-cpus", nrCpus);
        t.put("max-mapnr", Json.u64(maxMapnr));
        t.put("dumped-pages", dumped);
        t.put("dump-level", dumpLevel);
        t.put("phys-base", Json.u64(physBase));
        t.put("warnings", List.of());
        VmcoreSummary.describeNotes(t, notes, Math.max(eMachine, 0), elfClass, data, registry, name);
        if (eMachine < 0) {
            t.put("architecture", "unknown (no plugin writes utsname machine '" + machine + "')");
        }
        return new VmcoreSummary(t);
    }

    /** The {@code e_machine} of the loaded plugin whose kdump {@code utsname.machine} this is, or -1. */
    private int elfMachine(String uts, ArchitectureRegistry registry) {
        for (ArchitectureRegistry.Loaded l : registry.all()) {
            for (int m : l.arch().elfMachines()) {
                if (uts.equals(l.arch().utsMachine(new DumpTarget(m, elfClass, data, blockSize)))) {
                    return m;
                }
            }
        }
        return -1;
    }

    private static String cString(ByteBuffer b, int offset) {
        byte[] f = new byte[DiskDumpHeader.UTS_FIELD];
        b.get(offset, f);
        int n = 0;
        while (n < f.length && f[n] != 0) {
            n++;
        }
        return new String(f, 0, n, StandardCharsets.US_ASCII);
    }
}
