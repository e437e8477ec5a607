package io.guestdump.core.kdump;

import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfData;
import io.guestdump.elf.NoteEncoder;
import java.nio.ByteBuffer;

/**
 * {@code struct kdump_sub_header} (makedumpfile {@code diskdump_mod.h}), at file offset {@code block_size}, followed
 * directly by the ELF notes. Two layouts:
 *
 * <pre>
 *  field               64-bit       32-bit (packed, 4-byte aligned u64)
 *  phys_base           u64 @0       u32 @0
 *  dump_level          i32 @8       i32 @4
 *  split               i32 @12      i32 @8
 *  start_pfn           u64 @16      u32 @12
 *  end_pfn             u64 @24      u32 @16
 *  offset_vmcoreinfo   u64 @32      u64 @20
 *  size_vmcoreinfo     u64 @40      u32 @28
 *  offset_note         u64 @48      u64 @32
 *  size_note           u64 @56      u32 @40
 *  offset_eraseinfo    u64 @64      u64 @44
 *  size_eraseinfo      u64 @72      u32 @52
 *  start_pfn_64        u64 @80      u64 @56
 *  end_pfn_64          u64 @88      u64 @64
 *  max_mapnr_64        u64 @96      u64 @72
 *  size                104          80
 * </pre>
 *
 * <p>The 32-bit layout is the packed one (QEMU's, and the native layout of a crash or makedumpfile built for a
 * 32-bit target whose ABI aligns u64 to 4), for every 32-bit target, also those whose ABI would align the u64
 * fields to 8 ("padded" layout, what a makedumpfile running on such a machine writes). Both readers accept both, but libkdumpfile tells them apart
 * with a heuristic on {@code offset_vmcoreinfo} that reads a padded header without VMCOREINFO as packed; the packed
 * layout is never misread.
 *
 * @param physBase         {@code phys_base}: see the plugin's {@code ArchitectureSupport.physBase}
 * @param dumpLevel        {@code dump_level}: 1 when all-zero pages are excluded, else 0
 * @param offsetVmcoreinfo {@code offset_vmcoreinfo}: file offset of the VMCOREINFO note's descriptor, or 0
 * @param sizeVmcoreinfo   {@code size_vmcoreinfo}: its length, or 0
 * @param offsetNote       {@code offset_note}: file offset of the notes
 * @param sizeNote         {@code size_note}: bytes of notes
 * @param maxMapnr         {@code max_mapnr_64}: pfns covered by the bitmaps
 */
public record KdumpSubHeader(long physBase, int dumpLevel, long offsetVmcoreinfo, long sizeVmcoreinfo,
        long offsetNote, long sizeNote, long maxMapnr) {
    /** Size of the 64-bit layout. */
    public static final int SIZE_64 = 104;
    /** Size of the packed 32-bit layout. */
    public static final int SIZE_32 = 80;
    /** {@code DL_EXCLUDE_ZERO}: dump level bit for excluded all-zero pages. */
    public static final int DL_EXCLUDE_ZERO = 1;

    /** The size of the layout for {@code c}. */
    public static int size(ElfClass c) {
        return c == ElfClass.ELF64 ? SIZE_64 : SIZE_32;
    }

    /** Encodes the sub-header in the dump's class and byte order. */
    public byte[] encode(ElfClass c, ElfData data) {
        ByteBuffer buf = data.allocate(size(c));
        if (c == ElfClass.ELF64) {
            buf.putLong(physBase);
            buf.putInt(dumpLevel);
            buf.putInt(0);      // split
            buf.putLong(0);     // start_pfn (only with split)
            buf.putLong(0);     // end_pfn
            buf.putLong(offsetVmcoreinfo);
            buf.putLong(sizeVmcoreinfo);
            buf.putLong(offsetNote);
            buf.putLong(sizeNote);
            buf.putLong(0);     // offset_eraseinfo
            buf.putLong(0);     // size_eraseinfo
            buf.putLong(0);     // start_pfn_64
            buf.putLong(0);     // end_pfn_64
            buf.putLong(maxMapnr);
        } else {
            buf.putInt(u32("phys_base", physBase));
            buf.putInt(dumpLevel);
            buf.putInt(0);      // split
            buf.putInt(0);      // start_pfn
            buf.putInt(0);      // end_pfn
            buf.putLong(offsetVmcoreinfo);
            buf.putInt(u32("size_vmcoreinfo", sizeVmcoreinfo));
            buf.putLong(offsetNote);
            buf.putInt(u32("size_note", sizeNote));
            buf.putLong(0);     // offset_eraseinfo
            buf.putInt(0);      // size_eraseinfo
            buf.putLong(0);     // start_pfn_64
            buf.putLong(0);     // end_pfn_64
            buf.putLong(maxMapnr);
        }
        NoteEncoder.expectWritten(buf, 0, size(c));
        return buf.array();
    }

    private static int u32(String field, long value) {
        if ((value >>> 32) != 0) {
            throw new UnsupportedGuestException("kdump sub-header " + field + " 0x" + Long.toHexString(value)
                    + " does not fit the 32-bit kdump layout of an ELFCLASS32 guest; dump it in ELF format");
        }
        return (int) value;
    }
}
