package io.guestdump.testkit;

import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.PhysRange;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;
import org.quicktheories.generators.SourceDSL;

/**
 * QuickTheories generators of guests and filters that reach the edges: adjacent blocks, unaligned blocks, blocks
 * touching or crossing 4 GiB, filters that miss everything, cover everything, or cut blocks.
 */
public final class MemoryGenerators {
    /** 4 GiB. */
    public static final long FOUR_GIB = 1L << 32;

    private MemoryGenerators() {}

    /** Where a guest's first block starts: 0, just below 4 GiB, at 4 GiB, or anywhere low. */
    public static Gen<Long> bases() {
        return Generate.oneOf(Generate.constant(0L), Generate.longRange(FOUR_GIB - 0x10000, FOUR_GIB - 1),
                Generate.constant(FOUR_GIB), Generate.longRange(0, 0x4000_0000L));
    }

    /** Gaps between blocks: none (adjacent), small, page-sized, or a jump of gigabytes. */
    public static Gen<Long> gaps() {
        return Generate.oneOf(Generate.constant(0L), Generate.longRange(1, 4096), Generate.constant(0x1000L),
                Generate.longRange(1L << 30, 3L << 30));
    }

    /** Block sizes: 1 byte up to 40 KiB, unaligned included. */
    public static Gen<Long> sizes() {
        return Generate.oneOf(Generate.longRange(1, 64), Generate.longRange(1, 40_000), Generate.constant(4096L));
    }

    /** Ascending, disjoint block ranges: 1 to {@code max} blocks. */
    public static Gen<List<PhysRange>> layouts(int max) {
        Gen<List<Long>> gapList = SourceDSL.lists().of(gaps()).ofSizeBetween(max, max);
        Gen<List<Long>> sizeList = SourceDSL.lists().of(sizes()).ofSizeBetween(1, max);
        return bases().zip(gapList, sizeList, (base, gs, ss) -> {
            List<PhysRange> out = new ArrayList<>();
            long at = base;
            for (int i = 0; i < ss.size(); i++) {
                if (i > 0) {
                    at += gs.get(i);
                }
                out.add(PhysRange.ofLength(at, ss.get(i)));
                at += ss.get(i);
            }
            return out;
        });
    }

    /** Blocks backed by {@link PatternData}. */
    public static List<GuestBlock> blocks(List<PhysRange> layout) {
        List<GuestBlock> out = new ArrayList<>();
        for (int i = 0; i < layout.size(); i++) {
            PhysRange r = layout.get(i);
            out.add(new GuestBlock(r, new PatternData(r.start(), r.length()), "block" + i));
        }
        return out;
    }

    /**
     * Filter windows relative to a layout: none, the whole guest, one that cuts into blocks, one that misses
     * everything (in a gap or past the end), or a single byte.
     */
    public static Gen<Optional<PhysRange>> windows(List<PhysRange> layout) {
        long lo = layout.get(0).start();
        long hi = layout.get(layout.size() - 1).end();
        Gen<Optional<PhysRange>> none = Generate.constant(Optional.empty());
        Gen<Optional<PhysRange>> whole = Generate.constant(Optional.of(new PhysRange(lo, hi)));
        Gen<Optional<PhysRange>> cut = Generate.longRange(lo, hi - 1).zip(Generate.longRange(1, 50_000),
                (b, l) -> Optional.of(PhysRange.ofLength(b, Math.min(l, -1L - b))));
        Gen<Optional<PhysRange>> past = Generate.longRange(1, 1000)
                .map(l -> Optional.of(PhysRange.ofLength(hi, l)));
        Gen<Optional<PhysRange>> oneByte = Generate.longRange(lo, hi - 1)
                .map(b -> Optional.of(PhysRange.ofLength(b, 1)));
        return Generate.oneOf(none, whole, cut, past, oneByte);
    }
}
