package io.guestdump.arch.arm;

import io.guestdump.testkit.RecordingSink;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.longs;

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
