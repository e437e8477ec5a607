package io.guestdump.arch.ppc64;

import io.guestdump.memory.ByteArrayData;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.PhysRange;
import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Random radix trees (any next-level sizes, leaves at every level, leaves beyond RAM) over 4 MiB of RAM at 0, reached
 * through a partition table and process table as PTCR points to them, with the reference translation of every
 * 4 KiB page of quadrant 3.
 */
final class RadixTrees {
    static final int RAM_BYTES = 4 << 20;
    static final long Q3 = 0xc000_0000_0000_0000L;
    private static final long VALID = 1L << 63;
    private static final long LEAF = 1L << 62;

    /** A generated guest and its expectations. */
    record Tree(GuestMemory memory, long ptcr, long root, int rootNls, int bits, TreeMap<Long, Long> expectedPages,
            Set<Long> expectedSkips, Set<String> classes) {}

    private final Random rnd;
    private final byte[] ram = new byte[RAM_BYTES];
    private final ByteBuffer view = ByteBuffer.wrap(ram);
    private final TreeMap<Long, Long> expected = new TreeMap<>(Long::compareUnsigned);
    private final Set<Long> skips = new HashSet<>();
    private final Set<String> classes = new HashSet<>();
    private long next;
    private int tables;

    private RadixTrees(long seed) {
        rnd = new Random(seed);
    }

    static Tree generate(long seed) {
        RadixTrees b = new RadixTrees(seed);
        int bits = 40 + b.rnd.nextInt(13);
        int rootNls = 5 + b.rnd.nextInt(9);
        long partitionTable = b.allocate(4096);
        long processTable = b.allocate(4096);
        long root = b.allocate(8 << rootNls);
        b.fill(root, rootNls, bits, 0);
        int rts = bits - 31;
        b.view.putLong((int) partitionTable + 8, processTable | 4); // PRTB, PRTS
        b.view.putLong((int) processTable, (long) (rts >> 3) << 61 | root | (long) (rts & 7) << 5 | rootNls);
        GuestMemory memory = new GuestMemory(List.of(new GuestBlock(PhysRange.ofLength(0, RAM_BYTES),
                new ByteArrayData(b.ram), "ram")));
        return new Tree(memory, partitionTable | 0x1, root, rootNls, bits, b.expected, b.skips, b.classes);
    }

    private long allocate(int bytes) {
        next = (next + bytes - 1) & -bytes;
        long at = next;
        next += bytes;
        return at;
    }

    private void fill(long table, int nls, int bits, long offset) {
        int shift = bits - nls;
        TreeSet<Integer> chosen = new TreeSet<>();
        int count = 1 + rnd.nextInt(Math.min(1 << nls, 5));
        while (chosen.size() < count) {
            chosen.add(rnd.nextInt(1 << nls));
        }
        for (int i : chosen) {
            long entry = table + 8L * i;
            long at = offset | (long) i << shift;
            int kind = rnd.nextInt(100);
            int maxNls = Math.min(shift - 12, 13);
            if (kind < 45 && maxNls >= 5 && tables < 10) {
                tables++;
                int nextNls = 5 + rnd.nextInt(maxNls - 4);
                long t = allocate(8 << nextNls);
                view.putLong((int) entry, VALID | t | nextNls);
                fill(t, nextNls, shift, at);
            } else if (kind < 85) {
                long size = 1L << shift;
                long phys = size >= RAM_BYTES ? (rnd.nextInt(3) == 0 ? size : 0)
                        : (long) rnd.nextInt((int) (RAM_BYTES / size) + 4) * size;
                view.putLong((int) entry, VALID | LEAF | phys | rnd.nextInt(1 << 9) | (long) rnd.nextInt(4) << 57);
                expect(entry, Q3 | at, phys, size);
                classes.add(shift == 12 ? "4k-leaf" : "large-leaf");
            } else {
                view.putLong((int) entry, rnd.nextLong() & ~VALID);
            }
        }
    }

    private void expect(long entry, long virt, long phys, long size) {
        long to = Math.min(phys + size, RAM_BYTES);
        if (phys >= to) {
            skips.add(entry);
            classes.add("leaf-outside-ram");
            return;
        }
        if (to - phys < size) {
            classes.add("clipped-leaf");
        }
        for (long p = phys; p < to; p += 4096) {
            expected.put(virt + (p - phys), p);
        }
    }
}
