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
 * Random long-descriptor translation trees (AArch64 and LPAE) over a small RAM block, each with its reference
 * translation: every mapped page of granule size, built from the generator's own choices (not from the walker).
 * Leaves may point outside RAM (expected as skipped), blocks are clipped to RAM, and entries carry random
 * attribute bits the walker must ignore.
 */
final class LongDescriptorTrees {
    static final long RAM_BASE = 0x4000_0000L;
    static final int RAM_PAGES = 24;
    static final int MAX_TABLES = 12;

    /** A generated guest: memory, the vCPU registers that point at the tree, and the expectations. */
    record Tree(GuestMemory memory, VcpuState cpu, long pageSize, TreeMap<Long, Long> expectedPages,
            Set<Long> expectedSkips, Set<String> classes, String description) {}

    private final Random rnd;
    private final int g;
    private final ByteOrder order;
    private final byte[] ram;
    private final ByteBuffer view;
    private final TreeMap<Long, Long> expected = new TreeMap<>(Long::compareUnsigned);
    private final Set<Long> skips = new HashSet<>();
    private final Set<String> classes = new HashSet<>();
    private final boolean lpae;
    private int nextPage;

    private LongDescriptorTrees(long seed, int granuleShift, boolean bigEndian, boolean lpae) {
        this.rnd = new Random(seed);
        this.g = granuleShift;
        this.order = bigEndian ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        this.ram = new byte[RAM_PAGES << granuleShift];
        this.view = ByteBuffer.wrap(ram).order(order);
        this.lpae = lpae;
        classes.add("granule-" + (1 << g >> 10) + "K");
        if (bigEndian) {
            classes.add("big-endian");
        }
    }

    /** An AArch64 guest with one or both halves, any granule, 36 to 48-bit halves. */
    static Tree aarch64(long seed) {
        Random pick = new Random(seed ^ 0x5DEECE66DL);
        int[] granules = {12, 14, 16};
        int g = granules[pick.nextInt(3)];
        int[] sizes = {36, 39, 42, 47, 48};
        int bits0 = sizes[pick.nextInt(sizes.length)];
        int bits1 = sizes[pick.nextInt(sizes.length)];
        int halves = 1 + pick.nextInt(3); // 1 = TTBR0, 2 = TTBR1, 3 = both
        boolean be = pick.nextInt(4) == 0;
        LongDescriptorTrees b = new LongDescriptorTrees(seed, g, be, false);
        long tcr = (64 - bits0) | (long) (64 - bits1) << 16;
        tcr |= (long) (g == 12 ? 0 : g == 16 ? 1 : 2) << 14;
        tcr |= (long) (g == 14 ? 1 : g == 12 ? 2 : 3) << 30;
        VcpuState.Builder cpu = VcpuState.builder(0).set("pc", 0).set("sctlr_el1", 1L | (be ? 1L << 25 : 0));
        if ((halves & 1) != 0) {
            long top = b.allocate();
            b.fill(top, b.startLevel(bits0), bits0, 0, 0, 0);
            cpu.set("ttbr0_el1", top | 0x0001_0000_0000_0000L * b.rnd.nextInt(0xffff)); // with an ASID
        } else {
            tcr |= Aarch64PageTableWalker.TCR_EPD0;
            cpu.set("ttbr0_el1", 0xdead_0000L);
        }
        if ((halves & 2) != 0) {
            long top = b.allocate();
            b.fill(top, b.startLevel(bits1), bits1, -(1L << bits1), 0, 0);
            cpu.set("ttbr1_el1", top);
        } else {
            tcr |= Aarch64PageTableWalker.TCR_EPD1;
            cpu.set("ttbr1_el1", 0xdead_0000L);
        }
        if (halves == 3) {
            b.classes.add("both-halves");
        }
        cpu.set("tcr_el1", tcr);
        return b.tree(cpu.build(), "aarch64 granule " + (1 << g) + " halves " + halves + " bits " + bits0 + "/"
                + bits1 + (be ? " big-endian" : ""));
    }

