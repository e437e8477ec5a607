package io.guestdump.arch.riscv64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.longs;

import io.guestdump.testkit.RecordingSink;
import java.io.IOException;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Generated Sv39, Sv48 and Sv57 trees walked through the plugin's walker, against the generator's reference
 * translation of every page and its list of entries to skip. The generator's edge classes are counted and must all
 * be reached.
 */
class SvWalkPropertyTest {

    @Test
    void walkMapsExactlyTheReferencePagesAndSkipsExactlyTheMalformedEntries() {
        Set<String> seen = new HashSet<>();
        qt().withExamples(400).forAll(longs().all()).checkAssert(seed -> {
            SvTrees.Tree tree = SvTrees.generate(seed);
            seen.addAll(tree.classes());
            RecordingSink sink = new RecordingSink();
            Riscv64PageTableWalker walker = new Riscv64PageTableWalker();
            assertTrue(walker.pagingEnabled(tree.cpu()));
            try {
                walker.walk(Riscv64Guests.guest(tree.memory(), java.util.List.of(tree.cpu())), tree.cpu(),
                        tree.memory(), sink);
            } catch (IOException e) {
                throw new AssertionError(e);
            }
            assertEquals(tree.expectedPages(), sink.pages(SvTrees.PAGE), tree.description());
            Set<Long> skippedEntries = new HashSet<>();
            sink.skipped.forEach(s -> skippedEntries.add(s.entry()));
            assertEquals(tree.expectedSkips(), skippedEntries, tree.description() + ": " + sink.skipped);
        });
        assertTrue(seen.containsAll(Set.of("Sv39", "Sv48", "Sv57", "big-endian", "upper-half", "page", "megapage",
                "gigapage", "terapage", "petapage", "napot-64k", "leaf-outside-ram", "clipped-superpage", "loop",
                "table-outside-ram", "invalid", "malformed-w-without-r", "malformed-reserved-bits",
                "malformed-misaligned-superpage", "malformed-pointer-at-level-0", "malformed-napot")),
                "generator classes reached: " + new TreeSet<>(seen));
    }
}
