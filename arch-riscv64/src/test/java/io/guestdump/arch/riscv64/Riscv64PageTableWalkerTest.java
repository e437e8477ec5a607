package io.guestdump.arch.riscv64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.memory.GuestMemory;
import io.guestdump.testkit.RecordingSink;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

/** satp decoding, the VMCOREINFO fallback, and malformed entries reported through the sink while the walk goes on. */
class Riscv64PageTableWalkerTest {
    static final long BASE = 0x8000_0000L;
    private final Riscv64PageTableWalker walker = new Riscv64PageTableWalker();

    private static long table(long phys) {
        return phys >>> 12 << 10 | SvWalk.PTE_V;
    }

    private static long leaf(long phys) {
        return phys >>> 12 << 10 | 0xcf; // V R W X A D
    }

    private RecordingSink walk(byte[] ram, VcpuState cpu) throws Exception {
        GuestMemory memory = Riscv64Guests.ram(BASE, ram);
        RecordingSink sink = new RecordingSink();
        walker.walk(Riscv64Guests.guest(memory, List.of(cpu)), cpu, memory, sink);
        return sink;
    }

    @Test
    void pagingIsOnForSv39To57AndOffForBare() {
        assertTrue(walker.pagingEnabled(VcpuState.builder(0).set("satp", 8L << 60).build()));
        assertTrue(walker.pagingEnabled(VcpuState.builder(0).set("satp", 0xa000_a000_0008_82ccL).build()));
        assertFalse(walker.pagingEnabled(VcpuState.builder(0).set("satp", 0).set("pc", -1L).build()));
        assertTrue(walker.pagingEnabled(VcpuState.builder(0).set("pc", 0xffff_ffff_8000_0000L).build()),
                "no satp: an upper-half pc means translation is on");
        assertFalse(walker.pagingEnabled(VcpuState.builder(0).set("pc", 0x8020_0000L).build()));
    }

    @Test
    void sv39KernelLikeMapWithGigapageMegapageAndPage() throws Exception {
        byte[] ram = new byte[4 << 12];
        ByteBuffer b = ByteBuffer.wrap(ram).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(8 * 2, leaf(BASE & -(1L << 30))); // VA 0x8000_0000: a gigapage identity map (clipped to RAM)
        b.putLong(8 * 510, table(BASE + 0x1000)); // VA 0xffff_ffff_8000_0000
        b.putLong(0x1000, leaf(BASE)); // megapage at 0xffff_ffff_8000_0000
        b.putLong(0x1000 + 8, table(BASE + 0x2000));
        b.putLong(0x2000 + 8 * 3, leaf(BASE + 0x3000)); // 0xffff_ffff_8020_3000
        VcpuState cpu = VcpuState.builder(0).set("satp", 8L << 60 | BASE >>> 12).build();
        RecordingSink sink = walk(ram, cpu);
        assertEquals(List.of(new RecordingSink.Mapping(0x8000_0000L, BASE, ram.length),
                new RecordingSink.Mapping(0xffff_ffff_8000_0000L, BASE, ram.length),
                new RecordingSink.Mapping(0xffff_ffff_8020_3000L, BASE + 0x3000, 0x1000)), sink.mappings);
        assertTrue(sink.skipped.isEmpty(), sink.skipped.toString());
    }

    @Test
    void sv57UpperHalfAddressesAreSignExtendedFromBit56() throws Exception {
        byte[] ram = new byte[6 << 12];
        ByteBuffer b = ByteBuffer.wrap(ram).order(ByteOrder.LITTLE_ENDIAN);
        long t = BASE;
        for (int level = 4; level > 0; level--) {
            b.putLong((int) (t - BASE) + 8 * 511, table(t + 0x1000));
            t += 0x1000;
        }
        b.putLong((int) (t - BASE) + 8 * 511, leaf(BASE + 0x5000));
        RecordingSink sink = walk(ram, VcpuState.builder(0).set("satp", 10L << 60 | BASE >>> 12).build());
        assertEquals(List.of(new RecordingSink.Mapping(0xffff_ffff_ffff_f000L, BASE + 0x5000, 0x1000)),
                sink.mappings);
    }

