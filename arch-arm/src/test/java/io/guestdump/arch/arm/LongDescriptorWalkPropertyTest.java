package io.guestdump.arch.arm;

import io.guestdump.testkit.RecordingSink;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.longs;

import io.guestdump.arch.api.VcpuState;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.LongFunction;
import org.junit.jupiter.api.Test;

/**
 * Generated AArch64 and LPAE translation trees walked through the plugin's walker, against the generator's
 * reference translation of every page. The generators' edge classes are counted and must all be reached.
 */
class LongDescriptorWalkPropertyTest {

    @Test
    void aarch64WalkMapsExactlyTheReferencePages() {
        Set<String> seen = check(LongDescriptorTrees::aarch64, "aarch64");
        assertTrue(seen.containsAll(Set.of("granule-4K", "granule-16K", "granule-64K", "page", "block-level-1",
                "block-level-2", "leaf-outside-ram", "clipped-block", "big-endian", "both-halves")),
                "generator classes reached: " + new TreeSet<>(seen));
    }

    @Test
    void lpaeWalkMapsExactlyTheReferencePages() {
        Set<String> seen = check(LongDescriptorTrees::lpae, "arm");
        assertTrue(seen.containsAll(Set.of("page", "block-level-1", "block-level-2", "leaf-outside-ram",
                "clipped-block", "big-endian", "lpae-split", "beyond-ttbr0-limit")),
                "generator classes reached: " + new TreeSet<>(seen));
    }

    /**
     * A vCPU caught in user space under kernel page-table isolation has TTBR1_EL1 on the trampoline table. With
     * VMCOREINFO's {@code swapper_pg_dir} and {@code kimage_voffset} the kernel half is still walked from the kernel's
     * own table: the same pages as the generated tree's, for every tree with a TTBR1 half.
     */
    @Test
    void aarch64KernelHalfIsWalkedFromSwapperPgDirWhenTtbr1IsTheTrampoline() {
        long voffset = 0xffff_7fff_c000_0000L;
        int[] trees = {0};
        qt().withExamples(200).forAll(longs().all()).checkAssert(seed -> {
            LongDescriptorTrees.Tree tree = LongDescriptorTrees.aarch64(seed);
            if ((tree.cpu().u64("tcr_el1") & Aarch64PageTableWalker.TCR_EPD1) != 0) {
                return; // no TTBR1 half
            }
            trees[0]++;
            long swapper = tree.cpu().u64("ttbr1_el1");
            // the trampoline: a table outside the generated RAM, as good as one that maps nothing of it
            VcpuState user = tree.cpu().with(java.util.Map.of("ttbr1_el1", java.math.BigInteger.valueOf(0x7f00_0000L)));
            String vi = "OSRELEASE=6.1\nPAGESIZE=" + tree.pageSize() + "\nSYMBOL(swapper_pg_dir)="
                    + Long.toHexString(swapper + voffset) + "\nNUMBER(kimage_voffset)=0x" + Long.toHexString(voffset)
                    + "\n";
            RecordingSink sink = new RecordingSink();
            try {
                new ArmPageTableWalker().walk(WalkerGuests.guest("aarch64", tree.memory(), user, vi), user,
                        tree.memory(), sink);
            } catch (java.io.IOException e) {
                throw new AssertionError(e);
            }
            assertEquals(tree.expectedPages(), sink.pages(tree.pageSize()), tree.description());
        });
        assertTrue(trees[0] > 50, "trees with a TTBR1 half: " + trees[0]);
    }

    private static Set<String> check(LongFunction<LongDescriptorTrees.Tree> generator, String machine) {
        Set<String> seen = new HashSet<>();
        qt().withExamples(300).forAll(longs().all()).checkAssert(seed -> {
            LongDescriptorTrees.Tree tree = generator.apply(seed);
            seen.addAll(tree.classes());
            RecordingSink sink = new RecordingSink();
            try {
                new ArmPageTableWalker().walk(WalkerGuests.guest(machine, tree.memory(), tree.cpu()), tree.cpu(),
                        tree.memory(), sink);
            } catch (java.io.IOException e) {
                throw new AssertionError(e);
            }
            assertEquals(tree.expectedPages(), sink.pages(tree.pageSize()), tree.description());
            Set<Long> skippedEntries = new HashSet<>();
            sink.skipped.forEach(s -> skippedEntries.add(s.entry()));
            assertEquals(tree.expectedSkips(), skippedEntries, tree.description() + ": " + sink.skipped);
        });
        return seen;
    }
}
