package io.guestdump.arch.s390x;

import io.guestdump.testkit.RecordingSink;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.longs;

import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.memory.ByteArrayData;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.PhysRange;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** Generated DAT trees against the reference translation; malformed tables; the ASCE choice; real space. */
class S390xPageTableWalkerTest {
    private static final S390xPageTableWalker WALKER = new S390xPageTableWalker();

    private static RecordingSink walk(GuestMemory memory, VcpuState cpu) {
        RecordingSink sink = new RecordingSink();
        try {
            WALKER.walk(new GuestState("s390x", memory, List.of(cpu), Map.of(), Optional.empty()), cpu, memory, sink);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return sink;
    }

    @Test
    void datWalkMapsExactlyTheReferencePages() {
        Set<String> seen = new HashSet<>();
        qt().withExamples(300).forAll(longs().all()).checkAssert(seed -> {
            DatTrees.Tree tree = DatTrees.generate(seed);
            seen.addAll(tree.classes());
            RecordingSink sink = walk(tree.memory(), tree.cpu());
            assertEquals(tree.expectedPages(), sink.pages(4096), tree.description());
            Set<Long> skippedEntries = new HashSet<>();
            sink.skipped.forEach(s -> skippedEntries.add(s.entry()));
            assertEquals(tree.expectedSkips(), skippedEntries, tree.description() + ": " + sink.skipped);
        });
        assertTrue(seen.containsAll(Set.of("dt-0", "dt-1", "dt-2", "dt-3", "page", "1m-frame", "2g-frame",
                "leaf-outside-ram", "clipped-frame", "wrong-table-type", "partial-table")),
                "generator classes reached: " + new TreeSet<>(seen));
    }

    @Test
    void outsideRamAndLoopsAreSkippedAndTheWalkGoesOn() {
        byte[] ram = new byte[0x8000];
        ByteBuffer b = ByteBuffer.wrap(ram);
        for (int i = 0; i < 0x1000; i += 8) {
            b.putLong(i, S390xPageTableWalker.ENTRY_INVALID); // an empty segment table
        }
        for (int i = 0; i < 0x800; i += 8) {
            b.putLong(0x4000 + i, S390xPageTableWalker.PTE_INVALID); // an empty page table
        }
        // segment table at 0 (ASCE DT 0, TL 0: 512 entries)
        b.putLong(0, 0x1_0000_0000L); // page table outside RAM
        b.putLong(8, 0x0L); // page table = the segment table itself
        b.putLong(16, 0x4000L); // page table
        b.putLong(0x4000, 0x6000L); // page
        b.putLong(0x4008, 0x40_0000L); // page outside RAM
        GuestMemory memory = memory(ram);
        VcpuState cpu = VcpuState.builder(0).set(S390xRegisters.PSW_MASK, 0x0400_0000_0000_0000L).set("c1", 0L)
                .build();
        RecordingSink sink = walk(memory, cpu);
        assertEquals(List.of(new RecordingSink.Mapping(2L << 20, 0x6000, 4096)), sink.mappings);
        assertEquals(3, sink.skipped.size(), sink.skipped.toString());
        assertTrue(sink.skipped.get(0).entry() == 0 && sink.skipped.get(0).reason().contains("outside guest RAM"));
        assertTrue(sink.skipped.get(1).entry() == 8 && sink.skipped.get(1).reason().contains("loop"));
        assertTrue(sink.skipped.get(2).entry() == 0x4008 && sink.skipped.get(2).reason().contains("not guest RAM"));
    }

    @Test
    void asceOutsideRamIsReportedNotThrown() {
        GuestMemory memory = memory(new byte[4096]);
        VcpuState cpu = VcpuState.builder(0).set(S390xRegisters.PSW_MASK, 0x0400_0000_0000_0000L)
                .set("c1", 0x1000_0007L).build();
        RecordingSink sink = walk(memory, cpu);
        assertTrue(sink.mappings.isEmpty());
        assertTrue(sink.skipped.get(0).reason().contains("ASCE 0x10000007"), sink.skipped.toString());
    }

    @Test
    void realSpaceAsceMapsAllRamOneToOne() {
        GuestMemory memory = memory(new byte[0x3000]);
        VcpuState cpu = VcpuState.builder(0).set(S390xRegisters.PSW_MASK, 0x0400_0000_0000_0000L)
                .set("c1", S390xPageTableWalker.ASCE_REAL).build();
        assertEquals(List.of(new RecordingSink.Mapping(0, 0, 0x3000)), walk(memory, cpu).mappings);
    }

    @Test
    void pswAddressSpaceControlPicksTheAsce() {
        long dat = 0x0400_0000_0000_0000L;
        assertEquals("c1", S390xPageTableWalker.asceRegister(cpu(dat)));
        assertEquals("c1", S390xPageTableWalker.asceRegister(cpu(dat | 1L << 46)));
        assertEquals("c7", S390xPageTableWalker.asceRegister(cpu(dat | 2L << 46)));
        assertEquals("c13", S390xPageTableWalker.asceRegister(cpu(dat | 3L << 46)));
        assertTrue(WALKER.pagingEnabled(cpu(dat)));
        assertTrue(!WALKER.pagingEnabled(cpu(0x0000_0001_8000_0000L)));
    }

    private static VcpuState cpu(long mask) {
        return VcpuState.builder(0).set(S390xRegisters.PSW_MASK, mask).build();
    }

    private static GuestMemory memory(byte[] ram) {
        return new GuestMemory(List.of(new GuestBlock(PhysRange.ofLength(0, ram.length), new ByteArrayData(ram),
                "ram")));
    }
}
