package io.guestdump.core.kdump;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfData;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** disk_dump_header, kdump_sub_header and page_desc: each field at its absolute offset, both classes and orders. */
class KdumpHeaderLayoutTest {
    static final DiskDumpHeader HEADER = new DiskDumpHeader("6.1.0-x", "x86_64", 0x20, 4096, 2, 64,
            0x1_2345_6789L, 3);

    private static String str(byte[] b, int off) {
        int end = off;
        while (b[end] != 0) {
            end++;
        }
        return new String(b, off, end - off, StandardCharsets.US_ASCII);
    }

    @ParameterizedTest
    @EnumSource(ElfData.class)
    void header64FieldsAtTheirOffsets(ElfData data) {
        byte[] b = HEADER.encode(ElfClass.ELF64, data);
        ByteBuffer f = data.wrap(b);
        assertEquals(464, b.length);
        assertEquals("KDUMP   ", new String(b, 0, 8, StandardCharsets.US_ASCII));
        assertEquals(6, f.getInt(8), "header_version");
        assertEquals("Linux", str(b, 12), "utsname.sysname");
        assertEquals("6.1.0-x", str(b, 12 + 2 * 65), "utsname.release");
        assertEquals("x86_64", str(b, 12 + 4 * 65), "utsname.machine");
        for (int i = 402; i < 424; i++) {
            assertEquals(0, b[i], "padding and timestamp are 0 at " + i);
        }
        assertEquals(0x20, f.getInt(424), "status");
        assertEquals(4096, f.getInt(428), "block_size");
        assertEquals(2, f.getInt(432), "sub_hdr_size");
        assertEquals(64, f.getInt(436), "bitmap_blocks");
        assertEquals(-1, f.getInt(440), "max_mapnr clamped to 32 bits");
        for (int off = 444; off < 460; off += 4) {
            assertEquals(0, f.getInt(off), "total_ram/device/written blocks, current_cpu at " + off);
        }
        assertEquals(3, f.getInt(460), "nr_cpus");
    }

    @ParameterizedTest
    @EnumSource(ElfData.class)
    void header32FieldsAtTheirOffsets(ElfData data) {
        byte[] b = new DiskDumpHeader("", "arm", 1, 4096, 1, 2, 0x8000, 2).encode(ElfClass.ELF32, data);
        ByteBuffer f = data.wrap(b);
        assertEquals(452, b.length);
        assertEquals(6, f.getInt(8));
        assertEquals("arm", str(b, 272));
        for (int i = 402; i < 412; i++) {
            assertEquals(0, b[i], "padding and timestamp are 0 at " + i);
        }
        assertEquals(1, f.getInt(412), "status");
        assertEquals(4096, f.getInt(416), "block_size");
        assertEquals(1, f.getInt(420), "sub_hdr_size");
        assertEquals(2, f.getInt(424), "bitmap_blocks");
        assertEquals(0x8000, f.getInt(428), "max_mapnr");
        assertEquals(2, f.getInt(448), "nr_cpus");
    }

    @ParameterizedTest
    @EnumSource(ElfClass.class)
    void swappingTheByteOrderReversesEachFieldNotTheBuffer(ElfClass c) {
        byte[] le = HEADER.encode(c, ElfData.LSB);
        byte[] be = HEADER.encode(c, ElfData.MSB);
        int st = DiskDumpHeader.statusOffset(c);
        assertEquals(Integer.reverseBytes(ElfData.LSB.wrap(le).getInt(st + 4)), ElfData.LSB.wrap(be).getInt(st + 4));
        assertEquals(Integer.reverseBytes(ElfData.LSB.wrap(le).getInt(8)), ElfData.LSB.wrap(be).getInt(8));
        assertEquals(java.util.Arrays.toString(java.util.Arrays.copyOfRange(le, 12, 402)),
                java.util.Arrays.toString(java.util.Arrays.copyOfRange(be, 12, 402)), "strings are not swapped");
        assertEquals(Long.reverseBytes(0), 0);
    }

    @ParameterizedTest
    @EnumSource(ElfData.class)
    void subHeader64FieldsAtTheirOffsets(ElfData data) {
        KdumpSubHeader s = new KdumpSubHeader(-14680064L, 1, 0x1234, 0x56, 4200, 0x999, 0x100000);
        byte[] b = s.encode(ElfClass.ELF64, data);
        ByteBuffer f = data.wrap(b);
        assertEquals(104, b.length);
        assertEquals(-14680064L, f.getLong(0), "phys_base");
        assertEquals(1, f.getInt(8), "dump_level");
        assertEquals(0, f.getInt(12), "split");
        assertEquals(0x1234, f.getLong(32), "offset_vmcoreinfo");
        assertEquals(0x56, f.getLong(40), "size_vmcoreinfo");
        assertEquals(4200, f.getLong(48), "offset_note");
        assertEquals(0x999, f.getLong(56), "size_note");
        assertEquals(0, f.getLong(64), "offset_eraseinfo");
        assertEquals(0, f.getLong(72), "size_eraseinfo");
        assertEquals(0x100000, f.getLong(96), "max_mapnr_64");
    }

    @ParameterizedTest
    @EnumSource(ElfData.class)
    void subHeader32IsThePackedLayout(ElfData data) {
        KdumpSubHeader s = new KdumpSubHeader(0x40000000L, 0, 0x1234, 0x56, 4176, 0x999, 0x60000);
        byte[] b = s.encode(ElfClass.ELF32, data);
        ByteBuffer f = data.wrap(b);
        assertEquals(80, b.length);
        assertEquals(0x40000000, f.getInt(0), "phys_base");
        assertEquals(0, f.getInt(4), "dump_level");
        assertEquals(0x1234, f.getLong(20), "offset_vmcoreinfo, packed right after end_pfn");
        assertEquals(0x56, f.getInt(28), "size_vmcoreinfo");
        assertEquals(4176, f.getLong(32), "offset_note");
        assertEquals(0x999, f.getInt(40), "size_note");
        assertEquals(0x60000, f.getLong(72), "max_mapnr_64");
    }

    @ParameterizedTest
    @EnumSource(ElfData.class)
    void pageDescIs24Bytes(ElfData data) {
        ByteBuffer f = data.allocate(PageDesc.SIZE);
        new PageDesc(0x1_0000_2000L, 1234, 0x20).writeTo(f);
        assertEquals(24, f.position());
        assertEquals(0x1_0000_2000L, f.getLong(0));
        assertEquals(1234, f.getInt(8));
        assertEquals(0x20, f.getInt(12));
        assertEquals(0, f.getLong(16));
    }

    @org.junit.jupiter.api.Test
    void a32BitSubHeaderRefusesAPhysBaseAbove4GiBInsteadOfTruncating() {
        KdumpSubHeader s = new KdumpSubHeader(0x1_0000_0000L, 0, 0, 0, 4176, 0, 1);
        assertThrows(UnsupportedGuestException.class, () -> s.encode(ElfClass.ELF32, ElfData.LSB));
    }
}
