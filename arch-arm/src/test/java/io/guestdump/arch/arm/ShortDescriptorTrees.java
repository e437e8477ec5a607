package io.guestdump.arch.arm;

import io.guestdump.arch.api.VcpuState;
import io.guestdump.memory.ByteArrayData;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.PhysRange;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Random ARMv7 short-descriptor trees (sections, supersections, small and large pages, TTBCR.N = 0..2) over a
 * 2 MiB RAM block, with the reference translation of every 4 KiB page.
 */
final class ShortDescriptorTrees {
    static final long RAM_BASE = 0x4000_0000L;
    static final int RAM_BYTES = 2 << 20;
    private static final long MIB = 1L << 20;

    private final Random rnd;
    private final byte[] ram = new byte[RAM_BYTES];
    private final ByteBuffer view;
    private final TreeMap<Long, Long> expected = new TreeMap<>(Long::compareUnsigned);
    private final Set<Long> skips = new HashSet<>();
    private final Set<String> classes = new HashSet<>();
    /** Second-level tables (1 KiB each) come from the RAM's second MiB. */
    private long nextL2 = RAM_BASE + MIB;

    private ShortDescriptorTrees(long seed, boolean bigEndian) {
        rnd = new Random(seed);
        view = ByteBuffer.wrap(ram).order(bigEndian ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
        if (bigEndian) {
            classes.add("big-endian");
        }
    }

    static LongDescriptorTrees.Tree generate(long seed) {
        Random pick = new Random(seed ^ 0x5DEECE66DL);
        int n = pick.nextInt(3);
        boolean be = pick.nextInt(4) == 0;
        ShortDescriptorTrees b = new ShortDescriptorTrees(seed, be);
        int split = 4096 >> n;
        long ttbr0 = RAM_BASE;
        long ttbr1 = RAM_BASE + 0x4000;
        b.fill(ttbr0, 0, split);
        VcpuState.Builder cpu = VcpuState.builder(0).set("r15", 0).set("cpsr", 0x13)
                .set("sctlr", 1L | (be ? 1L << 25 : 0)).set("ttbcr", n).set("ttbr0", ttbr0 | 0x5a);
        if (n != 0) {
            b.classes.add("ttbr1");
            b.fill(ttbr1, split, 4096);
            cpu.set("ttbr1", ttbr1);
        }
        GuestMemory memory = new GuestMemory(List.of(new GuestBlock(PhysRange.ofLength(RAM_BASE, RAM_BYTES),
                new ByteArrayData(b.ram), "ram")));
        return new LongDescriptorTrees.Tree(memory, cpu.build(), 4096, b.expected, b.skips, b.classes,
                "short descriptors N=" + n + (be ? " big-endian" : ""));
    }

    private void fill(long table, int first, int last) {
        TreeSet<Integer> chosen = new TreeSet<>();
        int count = 1 + rnd.nextInt(6);
        while (chosen.size() < count) {
            chosen.add(first + rnd.nextInt(last - first));
        }
        int coveredUpTo = first;
        for (int i : chosen) {
            if (i < coveredUpTo) {
                continue;
            }
            long entry = table + 4L * i;
            long va = (long) i * MIB;
            int kind = rnd.nextInt(100);
            if (kind < 30) {
                long phys = RAM_BASE + (long) rnd.nextInt(4) * MIB; // the last two miss RAM
                put(entry, phys | 0b10 | (long) rnd.nextInt(1 << 10) << 2); // attributes in bits [11:2]
                expect(entry, va, phys, MIB);
                classes.add("section");
            } else if (kind < 45 && (i & 15) == 0 && i + 16 <= last) {
                long superBase = RAM_BASE & 0xff00_0000L;
                for (int k = 0; k < 16; k++) {
                    long e = table + 4L * (i + k);
                    put(e, superBase | SUPER | 0b10);
                    expect(e, va + k * MIB, superBase + k * MIB, MIB);
                }
                coveredUpTo = i + 16;
                classes.add("supersection");
            } else if (kind < 85 && nextL2 + 1024 <= RAM_BASE + RAM_BYTES) {
                long l2 = nextL2;
                nextL2 += 1024;
                put(entry, l2 | 0b01 | (long) rnd.nextInt(16) << 5);
                secondLevel(l2, va);
            } else {
                put(entry, rnd.nextInt() & ~0x3L & 0xffff_ffffL);
            }
        }
    }

    private static final long SUPER = 1L << 18;

    private void secondLevel(long l2, long vaBase) {
        int coveredUpTo = 0;
        for (int j = rnd.nextInt(8); j < 256; j += 1 + rnd.nextInt(40)) {
            if (j < coveredUpTo) {
                continue;
            }
            long va = vaBase + j * 4096L;
            long entry = l2 + 4L * j;
            if (rnd.nextInt(4) == 0 && (j & 15) == 0 && j + 16 <= 256) {
                long largeBase = RAM_BASE + (long) rnd.nextInt(40) * 0x10000; // 32 in RAM, 8 beyond
                for (int k = 0; k < 16; k++) {
                    put(l2 + 4L * (j + k), largeBase | 0b01 | (long) rnd.nextInt(1 << 10) << 2 & 0x0ffcL);
                    expect(l2 + 4L * (j + k), va + k * 4096L, largeBase + k * 4096L, 4096);
                }
                coveredUpTo = j + 16;
                classes.add("large-page");
            } else {
                long phys = RAM_BASE + (long) rnd.nextInt(RAM_BYTES / 4096 + 16) * 4096;
                put(entry, phys | 0b10 | rnd.nextInt(2) | (long) rnd.nextInt(1 << 10) << 2);
                expect(entry, va, phys, 4096);
                classes.add("small-page");
            }
        }
    }

    private void put(long entry, long value) {
        view.putInt((int) (entry - RAM_BASE), (int) value);
    }

    private void expect(long entry, long va, long phys, long size) {
        long from = Math.max(phys, RAM_BASE);
        long to = Math.min(phys + size, RAM_BASE + RAM_BYTES);
        if (from >= to) {
            skips.add(entry);
            classes.add("leaf-outside-ram");
            return;
        }
        for (long p = from; p < to; p += 4096) {
            expected.put(va + (p - phys), p);
        }
    }
}
