package io.guestdump.core.kdump;

import io.guestdump.core.kernel.Utsname;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfData;
import io.guestdump.elf.NoteEncoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * {@code struct disk_dump_header} (makedumpfile {@code diskdump_mod.h}), at file offset 0. The ELF class picks the
 * layout, because {@code struct timeval} is two {@code long}s:
 *
 * <pre>
 *  offset     field                                     size
 *  0          signature "KDUMP   "                      8
 *  8          header_version                            4
 *  12         utsname: sysname nodename release
 *             version machine domainname                6 × 65
 *  402        pad to the alignment of long              6 | 2
 *  408 | 404  timestamp {tv_sec, tv_usec}               16 | 8
 *  424 | 412  status                                    4
 *  +4         block_size                                4
 *  +8         sub_hdr_size (blocks)                     4
 *  +12        bitmap_blocks                             4
 *  +16        max_mapnr (32-bit, obsolete since v6)     4
 *  +20        total_ram_blocks, device_blocks,
 *             written_blocks, current_cpu               4 × 4
 *  +36        nr_cpus                                   4
 *  464 | 452  end
 * </pre>
 *
 * @param utsname      {@code utsname}: the guest's {@code init_uts_ns.name}, no field empty ({@link Utsname#complete})
 * @param status       {@code DUMP_DH_COMPRESSED_*} flag of the codec
 * @param blockSize    {@code block_size}: the dump page size
 * @param subHdrSize   {@code sub_hdr_size}: blocks of sub-header and notes
 * @param bitmapBlocks {@code bitmap_blocks}: blocks of both bitmaps
 * @param maxMapnr     pfns covered (the 32-bit field is clamped; the sub-header has the 64-bit value)
 * @param nrCpus       {@code nr_cpus}: vCPUs
 */
public record DiskDumpHeader(Utsname utsname, int status, int blockSize, int subHdrSize,
        int bitmapBlocks, long maxMapnr, int nrCpus) {
    /** {@code KDUMP_SIGNATURE}. */
    public static final String KDUMP_SIGNATURE = "KDUMP   ";
    /** The header version written: 6 (64-bit pfn fields in the sub-header). */
    public static final int HEADER_VERSION = 6;
    /** {@code NEW_UTS_LEN + 1}. */
    public static final int UTS_FIELD = 65;
    /** Offset of {@code utsname}. */
    public static final int UTSNAME_OFFSET = 12;
    /** Offset of {@code utsname.release}. */
    public static final int RELEASE_OFFSET = UTSNAME_OFFSET + 2 * UTS_FIELD;
    /** Offset of {@code utsname.machine}. */
    public static final int MACHINE_OFFSET = UTSNAME_OFFSET + 4 * UTS_FIELD;
    /** Offset of {@code status} in the 64-bit layout. */
    public static final int STATUS_OFFSET_64 = 424;
    /** Offset of {@code status} in the 32-bit layout. */
    public static final int STATUS_OFFSET_32 = 412;
    /** Size of the 64-bit layout. */
    public static final int SIZE_64 = 464;
    /** Size of the 32-bit layout. */
    public static final int SIZE_32 = 452;

    /**
     * A header whose utsname has only a release and a machine; the other fields as {@link Utsname#complete} fills
     * them for a Linux guest ("Linux", "(none)", the release as version).
     */
    public DiskDumpHeader(String release, String machine, int status, int blockSize, int subHdrSize,
            int bitmapBlocks, long maxMapnr, int nrCpus) {
        this(new Utsname("Linux", Utsname.NONE, release.isEmpty() ? Utsname.NONE : release,
                release.isEmpty() ? Utsname.NONE : release, machine, Utsname.NONE), status, blockSize, subHdrSize,
                bitmapBlocks, maxMapnr, nrCpus);
    }

    /** {@code utsname.release}. */
    public String release() {
        return utsname.release();
    }

    /** {@code utsname.machine}. */
    public String machine() {
        return utsname.machine();
    }

    /** The size of the layout for {@code c}. */
    public static int size(ElfClass c) {
        return c == ElfClass.ELF64 ? SIZE_64 : SIZE_32;
    }

    /** Offset of {@code status} for {@code c}; the fields after it follow at +4 each. */
    public static int statusOffset(ElfClass c) {
        return c == ElfClass.ELF64 ? STATUS_OFFSET_64 : STATUS_OFFSET_32;
    }

    /** Encodes the header in the dump's class and byte order. */
    public byte[] encode(ElfClass c, ElfData data) {
        int longSize = c == ElfClass.ELF64 ? 8 : 4;
        ByteBuffer buf = data.allocate(size(c));
        buf.put(KDUMP_SIGNATURE.getBytes(StandardCharsets.US_ASCII));
        buf.putInt(HEADER_VERSION);
        for (String field : utsname.fields()) {
            putUts(buf, field);
        }
        buf.position(buf.position() + (-buf.position() & (longSize - 1))); // struct timeval is long-aligned
        buf.position(buf.position() + 2 * longSize); // timestamp 0: the output is deterministic
        buf.putInt(status);
        buf.putInt(blockSize);
        buf.putInt(subHdrSize);
        buf.putInt(bitmapBlocks);
        buf.putInt((int) Math.min(maxMapnr, 0xffff_ffffL));
        buf.putInt(0); // total_ram_blocks
        buf.putInt(0); // device_blocks
        buf.putInt(0); // written_blocks
        buf.putInt(0); // current_cpu
        buf.putInt(nrCpus);
        NoteEncoder.expectWritten(buf, 0, size(c));
        return buf.array();
    }

    private static void putUts(ByteBuffer buf, String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        int start = buf.position();
        buf.put(b);
        buf.position(start + UTS_FIELD);
    }
}
