package io.guestdump.arch.arm;

import io.guestdump.testkit.RecordingSink;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.longs;

import java.io.IOException;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** Generated short-descriptor trees walked by the arm walker, against the reference translation of every page. */
class ShortDescriptorWalkPropertyTest {

    @Test
    void shortDescriptorWalkMapsExactlyTheReferencePages() {
        Set<String> seen = new HashSet<>();
        qt().withExamples(300).forAll(longs().all()).checkAssert(seed -> {
            LongDescriptorTrees.Tree tree = ShortDescriptorTrees.generate(seed);
            seen.addAll(tree.classes());
            RecordingSink sink = new RecordingSink();
            try {
                new ArmPageTableWalker().walk(WalkerGuests.guest("arm", tree.memory(), tree.cpu()), tree.cpu(),
                        tree.memory(), sink);
            } catch (IOException e) {
                throw new AssertionError(e);
            }
            assertEquals(tree.expectedPages(), sink.pages(4096), tree.description());
            Set<Long> skippedEntries = new HashSet<>();
            sink.skipped.forEach(s -> skippedEntries.add(s.entry()));
            assertEquals(tree.expectedSkips(), skippedEntries, tree.description() + ": " + sink.skipped);
        });
        assertTrue(seen.containsAll(Set.of("section", "supersection", "small-page", "large-page",
                "leaf-outside-ram", "big-endian", "ttbr1")), "generator classes reached: " + new TreeSet<>(seen));
    }
}
