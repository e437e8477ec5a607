package io.guestdump.arch.arm;

import io.guestdump.testkit.RecordingSink;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.arch.api.VcpuState;
import io.guestdump.memory.ByteArrayData;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.PhysRange;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Entries pointing outside RAM and loops are reported through the sink, and the walk goes on. */
class MalformedArmTablesTest {
    static final long BASE = 0x4000_0000L;

    private static GuestMemory memory(byte[] ram) {
        return new GuestMemory(List.of(new GuestBlock(PhysRange.ofLength(BASE, ram.length), new ByteArrayData(ram),
                "ram")));
    }

    @Test
    void aarch64OutsideRamAndLoopAreSkippedAndTheWalkGoesOn() throws Exception {
        byte[] ram = new byte[4 << 12];
        ByteBuffer b = ByteBuffer.wrap(ram).order(ByteOrder.LITTLE_ENDIAN);
        long top = BASE; // level 1 table of a 39-bit TTBR0 half
        b.putLong(0, 0x8_0000_0000L | 0b11); // table far outside RAM
        b.putLong(8, top | 0b11); // table pointing to itself
        b.putLong(16, (BASE + 0x1000) | 0b11); // level 2
        b.putLong(0x1000, (BASE + 0x2000) | 0b11); // level 3
        b.putLong(0x1008, (BASE + 0x1000) | 0b11); // level 2 entry back to its own table
        b.putLong(0x2000, (BASE + 0x3000) | 0x403); // page
        b.putLong(0x2008, 0x0900_0000L | 0x403); // device page (UART), not RAM
        VcpuState cpu = VcpuState.builder(0).set("pc", 0).set("sctlr_el1", 1).set("tcr_el1", 25 | 1L << 23)
                .set("ttbr0_el1", top).build();
        RecordingSink sink = new RecordingSink();
        new ArmPageTableWalker().walk(WalkerGuests.guest("aarch64", memory(ram), cpu), cpu, memory(ram), sink);

        assertEquals(List.of(new RecordingSink.Mapping(2L << 30, BASE + 0x3000, 0x1000)), sink.mappings);
        assertEquals(4, sink.skipped.size(), sink.skipped.toString());
        assertReason(sink, BASE, "outside guest RAM");
        assertReason(sink, BASE + 8, "loop");
        assertReason(sink, BASE + 0x1008, "loop");
        assertReason(sink, BASE + 0x2008, "not guest RAM");
    }

    @Test
    void aarch64TopTableOutsideRamIsReportedNotThrown() throws Exception {
        byte[] ram = new byte[4096];
        VcpuState cpu = VcpuState.builder(0).set("pc", 0).set("sctlr_el1", 1).set("tcr_el1", 16L << 16 | 2L << 30)
                .set("ttbr1_el1", 0x1_0000_0000L).build();
        RecordingSink sink = new RecordingSink();
        new ArmPageTableWalker().walk(WalkerGuests.guest("aarch64", memory(ram), cpu), cpu, memory(ram), sink);
        assertTrue(sink.mappings.isEmpty());
        assertReason(sink, 0x1_0000_0000L, "TTBR1_EL1");
    }

    @Test
    void lpaeOutsideRamAndLoopAreSkipped() throws Exception {
        byte[] ram = new byte[3 << 12];
        ByteBuffer b = ByteBuffer.wrap(ram).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(0, 0x10_0000_0000L | 0b11); // level 2 table beyond RAM (40-bit PA)
        b.putLong(8, BASE | 0b11); // back to the top table
        b.putLong(16, (BASE + 0x1000) | 0b11);
        b.putLong(0x1000, BASE | 0b01); // 2 MiB block over all of RAM
        VcpuState cpu = VcpuState.builder(0).set("r15", 0).set("sctlr", 1).set("ttbcr", Arm32PageTableWalker.TTBCR_EAE)
                .set("ttbr0", BASE).build();
        RecordingSink sink = new RecordingSink();
        new ArmPageTableWalker().walk(WalkerGuests.guest("arm", memory(ram), cpu), cpu, memory(ram), sink);
        assertEquals(List.of(new RecordingSink.Mapping(0x8000_0000L, BASE, ram.length)), sink.mappings);
        assertReason(sink, BASE, "outside guest RAM");
        assertReason(sink, BASE + 8, "loop");
    }

    @Test
    void shortDescriptorOutsideRamAndLoopAreSkipped() throws Exception {
        byte[] ram = new byte[0x5000];
        ByteBuffer b = ByteBuffer.wrap(ram).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, 0x8000_0000 | 0b01); // page table outside RAM
        b.putInt(4, (int) (BASE + 0x400) | 0b01); // page table inside the first-level table
        b.putInt(8, (int) (BASE + 0x4000) | 0b01);
        b.putInt(0x4000, (int) BASE | 0b10); // small page
        VcpuState cpu = VcpuState.builder(0).set("r15", 0).set("sctlr", 1).set("ttbcr", 0).set("ttbr0", BASE).build();
        RecordingSink sink = new RecordingSink();
        new ArmPageTableWalker().walk(WalkerGuests.guest("arm", memory(ram), cpu), cpu, memory(ram), sink);
        assertEquals(List.of(new RecordingSink.Mapping(2L << 20, BASE, 4096)), sink.mappings);
        assertReason(sink, BASE, "outside guest RAM");
        assertReason(sink, BASE + 4, "loop");
    }

    private static void assertReason(RecordingSink sink, long entry, String words) {
        assertTrue(sink.skipped.stream().anyMatch(s -> s.entry() == entry && s.reason().contains(words)),
                "expected a skip of 0x" + Long.toHexString(entry) + " mentioning '" + words + "': " + sink.skipped);
    }
}
