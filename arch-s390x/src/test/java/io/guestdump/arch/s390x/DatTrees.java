package io.guestdump.arch.s390x;

import io.guestdump.arch.api.VcpuState;
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
 * Random DAT trees (any ASCE designation type and length, partial tables through TF/TL, 1 MiB and 2 GiB frames,
 * wrong table types) over 4 MiB of RAM at 0, with the reference translation of every 4 KiB page.
 */
final class DatTrees {
    static final int RAM_BYTES = 4 << 20;
    static final int MAX_TABLES = 12;
    private static final int[] SHIFT = {53, 42, 31, 20, 12};

    /** A generated guest and its expectations. */
    record Tree(GuestMemory memory, VcpuState cpu, TreeMap<Long, Long> expectedPages, Set<Long> expectedSkips,
            Set<String> classes, String description) {}

    private final Random rnd;
    private final byte[] ram = new byte[RAM_BYTES];
    private final ByteBuffer view = ByteBuffer.wrap(ram); // big-endian
    private final TreeMap<Long, Long> expected = new TreeMap<>(Long::compareUnsigned);
    private final Set<Long> skips = new HashSet<>();
    private final Set<String> classes = new HashSet<>();
    private long next;
    private int tables;

    private DatTrees(long seed) {
        rnd = new Random(seed);
    }

    static Tree generate(long seed) {
        DatTrees b = new DatTrees(seed);
        int dt = b.rnd.nextInt(4);
        int tl = b.rnd.nextInt(4);
        int level = 3 - dt;
        long top = b.allocate(16 << 10);
        b.classes.add("dt-" + dt);
        b.fill(top, level, 0, (tl + 1) * 512, 0);
        long asce = top | (long) dt << 2 | tl;
        int as = b.rnd.nextInt(4);
        String cr = as == 2 ? "c7" : as == 3 ? "c13" : "c1";
        VcpuState cpu = VcpuState.builder(0).set(S390xRegisters.PSW_MASK, 0x0400_0000_0000_0000L | (long) as << 46)
                .set("c1", 0xdead_0000L).set("c7", 0xdead_0000L).set("c13", 0xdead_0000L).set(cr, asce).build();
        GuestMemory memory = new GuestMemory(List.of(new GuestBlock(PhysRange.ofLength(0, RAM_BYTES),
                new ByteArrayData(b.ram), "ram")));
        return new Tree(memory, cpu, b.expected, b.skips, b.classes, "ASCE 0x" + Long.toHexString(asce) + " in " + cr);
    }

    /** A table, every entry invalid (Linux's empty tables: _REGION_ENTRY_EMPTY / _SEGMENT_ENTRY_EMPTY / _PAGE_INVALID). */
    private long allocate(int bytes) {
        next = (next + bytes - 1) & -bytes;
        long at = next;
        next += bytes;
        long empty = bytes == 2048 ? 0x400 : 0x20;
        for (int i = 0; i < bytes; i += 8) {
            view.putLong((int) at + i, empty);
        }
        return at;
    }

    private void fill(long table, int level, int first, int last, long virtBase) {
        TreeSet<Integer> chosen = new TreeSet<>();
        int count = 1 + rnd.nextInt(5);
        while (chosen.size() < count) {
            chosen.add(first + rnd.nextInt(last - first));
        }
        if (level < 4 && first > 0) {
            // junk below TF: never read
            put(table, rnd.nextLong() & ~0x20L | 0b11);
            classes.add("partial-table");
        }
        for (int i : chosen) {
            long entry = table + 8L * i;
            long virt = virtBase | (long) i << SHIFT[level];
            int kind = rnd.nextInt(100);
            long tt = 3 - level;
            if (level == 4) {
                if (kind < 75) {
                    long phys = (long) rnd.nextInt(RAM_BYTES / 4096 + 64) * 4096;
                    put(entry, phys | (rnd.nextBoolean() ? 0x200 : 0));
                    expect(entry, virt, phys, 4096);
                    classes.add("page");
                } else {
                    put(entry, 0x400 | rnd.nextInt(1 << 20) << 12);
                }
            } else if (kind < 45 && tables < MAX_TABLES) {
                tables++;
                if (level == 3) {
                    long pt = allocate(2048);
                    put(entry, pt | (rnd.nextBoolean() ? 0x200 : 0));
                    fill(pt, 4, 0, 256, virt);
                } else {
                    long t = allocate(16 << 10);
                    int tf = rnd.nextInt(4);
                    int tl = tf + rnd.nextInt(4 - tf);
                    put(entry, t | (long) tf << 6 | tt << 2 | tl);
                    fill(t, level + 1, tf * 512, (tl + 1) * 512, virt);
                }
            } else if (kind < 70 && level >= 2) {
                long size = 1L << SHIFT[level];
                long phys = level == 2 ? (rnd.nextBoolean() ? 0 : size) : rnd.nextInt(6) * size;
                put(entry, phys | 0x400 | tt << 2);
                expect(entry, virt, phys, size);
                classes.add(level == 2 ? "2g-frame" : "1m-frame");
            } else if (kind < 80) {
                put(entry, 0x1000 | ((tt + 1) & 3) << 2);
                skips.add(entry);
                classes.add("wrong-table-type");
            } else {
                put(entry, rnd.nextLong() | 0x20);
            }
        }
    }

    private void put(long entry, long value) {
        view.putLong((int) entry, value);
    }

    private void expect(long entry, long virt, long phys, long size) {
        long to = Math.min(phys + size, RAM_BYTES);
        if (phys >= to) {
            skips.add(entry);
            classes.add("leaf-outside-ram");
            return;
        }
        if (to - phys < size) {
            classes.add("clipped-frame");
        }
        for (long p = phys; p < to; p += 4096) {
            expected.put(virt + (p - phys), p);
        }
    }
}