    @Test
    void malformedEntriesLoopsAndTablesOutsideRamAreSkippedAndTheWalkGoesOn() throws Exception {
        byte[] ram = new byte[4 << 12];
        ByteBuffer b = ByteBuffer.wrap(ram).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(0, table(0x10_0000_0000L)); // next table far outside RAM
        b.putLong(8, table(BASE)); // back to the root
        b.putLong(16, table(BASE + 0x1000));
        b.putLong(24, leaf(BASE + 0x1000)); // a gigapage whose PPN is not 1 GiB-aligned
        b.putLong(32, BASE >>> 12 << 10 | SvWalk.PTE_V | SvWalk.PTE_W); // W without R
        b.putLong(0x1000, table(BASE + 0x2000));
        b.putLong(0x2000, leaf(BASE + 0x3000));
        b.putLong(0x2008, table(BASE)); // a pointer at level 0
        b.putLong(0x2010, leaf(0x1000_0000L)); // a page of device memory (not RAM)
        b.putLong(0x2018, leaf(BASE) | 1L << 55); // reserved bit
        b.putLong(0x2020, leaf(BASE) | SvWalk.PTE_N); // N with PPN[3:0] = 0000
        VcpuState cpu = VcpuState.builder(0).set("satp", 8L << 60 | BASE >>> 12).build();
        RecordingSink sink = walk(ram, cpu);
        assertEquals(List.of(new RecordingSink.Mapping(2L << 30, BASE + 0x3000, 0x1000)), sink.mappings);
        assertReason(sink, BASE, "outside guest RAM");
        assertReason(sink, BASE + 8, "loop");
        assertReason(sink, BASE + 24, "misaligned superpage");
        assertReason(sink, BASE + 32, "W without R");
        assertReason(sink, BASE + 0x2008, "a pointer to a next-level table at the last level");
        assertReason(sink, BASE + 0x2010, "not guest RAM");
        assertReason(sink, BASE + 0x2018, "reserved bits 60:54");
        assertReason(sink, BASE + 0x2020, "Svnapot");
        assertEquals(8, sink.skipped.size(), sink.skipped.toString());
    }

    @Test
    void rootTableOutsideRamIsReportedNotThrown() throws Exception {
        RecordingSink sink = walk(new byte[4096], VcpuState.builder(0).set("satp", 9L << 60 | 0x1_0000L).build());
        assertTrue(sink.mappings.isEmpty());
        assertReason(sink, 0x1000_0000L, "root table");
    }

    @Test
    void bareModeWalksNothingAndAnUnknownModeIsAnError() throws Exception {
        assertTrue(walk(new byte[4096], VcpuState.builder(0).set("satp", 0).build()).mappings.isEmpty());
        UnsupportedGuestException e = assertThrows(UnsupportedGuestException.class,
                () -> walk(new byte[4096], VcpuState.builder(3).set("satp", 11L << 60).build()));
        assertTrue(e.getMessage().contains("riscv64 vCPU 3") && e.getMessage().contains("MODE 11"), e.getMessage());
    }

    @Test
    void withoutSatpTheKernelTablesComeFromVmcoreinfo() throws Exception {
        byte[] ram = new byte[2 << 12];
        ByteBuffer b = ByteBuffer.wrap(ram).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(0x1000 + 8 * 510, leaf(BASE)); // swapper_pg_dir at BASE + 0x1000, Sv39
        // the kernel image is linked at 0xffffffff80000000 and loaded at BASE
        String vmcoreinfo = "OSRELEASE=6.12\nSYMBOL(swapper_pg_dir)=ffffffff80001000\n"
                + "NUMBER(va_kernel_pa_offset)=0x" + Long.toHexString(0xffff_ffff_8000_0000L - BASE)
                + "\nNUMBER(VA_BITS)=39\n";
        VcpuState cpu = VcpuState.builder(0).set("pc", 0xffff_ffff_8000_0000L).build();
        GuestMemory memory = Riscv64Guests.ram(BASE, ram);
        RecordingSink sink = new RecordingSink();
        walker.walk(Riscv64Guests.guest(memory, cpu, vmcoreinfo), cpu, memory, sink);
        assertEquals(List.of(new RecordingSink.Mapping(0xffff_ffff_8000_0000L, BASE, ram.length)), sink.mappings);

        UnsupportedGuestException e = assertThrows(UnsupportedGuestException.class, () -> walker.walk(
                Riscv64Guests.guest(memory, cpu, "OSRELEASE=6.12\nNUMBER(VA_BITS)=39\n"), cpu, memory, sink));
        assertTrue(e.getMessage().contains("SYMBOL(swapper_pg_dir)=(absent)") && e.getMessage().contains("satp"),
                e.getMessage());
    }

    private static void assertReason(RecordingSink sink, long entry, String words) {
        assertTrue(sink.skipped.stream().anyMatch(s -> s.entry() == entry && s.reason().contains(words)),
                "expected a skip of 0x" + Long.toHexString(entry) + " mentioning '" + words + "': " + sink.skipped);
    }
}
