package io.guestdump.core;

import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.PhysRange;
import io.guestdump.memory.RangeFilter;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * QEMU's begin/length checks, plus ours: both or neither, length above 0, begin + length within 64 bits, and a
 * window that holds some guest memory.
 */
public final class DumpFilter {
    private DumpFilter() {}

    /** The window, or empty for the whole guest. */
    public static Optional<PhysRange> window(Optional<Long> begin, Optional<Long> length) {
        if (begin.isPresent() != length.isPresent()) {
            throw new InvalidInputException(begin.isPresent()
                    ? "--begin " + hex(begin.get()) + " needs --length: give both or neither"
                    : "--length " + hex(length.get()) + " needs --begin: give both or neither");
        }
        if (begin.isEmpty()) {
            return Optional.empty();
        }
        long b = begin.get();
        long l = length.get();
        if (l == 0) {
            throw new InvalidInputException("--length 0 dumps nothing; give the number of bytes to dump");
        }
        long end = b + l;
        if (Long.compareUnsigned(end, b) < 0 || end == 0) {
            throw new InvalidInputException("--begin " + hex(b) + " + --length " + hex(l)
                    + " overflows 64 bits; shorten the length");
        }
        return Optional.of(new PhysRange(b, end));
    }

    /** The blocks inside the window; throws when nothing is left. */
    public static List<GuestBlock> apply(List<GuestBlock> blocks, Optional<PhysRange> window) {
        if (window.isEmpty()) {
            if (blocks.isEmpty()) {
                throw new InvalidInputException("no guest memory to dump: the guest has no memory block");
            }
            return blocks;
        }
        List<GuestBlock> kept = RangeFilter.apply(blocks, window.get());
        if (kept.isEmpty()) {
            throw new InvalidInputException("no guest memory to dump: the filter " + window.get()
                    + " holds no guest memory; the guest's blocks are " + blocks.stream()
                            .map(b -> b.range().toString()).collect(Collectors.joining(", ")));
        }
        return kept;
    }

    private static String hex(long v) {
        return PhysRange.hex(v);
    }
}
