package io.guestdump.arch.riscv64;

import io.guestdump.arch.api.VcpuState;
import io.guestdump.memory.GuestMemory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Random Sv39, Sv48 and Sv57 page tables over a small RAM block, each with its reference translation: every mapped
 * 4 KiB page, computed from the generator's own choices (not by walking). Entries may be invalid, malformed (the
 * hardware would fault: expected as skipped), point outside RAM or back up the path (expected as skipped); leaves
 * carry random attribute bits the walker must ignore; superpages are clipped to RAM.
 */
final class SvTrees {
    static final long RAM_BASE = 0x8000_0000L;
    static final int RAM_PAGES = 24;
    static final int MAX_TABLES = 12;
    static final long PAGE = 4096;

    /** A generated guest: memory, the vCPU whose satp points at the tree, and the expectations. */
    record Tree(GuestMemory memory, VcpuState cpu, TreeMap<Long, Long> expectedPages, Set<Long> expectedSkips,
            Set<String> classes, String description) {}

    private final Random rnd;
    private final int levels;
    private final byte[] ram = new byte[RAM_PAGES * (int) PAGE];
    private final ByteBuffer view;
    private final TreeMap<Long, Long> expected = new TreeMap<>(Long::compareUnsigned);
    private final Set<Long> skips = new HashSet<>();
    private final Set<String> classes = new HashSet<>();
    private final List<Long> path = new ArrayList<>();
    private int nextPage;

