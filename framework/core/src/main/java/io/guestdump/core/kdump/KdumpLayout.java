package io.guestdump.core.kdump;

import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.core.kernel.Utsname;
import io.guestdump.elf.Alignment;
import io.guestdump.elf.ElfConstants;
import io.guestdump.elf.Note;
import io.guestdump.elf.NoteHeader;
import io.guestdump.memory.BlockData;
import io.guestdump.memory.GuestBlock;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongPredicate;

/**
 * Every offset of a kdump-compressed file, decided before the first byte is written (makedumpfile
 * {@code IMPLEMENTATION}, QEMU {@code create_kdump_vmcore}). {@code bs} is the block size, the dump page size:
 *
 * <pre>
 * 0                               disk_dump_header                 464 | 452
 * bs                              kdump_sub_header                 104 | 80
 * noteOffset = bs + sizeof(sub)   ELF notes (VMCOREINFO among them)
 * bitmap1Offset = (1 + sub_hdr_size) × bs
 *                                 1st bitmap: pfn present          lenBitmap = roundup(⌈max_mapnr / 8⌉, bs)
 * bitmap2Offset                   2nd bitmap: pfn dumped           lenBitmap
 * descOffset = bitmap1Offset + 2 × lenBitmap
 *                                 page_desc × dumped pages         24 each, in pfn order
 * dataOffset = descOffset + 24 × present pages
 *                                 [shared zero page] page data…    compressed or raw, not aligned
 * </pre>
 *
 * A pfn is {@code paddr >> page_shift}; a page that a block covers only in part (an unaligned block) is present and
 * its missing bytes read as zeros (QEMU's 2022 fix). Room for a descriptor is reserved for every present page; when
 * all-zero pages are excluded the unused slots at the end of the descriptor area stay a hole, so the data offsets
 * never depend on what the pages contain and one pass suffices.
 *
 * <p>Unbacked pages are those a source declares zero without holding their bytes (an ELF PT_LOAD's {@code p_memsz}
 * beyond its {@code p_filesz}; {@link io.guestdump.memory.BlockData#knownZeros}). They are found run by run, never
 * page by page. When zero pages are excluded they are excluded without being read and without a descriptor slot,
 * so a huge zero tail costs its bitmap bits only; when zero pages are shared each still needs a page descriptor.
 * Either way their bitmaps and descriptors are bounded by {@link #MAX_UNBACKED_METADATA}, checked before the first
 * byte is written.
 *
 * @param target        class, byte order, page size
 * @param header        the disk_dump_header
 * @param subHeader     the kdump_sub_header
 * @param runs          present pfns as ascending, disjoint, non-adjacent {@code [first, end)} pairs
 * @param presentPages  pfns in the runs
 * @param dumped        which present pfns are dumped (the 2nd bitmap before zero pages), or null for all
 * @param dumpedPages   present pfns that {@code dumped} keeps; descriptors are reserved for these
 * @param lenBitmap     bytes of one bitmap
 * @param bitmap1Offset file offset of the 1st bitmap
 * @param bitmap2Offset file offset of the 2nd bitmap
 * @param descOffset    file offset of the first page_desc
 * @param dataOffset    file offset of the page data
 * @param unbacked      unbacked pfns (present, declared zero, not held) as ascending, disjoint {@code [first, end)}
 * @param unbackedPages pfns in {@code unbacked}
 * @param skipUnbacked  whether unbacked pfns are excluded without being read (zero pages excluded)
 */