    /** A 32-bit LPAE guest: TTBR0 over all 4 GiB, or the Linux 3G/1G split (T1SZ = 2). */
    static Tree lpae(long seed) {
        Random pick = new Random(seed ^ 0x5DEECE66DL);
        boolean split = pick.nextBoolean();
        boolean be = pick.nextInt(4) == 0;
        LongDescriptorTrees b = new LongDescriptorTrees(seed, 12, be, true);
        VcpuState.Builder cpu = VcpuState.builder(0).set("r15", 0).set("cpsr", 0x13)
                .set("sctlr", 1L | (be ? 1L << 25 : 0));
        long top0 = b.allocate();
        b.fill(top0, 1, 32, 0, split ? 0xc000_0000L : 0, 0);
        cpu.set("ttbr0", top0 | 0x00ab_0000_0000_0000L);
        long ttbcr = Arm32PageTableWalker.TTBCR_EAE;
        if (split) {
            b.classes.add("lpae-split");
            long top1 = b.allocate();
            b.fill(top1, 2, 30, 0xc000_0000L, 0, 0);
            cpu.set("ttbr1", top1);
            ttbcr |= 2L << 16;
        }
        cpu.set("ttbcr", ttbcr);
        return b.tree(cpu.build(), "lpae" + (split ? " 3G/1G" : " flat") + (be ? " big-endian" : ""));
    }

    private Tree tree(VcpuState cpu, String description) {
        GuestMemory memory = new GuestMemory(List.of(new GuestBlock(PhysRange.ofLength(RAM_BASE, ram.length),
                new ByteArrayData(ram), "ram")));
        return new Tree(memory, cpu, 1L << g, expected, skips, classes, description);
    }

    private int stride() {
        return g - 3;
    }

    private int startLevel(int bits) {
        return 4 - (bits - g + stride() - 1) / stride();
    }

    private int shift(int level) {
        return g + (3 - level) * stride();
    }

    private long allocate() {
        return RAM_BASE + ((long) nextPage++ << g);
    }

    private boolean blockAllowed(int level) {
        return g == 12 ? level == 1 || level == 2 : level == 2;
    }

    /**
     * Fills a table with a few entries.
     *
     * @param limit for LPAE's TTBR0 under a split: input offsets from here on belong to TTBR1 (0 = none)
     */
    private void fill(long table, int level, int bits, long vaBase, long limit, long offset) {
        int entries = level == startLevel(bits) ? 1 << (bits - shift(level)) : 1 << stride();
        TreeSet<Integer> chosen = new TreeSet<>();
        int count = 1 + rnd.nextInt(Math.min(entries, 5));
        while (chosen.size() < count) {
            chosen.add(rnd.nextInt(entries));
        }
        for (int i : chosen) {
            long entry = table + 8L * i;
            long inputOffset = offset + ((long) i << shift(level));
            boolean ignored = limit != 0 && inputOffset >= limit;
            long va = vaBase + inputOffset;
            int kind = rnd.nextInt(100);
            long d;
            if (level == 3) {
                if (kind < 70) {
                    d = leaf(entry, va, 1L << g, ignored) | 0b11;
                    classes.add("page");
                } else if (kind < 80) {
                    d = leafBits(RAM_BASE) | 0b01; // reserved at level 3: invalid
                } else {
                    d = rnd.nextLong() & ~1L;
                }
            } else if (kind < 45 && nextPage < MAX_TABLES) {
                long next = allocate();
                d = next | 0b11 | (long) rnd.nextInt(32) << 59;
                if (!ignored) {
                    fill(next, level + 1, bits, vaBase, limit, inputOffset);
                } else {
                    classes.add("beyond-ttbr0-limit");
                }
            } else if (kind < 80 && blockAllowed(level)) {
                d = leaf(entry, va, 1L << shift(level), ignored) | 0b01;
                classes.add("block-level-" + level);
            } else {
                d = rnd.nextLong() & ~1L;
            }
            view.putLong((int) (entry - RAM_BASE), d);
        }
    }

    /** A leaf to a random place (sometimes beyond RAM); records the reference translation. */
    private long leaf(long entry, long va, long size, boolean ignored) {
        long phys;
        if (size > (long) ram.length) {
            phys = rnd.nextInt(4) == 0 ? RAM_BASE + size : RAM_BASE & ~(size - 1);
        } else {
            phys = RAM_BASE + (long) rnd.nextInt(RAM_PAGES + 4) * size;
        }
        if (!ignored) {
            long from = Math.max(phys, RAM_BASE);
            long to = Math.min(phys + size, RAM_BASE + ram.length);
            if (from >= to) {
                skips.add(entry);
                classes.add("leaf-outside-ram");
            } else {
                if (to - from < size) {
                    classes.add("clipped-block");
                }
                for (long p = from; p < to; p += 1L << g) {
                    expected.put(va + (p - phys), p);
                }
            }
        }
        return leafBits(phys);
    }

    /** Output address plus random attributes in bits [11:2] and [63:52]. */
    private long leafBits(long phys) {
        long attrs = (long) rnd.nextInt(1 << 10) << 2 | (long) rnd.nextInt(1 << 12) << 52;
        return phys | attrs;
    }
}