    private SvTrees(long seed, int levels, boolean bigEndian) {
        this.rnd = new Random(seed);
        this.levels = levels;
        this.view = ByteBuffer.wrap(ram).order(bigEndian ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
    }

    /** A tree of 3, 4 or 5 levels, sometimes big-endian (mstatus.SBE). */
    static Tree generate(long seed) {
        Random pick = new Random(seed ^ 0x5DEECE66DL);
        int levels = 3 + pick.nextInt(3);
        boolean be = pick.nextInt(5) == 0;
        SvTrees t = new SvTrees(seed, levels, be);
        t.classes.add("Sv" + (12 + 9 * levels));
        if (be) {
            t.classes.add("big-endian");
        }
        long root = t.allocate();
        t.fill(root, levels - 1, 0);
        int mode = levels + 5; // 8, 9, 10
        long satp = (long) mode << 60 | (long) t.rnd.nextInt(0xffff) << 44 | root >>> 12;
        VcpuState cpu = VcpuState.builder(0).set("pc", 0).set("satp", satp)
                .set("mstatus", be ? Riscv64Registers.MSTATUS_SBE : 0).build();
        return new Tree(Riscv64Guests.ram(RAM_BASE, t.ram), cpu, t.expected, t.skips, t.classes,
                "Sv" + (12 + 9 * levels) + (be ? " big-endian" : "") + " seed " + seed);
    }

    private long allocate() {
        return RAM_BASE + (long) nextPage++ * PAGE;
    }

    private static int shift(int level) {
        return 12 + 9 * level;
    }

    private void fill(long table, int level, long prefix) {
        path.add(table);
        TreeSet<Integer> chosen = new TreeSet<>();
        int count = 1 + rnd.nextInt(5);
        while (chosen.size() < count) {
            chosen.add(rnd.nextInt(512));
        }
        for (int i : chosen) {
            long entry = table + 8L * i;
            long offset = prefix | (long) i << shift(level);
            int vaBits = shift(levels);
            long va = offset << (64 - vaBits) >> (64 - vaBits);
            if (level == levels - 1 && i >= 256) {
                classes.add("upper-half");
            }
            int kind = rnd.nextInt(100);
            long pte;
            if (kind < 40 && level > 0 && nextPage < MAX_TABLES) {
                long next = allocate();
                pte = next >>> 12 << 10 | SvWalk.PTE_V | (long) rnd.nextInt(4) << 8; // RSW bits are free
                fill(next, level - 1, offset);
            } else if (kind < 70) {
                pte = leaf(entry, va, level);
            } else if (kind < 78) {
                pte = malformed(level);
                skips.add(entry);
            } else if (kind < 82 && level > 0) {
                pte = path.get(rnd.nextInt(path.size())) >>> 12 << 10 | SvWalk.PTE_V;
                skips.add(entry);
                classes.add("loop");
            } else if (kind < 86 && level > 0) {
                pte = (RAM_BASE + 0x1000_0000L) >>> 12 << 10 | SvWalk.PTE_V;
                skips.add(entry);
                classes.add("table-outside-ram");
            } else {
                pte = rnd.nextLong() & ~SvWalk.PTE_V; // not valid: whatever else is set means nothing
                classes.add("invalid");
            }
            view.putLong((int) (entry - RAM_BASE), pte);
        }
        path.remove(path.size() - 1);
    }

    /** A well-formed leaf (sometimes a NAPOT piece at level 0); records the reference translation. */
    private long leaf(long entry, long va, int level) {
        long size = 1L << shift(level);
        long attrs = randomAttributes();
        if (level == 0 && rnd.nextInt(6) == 0) {
            // one 4 KiB piece of a 64 KiB NAPOT range: PPN[3:0] = 1000, the low bits come from the VA
            long base = RAM_BASE + (long) rnd.nextInt(2) * 0x1_0000L;
            long ppn = base >>> 12 | 0b1000;
            long phys = base | (va & 0xf000L);
            expect(entry, va, phys, PAGE);
            classes.add("napot-64k");
            return ppn << 10 | attrs | SvWalk.PTE_N;
        }
        long phys;
        if (size > ram.length) {
            phys = rnd.nextInt(4) == 0 ? (RAM_BASE & -size) + size : RAM_BASE & -size;
        } else {
            phys = RAM_BASE + (long) rnd.nextInt(RAM_PAGES + 4) * size;
        }
        classes.add(switch (level) {
            case 0 -> "page";
            case 1 -> "megapage";
            case 2 -> "gigapage";
            case 3 -> "terapage";
            default -> "petapage";
        });
        expect(entry, va, phys, size);
        return phys >>> 12 << 10 | attrs;
    }

    /** R/W/X combinations that are leaves (W only with R), plus random A, D, G, U, RSW and PBMT bits. */
    private long randomAttributes() {
        long rwx = switch (rnd.nextInt(5)) {
            case 0 -> SvWalk.PTE_R;
            case 1 -> SvWalk.PTE_R | SvWalk.PTE_W;
            case 2 -> SvWalk.PTE_X;
            case 3 -> SvWalk.PTE_R | SvWalk.PTE_X;
            default -> SvWalk.PTE_R | SvWalk.PTE_W | SvWalk.PTE_X;
        };
        return SvWalk.PTE_V | rwx | (long) rnd.nextInt(64) << 4 | (long) rnd.nextInt(3) << 61;
    }

    private void expect(long entry, long va, long phys, long size) {
        boolean any = false;
        for (long p = RAM_BASE; p < RAM_BASE + ram.length; p += PAGE) {
            if (Long.compareUnsigned(p - phys, size) < 0) {
                expected.put(va + (p - phys), p);
                any = true;
            }
        }
        if (!any) {
            skips.add(entry);
            classes.add("leaf-outside-ram");
        } else if (size > PAGE && (phys < RAM_BASE || phys + size > RAM_BASE + ram.length)) {
            classes.add("clipped-superpage");
        }
    }

    /** A valid PTE the hardware faults on. */
    private long malformed(int level) {
        long ram = RAM_BASE >>> 12 << 10;
        int choice = rnd.nextInt(5);
        if (choice == 0) {
            classes.add("malformed-w-without-r");
            return ram | SvWalk.PTE_V | SvWalk.PTE_W;
        } else if (choice == 1) {
            classes.add("malformed-reserved-bits");
            return ram | randomAttributes() | (1L + rnd.nextInt(0x7f)) << 54;
        } else if (choice == 2 && level > 0) {
            classes.add("malformed-misaligned-superpage");
            return ram | 1L << 10 | randomAttributes();
        } else if (choice == 3 && level == 0) {
            classes.add("malformed-pointer-at-level-0");
            return ram | SvWalk.PTE_V;
        } else {
            classes.add("malformed-napot");
            // N on a superpage, or PPN[3:0] other than 1000
            return level > 0 ? ram | randomAttributes() | SvWalk.PTE_N
                    : ram | 0b0100L << 10 | randomAttributes() | SvWalk.PTE_N;
        }
    }
}