public record KdumpLayout(DumpTarget target, DiskDumpHeader header, KdumpSubHeader subHeader, List<long[]> runs,
        long presentPages, LongPredicate dumped, long dumpedPages, int lenBitmap, long bitmap1Offset,
        long bitmap2Offset, long descOffset, long dataOffset, List<long[]> unbacked, long unbackedPages,
        boolean skipUnbacked) {
    /**
     * The most bytes of bitmaps and page descriptors written for unbacked pages: 64 MiB, the bitmaps of 1 TiB of
     * 4 KiB pages when zero pages are excluded, or the descriptors of about 10 GiB when they are shared.
     */
    public static final long MAX_UNBACKED_METADATA = 64L << 20;

    /** Plans a kdump file of every present page (no dump level). */
    public static KdumpLayout plan(DumpTarget target, List<Note> notes, byte[] noteBytes, List<GuestBlock> blocks,
            KdumpCodec codec, boolean excludeZero, long physBase, Utsname utsname, int nrCpus) {
        return plan(target, notes, noteBytes, blocks, codec, excludeZero, physBase, utsname, nrCpus, null,
                excludeZero ? KdumpSubHeader.DL_EXCLUDE_ZERO : 0);
    }

    /**
     * Plans a kdump file.
     *
     * @param target      what the plugin decided
     * @param notes       the notes, in file order
     * @param noteBytes   the encoded notes
     * @param blocks      the memory to store, ascending and disjoint (already filtered)
     * @param codec       the page codec
     * @param excludeZero whether all-zero pages are left out (dump level 1) instead of shared
     * @param physBase    phys_base for the sub-header
     * @param utsname     the header's utsname
     * @param nrCpus      vCPUs
     * @param dumped      which present pfns to dump, or null for all (a dump level)
     * @param dumpLevel   {@code dump_level} for the sub-header
     */
    public static KdumpLayout plan(DumpTarget target, List<Note> notes, byte[] noteBytes, List<GuestBlock> blocks,
            KdumpCodec codec, boolean excludeZero, long physBase, Utsname utsname, int nrCpus, LongPredicate dumped,
            int dumpLevel) {
        long bs = target.pageSize();
        if (bs > (1 << 30)) {
            throw new UnsupportedGuestException("kdump: page size " + bs + " does not fit block_size");
        }
        int shift = Long.numberOfTrailingZeros(bs);
        List<long[]> runs = new ArrayList<>();
        long present = 0;
        for (GuestBlock b : blocks) {
            if (b.range().isEmpty()) {
                continue;
            }
            long first = b.range().start() >>> shift;
            long end = ((b.range().end() - 1) >>> shift) + 1;
            long[] last = runs.isEmpty() ? null : runs.get(runs.size() - 1);
            if (last != null && first <= last[1]) {
                present += Math.max(0, end - last[1]);
                last[1] = Math.max(last[1], end);
            } else {
                runs.add(new long[] {first, end});
                present += end - first;
            }
        }
        List<long[]> unbacked = unbacked(blocks, shift);
        long unbackedPages = 0;
        for (long[] u : unbacked) {
            unbackedPages += u[1] - u[0];
        }
        boolean skipUnbacked = excludeZero;
        long unbackedMetadata = unbackedPages / 4 + (skipUnbacked ? 0 : unbackedPages * PageDesc.SIZE);
        if (unbackedMetadata > MAX_UNBACKED_METADATA) {
            throw new InvalidInputException("kdump: the source declares " + (unbackedPages << shift) + " bytes (0x"
                    + Long.toHexString(unbackedPages << shift) + ") of zeros it does not hold (a PT_LOAD's p_memsz "
                    + "beyond its p_filesz); a kdump file needs " + unbackedMetadata + " bytes of bitmaps"
                    + (skipUnbacked ? "" : " and page descriptors") + " for them, more than the "
                    + MAX_UNBACKED_METADATA + " guestdump writes for memory a source does not hold; dump in ELF "
                    + "format (the zeros become a hole), narrow the dump with --begin/--length"
                    + (skipUnbacked ? "" : ", or exclude zero pages (-D guestdump.kdump.zero-pages=exclude: no "
                            + "descriptors for them, up to 1 TiB)"));
        }
        long maxMapnr = runs.isEmpty() ? 0 : runs.get(runs.size() - 1)[1];
        long lenBitmapLong = Math.max(bs, Alignment.up((maxMapnr + 7) / 8, bs));
        if (lenBitmapLong > Integer.MAX_VALUE / 2) {
            throw new UnsupportedGuestException("kdump: " + maxMapnr + " pfns need bitmaps of " + lenBitmapLong
                    + " bytes each, more than this writer holds; dump in ELF format or a --begin/--length window");
        }
        int lenBitmap = (int) lenBitmapLong;
        int subSize = KdumpSubHeader.size(target.elfClass());
        long noteOffset = bs + subSize;
        long subHdrSize = (subSize + noteBytes.length + bs - 1) / bs;
        long bitmap1 = Math.multiplyExact(1 + subHdrSize, bs);
        long bitmap2 = bitmap1 + lenBitmap;
        long desc = bitmap2 + lenBitmap;
        long dumpedPages = present - (skipUnbacked ? unbackedPages : 0);
        if (dumped != null) {
            dumpedPages = 0;
            int u = 0;
            for (long[] r : runs) {
                for (long p = r[0]; p < r[1]; p++) {
                    while (u < unbacked.size() && unbacked.get(u)[1] <= p) {
                        u++;
                    }
                    if (skipUnbacked && u < unbacked.size() && unbacked.get(u)[0] <= p) {
                        p = unbacked.get(u)[1] - 1; // the whole unbacked run is excluded
                        continue;
                    }
                    if (dumped.test(p)) {
                        dumpedPages++;
                    }
                }
            }
        }
        long data = Math.addExact(desc, Math.multiplyExact(dumpedPages, PageDesc.SIZE));

        long vmcoreinfoOffset = 0;
        long vmcoreinfoSize = 0;
        long cursor = noteOffset;
        for (Note n : notes) {
            if (n.owner().equals("VMCOREINFO")) {
                vmcoreinfoOffset = cursor + NoteHeader.SIZE
                        + Alignment.up((long) n.owner().getBytes(StandardCharsets.US_ASCII).length + 1,
                                ElfConstants.NOTE_ALIGNMENT);
                vmcoreinfoSize = n.descSize();
            }
            cursor += n.encodedSize();
        }
        DiskDumpHeader header = new DiskDumpHeader(utsname, codec.flag(), (int) bs,
                Math.toIntExact(subHdrSize), Math.toIntExact(2L * lenBitmap / bs), maxMapnr, nrCpus);
        KdumpSubHeader sub = new KdumpSubHeader(physBase, dumpLevel,
                vmcoreinfoOffset, vmcoreinfoSize, noteOffset, noteBytes.length, maxMapnr);
        return new KdumpLayout(target, header, sub, List.copyOf(runs), present, dumped, dumpedPages, lenBitmap,
                bitmap1, bitmap2, desc, data, List.copyOf(unbacked), unbackedPages, skipUnbacked);
    }

    /** The pfns wholly inside the blocks' known-zero runs, merged, in time proportional to the runs. */
    private static List<long[]> unbacked(List<GuestBlock> blocks, int shift) {
        long mask = (1L << shift) - 1;
        List<long[]> out = new ArrayList<>();
        for (GuestBlock b : blocks) {
            BlockData d = b.data();
            long size = b.range().length();
            long off = d.nextKnownZeros(0);
            while (Long.compareUnsigned(off, size) < 0 && off >= 0) {
                long z = Math.min(d.knownZeros(off), size - off);
                if (z <= 0) {
                    off = d.nextKnownZeros(off + 1);
                    continue;
                }
                long s = b.range().start() + off;
                long e = s + z;
                long first = (s >>> shift) + ((s & mask) != 0 ? 1 : 0);
                long end = e == 0 ? 1L << (64 - shift) : e >>> shift;
                if (end > first) {
                    long[] last = out.isEmpty() ? null : out.get(out.size() - 1);
                    if (last != null && last[1] == first) {
                        last[1] = end;
                    } else {
                        out.add(new long[] {first, end});
                    }
                }
                off = d.nextKnownZeros(off + z);
            }
        }
        return out;
    }

    /** The page size. */
    public int blockSize() {
        return header.blockSize();
    }

    /**
     * The 2nd bitmap before zero pages are looked at: one bit per dumped pfn, LSB first; unbacked pfns are clear
     * when {@link #skipUnbacked()}.
     */
    public byte[] dumpedBitmap() {
        if (dumped == null) {
            return clearUnbacked(presentBitmap());
        }
        byte[] bits = new byte[lenBitmap];
        for (long[] r : runs) {
            for (long p = r[0]; p < r[1]; p++) {
                long next = skipUnbacked(p);
                if (next != p) {
                    p = next - 1;
                } else if (dumped.test(p)) {
                    bits[(int) (p >>> 3)] |= (byte) (1 << (p & 7));
                }
            }
        }
        return bits;
    }

    /** Clears the unbacked pfns' bits in {@code bits} when {@link #skipUnbacked()}; returns {@code bits}. */
    public byte[] clearUnbacked(byte[] bits) {
        if (skipUnbacked) {
            for (long[] u : unbacked) {
                setBits(bits, u[0], u[1], false);
            }
        }
        return bits;
    }

    /** The 1st bitmap: one bit per present pfn, LSB first. */
    public byte[] presentBitmap() {
        byte[] bits = new byte[lenBitmap];
        for (long[] r : runs) {
            setBits(bits, r[0], r[1], true);
        }
        return bits;
    }

    /** Sets or clears bits {@code [from, to)}, whole bytes at a time. */
    private static void setBits(byte[] bits, long from, long to, boolean on) {
        long p = from;
        for (; p < to && (p & 7) != 0; p++) {
            flip(bits, p, on);
        }
        long wholeEnd = to & ~7L;
        if (p < wholeEnd) {
            java.util.Arrays.fill(bits, (int) (p >>> 3), (int) (wholeEnd >>> 3), on ? (byte) 0xff : 0);
            p = wholeEnd;
        }
        for (; p < to; p++) {
            flip(bits, p, on);
        }
    }

    private static void flip(byte[] bits, long p, boolean on) {
        if (on) {
            bits[(int) (p >>> 3)] |= (byte) (1 << (p & 7));
        } else {
            bits[(int) (p >>> 3)] &= (byte) ~(1 << (p & 7));
        }
    }

    /** The end of the unbacked run holding {@code pfn} when unbacked pfns are skipped, else {@code pfn}. */
    long skipUnbacked(long pfn) {
        if (!skipUnbacked) {
            return pfn;
        }
        long[] u = unbackedAt(pfn);
        return u != null && u[0] <= pfn ? u[1] : pfn;
    }

    /** The first unbacked run ending after {@code pfn}, or null. */
    long[] unbackedAt(long pfn) {
        int lo = 0;
        int hi = unbacked.size() - 1;
        long[] best = null;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (unbacked.get(mid)[1] > pfn) {
                best = unbacked.get(mid);
                hi = mid - 1;
            } else {
                lo = mid + 1;
            }
        }
        return best;
    }
}
