package io.guestdump.arch.ppc64;

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

/** Generated radix trees against the reference translation; the swapper_pg_dir root; malformed trees; hash fallback. */
class Ppc64PageTableWalkerTest {
    private static final Ppc64PageTableWalker WALKER = new Ppc64PageTableWalker();
    private static final long RADIX_LPCR = Ppc64PageTableWalker.LPCR_HR;

    private static RecordingSink walk(GuestMemory memory, VcpuState cpu, String vmcoreinfo) {
        RecordingSink sink = new RecordingSink();
        try {
            WALKER.walk(new GuestState("ppc64", memory, List.of(cpu), Map.of(), Optional.ofNullable(vmcoreinfo)), cpu,
                    memory, sink);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return sink;
    }

    private static VcpuState cpu(long lpcr, long ptcr) {
        return VcpuState.builder(0).set("msr", 0x8000_0000_0000_0033L).set("lpcr", lpcr).set("ptcr", ptcr).build();
    }

    @Test
    void radixWalkThroughPtcrMapsExactlyTheReferencePages() {
        Set<String> seen = new HashSet<>();
        qt().withExamples(300).forAll(longs().all()).checkAssert(seed -> {
            RadixTrees.Tree tree = RadixTrees.generate(seed);
            seen.addAll(tree.classes());
            RecordingSink sink = walk(tree.memory(), cpu(RADIX_LPCR, tree.ptcr()), null);
            assertEquals(tree.expectedPages(), sink.pages(4096), "seed " + seed);
            Set<Long> skippedEntries = new HashSet<>();
            sink.skipped.forEach(s -> skippedEntries.add(s.entry()));
            assertEquals(tree.expectedSkips(), skippedEntries, sink.skipped.toString());
        });
        assertTrue(seen.containsAll(Set.of("4k-leaf", "large-leaf", "leaf-outside-ram", "clipped-leaf")),
                "generator classes reached: " + new TreeSet<>(seen));
    }

    @Test
    void radixWithoutPtcrStartsAtSwapperPgDir() {
        qt().withExamples(50).forAll(longs().all()).checkAssert(seed -> {
            RadixTrees.Tree tree = RadixTrees.generate(seed);
            if (tree.rootNls() != 13 || tree.bits() != 52) {
                return; // the fallback assumes Linux's geometry
            }
            String vmcoreinfo = "OSRELEASE=6.1\nSYMBOL(swapper_pg_dir)=" + Long.toHexString(RadixTrees.Q3 | tree.root())
                    + "\n";
            assertEquals(tree.expectedPages(), walk(tree.memory(), cpu(RADIX_LPCR, 0), vmcoreinfo).pages(4096));
        });
        byte[] ram = new byte[8 << 13];
        GuestMemory memory = memory(ram);
        ByteBuffer.wrap(ram).putLong(8 * 3, (1L << 63) | (1L << 62) | 0x1000); // 4 GiB leaf at index 3... clipped
        RecordingSink sink = walk(memory, cpu(RADIX_LPCR, 0), "SYMBOL(swapper_pg_dir)=c000000000000000\n");
        assertEquals(List.of(new RecordingSink.Mapping(RadixTrees.Q3 | 3L << 39, 0, ram.length)), sink.mappings);
    }

    @Test
    void outsideRamLoopsAndBadSizesAreSkippedAndTheWalkGoesOn() {
        byte[] ram = new byte[0x10000];
        ByteBuffer b = ByteBuffer.wrap(ram);
        long v = 1L << 63;
        // root at 0: 32 entries (NLS 5), 52 bits
        b.putLong(0, v | 0x1_0000_0000L | 9); // next level outside RAM
        b.putLong(8, v | 0x0 | 5); // back to the root
        b.putLong(16, v | 0x1000 | 3); // NLS below 5
        b.putLong(24, v | 0x1000 | 9); // a real directory
        b.putLong(0x1000, v | (1L << 62) | 0x8000); // leaf of 2^(52-5-9) bytes at 0: clipped to RAM
        GuestMemory memory = memory(ram);
        RecordingSink sink = new RecordingSink();
        try {
            Ppc64PageTableWalker.radix(memory, sink, 0, 5, 52);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        assertEquals(List.of(new RecordingSink.Mapping(RadixTrees.Q3 | 3L << 47, 0, ram.length)), sink.mappings);
        assertEquals(List.of(0L, 8L, 16L), sink.skipped.stream().map(RecordingSink.Skip::entry).toList());
        assertTrue(sink.skipped.get(0).reason().contains("outside guest RAM"));
        assertTrue(sink.skipped.get(1).reason().contains("loop"));
    }

    @Test
    void hashMmuFallsBackToTheLinearMapAndSaysSo() {
        GuestMemory memory = new GuestMemory(List.of(
                new GuestBlock(PhysRange.ofLength(0, 0x2000), new ByteArrayData(new byte[0x2000]), "a"),
                new GuestBlock(PhysRange.ofLength(0x10000, 0x1000), new ByteArrayData(new byte[0x1000]), "b")));
        RecordingSink sink = walk(memory, cpu(0x3d3f408L, 0), null);
        assertEquals(List.of(new RecordingSink.Mapping(RadixTrees.Q3, 0, 0x2000),
                new RecordingSink.Mapping(RadixTrees.Q3 | 0x10000, 0x10000, 0x1000)), sink.mappings);
        assertEquals(1, sink.skipped.size());
        assertTrue(sink.skipped.get(0).reason().startsWith("hash MMU"));
    }

    /**
     * A hash-MMU guest's vmemmap comes from the kernel's vmemmap_list: three 64 KiB blocks listed newest first are
     * reported after the linear map in ascending virtual order; a node outside RAM ends the list and is reported.
     */
    @Test
    void hashMmuReadsTheVmemmapFromTheKernelsVmemmapList() {
        byte[] ram = new byte[0x100000];
        ByteBuffer b = ByteBuffer.wrap(ram).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        long vmemmap = 0xc00c_0000_0000_0000L;
        // mmu_vmemmap_psize = 2 at 0x1000; mmu_psize_defs at 0x2000, 96 bytes each, shift at 0: [2].shift = 16
        b.putInt(0x1000, 2);
        b.putInt(0x2000 + 2 * 96, 16);
        // vmemmap_list at 0x3000 -> node 0x4000 -> node 0x4100 -> node 0x4200 -> end
        b.putLong(0x3000, RadixTrees.Q3 | 0x4000);
        long[][] nodes = {{0x4000, 0x4100, 0x80000, vmemmap + 0x20000}, {0x4100, 0x4200, 0x60000, vmemmap},
            {0x4200, 0, 0x70000, vmemmap + 0x10000}};
        for (long[] n : nodes) {
            b.putLong((int) n[0], n[1] == 0 ? 0 : RadixTrees.Q3 | n[1]);
            b.putLong((int) n[0] + 8, n[2]);
            b.putLong((int) n[0] + 16, n[3]);
        }
        String vmcoreinfo = String.join("\n", "SYMBOL(vmemmap_list)=c000000000003000",
                "SYMBOL(mmu_vmemmap_psize)=c000000000001000", "SYMBOL(mmu_psize_defs)=c000000000002000",
                "SIZE(vmemmap_backing)=24", "OFFSET(vmemmap_backing.list)=0", "OFFSET(vmemmap_backing.phys)=8",
                "OFFSET(vmemmap_backing.virt_addr)=16", "SIZE(mmu_psize_def)=96", "OFFSET(mmu_psize_def.shift)=0",
                "");
        RecordingSink sink = walk(memory(ram), cpu(0x3d3f408L, 0), vmcoreinfo);
        assertEquals(List.of(new RecordingSink.Mapping(RadixTrees.Q3, 0, 0x100000),
                new RecordingSink.Mapping(vmemmap, 0x60000, 0x10000),
                new RecordingSink.Mapping(vmemmap + 0x10000, 0x70000, 0x10000),
                new RecordingSink.Mapping(vmemmap + 0x20000, 0x80000, 0x10000)), sink.mappings);
        assertEquals(1, sink.skipped.size(), sink.skipped.toString());

        // damage: the second node points outside RAM; the first block is kept, the rest reported
        b.putLong(0x4000, RadixTrees.Q3 | 0x7000_0000L);
        RecordingSink broken = walk(memory(ram), cpu(0x3d3f408L, 0), vmcoreinfo);
        assertEquals(List.of(new RecordingSink.Mapping(RadixTrees.Q3, 0, 0x100000),
                new RecordingSink.Mapping(vmemmap + 0x20000, 0x80000, 0x10000)), broken.mappings);
        assertTrue(broken.skipped.get(1).reason().contains("outside guest RAM"), broken.skipped.toString());

        // a loop: the node points to itself; bounded, and reported
        b.putLong(0x4000, RadixTrees.Q3 | 0x4000);
        RecordingSink loop = walk(memory(ram), cpu(0x3d3f408L, 0), vmcoreinfo);
        assertEquals(2, loop.mappings.size(), loop.mappings.toString());
        assertTrue(loop.skipped.get(1).reason().contains("a loop"), loop.skipped.toString());
    }

    @Test
    void pagingFollowsMsrRelocation() {
        assertTrue(WALKER.pagingEnabled(cpu(0, 0)));
        assertTrue(!WALKER.pagingEnabled(VcpuState.builder(0).set("msr", 0x8000_0000_0000_0001L).build()));
    }

    private static GuestMemory memory(byte[] ram) {
        return new GuestMemory(List.of(new GuestBlock(PhysRange.ofLength(0, ram.length), new ByteArrayData(ram),
                "ram")));
    }
}
