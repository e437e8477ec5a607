package io.guestdump.core.kdump;

import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.core.kernel.Utsname;
import io.guestdump.elf.Alignment;
import io.guestdump.elf.ElfConstants;
import io.guestdump.elf.Note;
import io.guestdump.elf.NoteHeader;
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
 */
public record KdumpLayout(DumpTarget target, DiskDumpHeader header, KdumpSubHeader subHeader, List<long[]> runs,
        long presentPages, LongPredicate dumped, long dumpedPages, int lenBitmap, long bitmap1Offset,
        long bitmap2Offset, long descOffset, long dataOffset) {

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
        long dumpedPages = present;
        if (dumped != null) {
            dumpedPages = 0;
            for (long[] r : runs) {
                for (long p = r[0]; p < r[1]; p++) {
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
                bitmap1, bitmap2, desc, data);
    }

    /** The page size. */
    public int blockSize() {
        return header.blockSize();
    }

    /** The 2nd bitmap before zero pages are looked at: one bit per dumped pfn, LSB first. */
    public byte[] dumpedBitmap() {
        if (dumped == null) {
            return presentBitmap();
        }
        byte[] bits = new byte[lenBitmap];
        for (long[] r : runs) {
            for (long p = r[0]; p < r[1]; p++) {
                if (dumped.test(p)) {
                    bits[(int) (p >>> 3)] |= (byte) (1 << (p & 7));
                }
            }
        }
        return bits;
    }

    /** The 1st bitmap: one bit per present pfn, LSB first. */
    public byte[] presentBitmap() {
        byte[] bits = new byte[lenBitmap];
        for (long[] r : runs) {
            for (long p = r[0]; p < r[1]; p++) {
                bits[(int) (p >>> 3)] |= (byte) (1 << (p & 7));
            }
        }
        return bits;
    }
}
