package io.guestdump.arch.x86_64;

import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.PageTableWalker;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.elf.ElfData;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.PhysRange;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The x86 page-table walker (QEMU {@code target/i386/arch_memory_mapping.c}, reference §3.3). The mode comes from
 * the vCPU's control registers:
 *
 * <pre>
 * CR0.PG  CR4.PAE  EFER.LMA  CR4.LA57   mode      tables (entries × size)                    leaves
 *   0       -        -         -        no paging (the framework maps blocks 1:1)
 *   1       0        -         -        32-bit    PD 1024×4 → PT 1024×4                      4 KiB; 4 MiB with PDE.PS
 *                                                                                              and CR4.PSE (PSE-36)
 *   1       1        0         -        PAE       PDPT 4×8 at CR3 &amp; ~0x1f → PD → PT 512×8  4 KiB, 2 MiB
 *   1       1        1         0        4-level   PML4 → PDPT → PD → PT, 512×8 each           4 KiB, 2 MiB, 1 GiB
 *   1       1        1         1        5-level   PML5 → PML4 → …                             4 KiB, 2 MiB, 1 GiB
 * </pre>
 *
 * Entries without the Present bit are skipped. Tables are read through {@link GuestMemory}; a table pointer that
 * leaves guest memory, or that points back at a table on the path from the root (a loop), is reported as skipped
 * and its subtree is not walked.
 *
 * <p>{@link Fidelity#FIXED} (what the plugins use) differs from QEMU 7.2 in three ways, each a QEMU defect:
 * <ul>
 * <li>leaf addresses keep only bits 51:12 (51:21, 51:30 for large pages): QEMU strips only bit 63 (NX), so a leaf
 *     with software or protection-key bits 52–62 set gets a physical address outside RAM and the page vanishes
 *     from the dump;</li>
 * <li>virtual addresses are canonical (sign-extended from bit 47, or 56 with LA57): QEMU ORs all the high bits
 *     into every address, so user-space pages get non-canonical addresses such as {@code 0xffff0000005e5000};</li>
 * <li>PAE PDPT entries are masked to bits 51:12 like every other table pointer (QEMU: {@code ~0xfff}).</li>
 * </ul>
 * {@link Fidelity#QEMU_7_2} reproduces QEMU's arithmetic, so that tests can show the walk itself equals QEMU's.
 * The A20 mask is not applied: the register sources do not carry the A20 line, and every guest that has paging
 * enabled runs with A20 on.
 */
public final class X86PageTableWalker implements PageTableWalker {
    /** {@code CR0.PG}: paging enabled. */
    public static final long CR0_PG = 1L << 31;
    /** {@code CR4.PSE}: 4 MiB pages in 32-bit paging. */
    public static final long CR4_PSE = 1L << 4;
    /** {@code CR4.PAE}: 64-bit entries. */
    public static final long CR4_PAE = 1L << 5;
    /** {@code CR4.LA57}: 5-level paging. */
    public static final long CR4_LA57 = 1L << 12;
    /** Entry bit 0: present. */
    public static final long PG_PRESENT = 1L;
    /** Entry bit 7 in a PDE/PDPTE: the entry maps a large page. */
    public static final long PG_PSE = 1L << 7;
    /** Bits 51:12 of an entry: a table or page address (QEMU {@code PLM4_ADDR_MASK}). */
    public static final long ADDR_MASK = 0x000f_ffff_ffff_f000L;
    /** Bit 63 of an entry: no-execute. */
    public static final long PG_NX = 1L << 63;

    private static final int PAGE_SHIFT = 12;
    private static final int LONG_ENTRIES = 512;
    private static final int PAE_PDPT_ENTRIES = 4;
    private static final int LEGACY_ENTRIES = 1024;
    private static final int LEVEL_PT = 1;
    private static final int LEVEL_PD = 2;
    private static final int LEVEL_PDPT = 3;
    private static final int LEVEL_PML4 = 4;
    private static final int LEVEL_PML5 = 5;

    /** Whose address arithmetic to use. */
    public enum Fidelity {
        /** Canonical virtual addresses, leaf addresses masked to bits 51:12: correct. */
        FIXED,
        /** QEMU 7.2's arithmetic, defects included (for comparison with QEMU's dumps). */
        QEMU_7_2
    }

    private enum Mode { LEGACY, PAE, LEVEL4, LEVEL5 }

    private final boolean longModeBuild;
    private final Fidelity fidelity;

    /**
     * @param longModeBuild whether the QEMU binary is qemu-system-x86_64 ({@code EFER.LMA} selects 4/5-level
     *                      paging); qemu-system-i386 has no long mode and walks PAE whatever EFER says
     * @param fidelity      correct or QEMU 7.2 arithmetic
     */
    public X86PageTableWalker(boolean longModeBuild, Fidelity fidelity) {
        this.longModeBuild = longModeBuild;
        this.fidelity = fidelity;
    }

    @Override
    public boolean pagingEnabled(VcpuState cpu) {
        return (cpu.u64("cr0") & CR0_PG) != 0;
    }

    @Override
    public void walk(GuestState guest, VcpuState cpu, GuestMemory memory, Sink sink) throws IOException {
        if (!pagingEnabled(cpu)) {
            return;
        }
        long cr3 = cpu.u64("cr3");
        long cr4 = cpu.u64("cr4");
        Mode mode = mode(cpu);
        Walk w = new Walk(mode, memory, sink, (cr4 & CR4_PSE) != 0);
        switch (mode) {
            case LEGACY -> w.legacyDirectory(cr3 & 0xffff_f000L);
            case PAE -> w.table(LEVEL_PDPT, cr3 & ~0x1fL, PAE_PDPT_ENTRIES, 0, -1);
            case LEVEL4 -> w.table(LEVEL_PML4, cr3 & ADDR_MASK, LONG_ENTRIES, 0, -1);
            case LEVEL5 -> w.table(LEVEL_PML5, cr3 & ADDR_MASK, LONG_ENTRIES, 0, -1);
            default -> throw new IllegalStateException("unhandled mode " + mode);
        }
    }

    /** The paging mode of a vCPU with paging enabled, by name, for messages and tests. */
    public String modeName(VcpuState cpu) {
        return switch (mode(cpu)) {
            case LEGACY -> (cpu.u64("cr4") & CR4_PSE) != 0 ? "32-bit with PSE" : "32-bit";
            case PAE -> "PAE";
            case LEVEL4 -> "4-level";
            case LEVEL5 -> "5-level";
        };
    }

    private Mode mode(VcpuState cpu) {
        long cr4 = cpu.u64("cr4");
        if ((cr4 & CR4_PAE) == 0) {
            return Mode.LEGACY;
        }
        if (!longModeBuild || !X86Registers.longModeActive(cpu)) {
            return Mode.PAE;
        }
        return (cr4 & CR4_LA57) != 0 ? Mode.LEVEL5 : Mode.LEVEL4;
    }

    /** The state of one walk: the tables on the path from the root, for loop detection. */
    private final class Walk {
        private final Mode mode;
        private final GuestMemory memory;
        private final Sink sink;
        private final boolean pse;
        private final long[] path = new long[LEVEL_PML5 + 1];
        private int depth;

        Walk(Mode mode, GuestMemory memory, Sink sink, boolean pse) {
            this.mode = mode;
            this.memory = memory;
            this.sink = sink;
            this.pse = pse;
        }

        /** Walks a table of 8-byte entries; {@code from} is the entry that pointed here (-1 for CR3). */
        void table(int level, long address, int entries, long vaBase, long from) throws IOException {
            ByteBuffer t = read(address, entries * 8, from);
            if (t == null) {
                return;
            }
            int shift = PAGE_SHIFT + 9 * (level - 1);
            path[depth++] = address;
            try {
                for (int i = 0; i < entries; i++) {
                    long entry = t.getLong(i * 8);
                    if ((entry & PG_PRESENT) == 0) {
                        continue;
                    }
                    long va = vaBase | ((long) i << shift);
                    boolean largeAllowed = level == LEVEL_PD || (level == LEVEL_PDPT && mode != Mode.PAE);
                    if (level == LEVEL_PT || (largeAllowed && (entry & PG_PSE) != 0)) {
                        leaf(va, entry, shift);
                        continue;
                    }
                    long entryAddress = address + i * 8L;
                    boolean qemuPdpt = fidelity == Fidelity.QEMU_7_2 && mode == Mode.PAE && level == LEVEL_PDPT;
                    long next = qemuPdpt ? entry & ~0xfffL : entry & ADDR_MASK;
                    if (follows(entryAddress, next)) {
                        table(level - 1, next, LONG_ENTRIES, va, entryAddress);
                    }
                }
            } finally {
                depth--;
            }
        }

        private void leaf(long va, long entry, int shift) {
            long size = 1L << shift;
            long phys = fidelity == Fidelity.FIXED ? entry & ADDR_MASK & -size : entry & -size & ~PG_NX;
            sink.map(virtual(va), phys, size);
        }

        /** The reported virtual address of a walked (zero-extended) one. */
        private long virtual(long va) {
            return switch (mode) {
                case LEGACY, PAE -> va;
                case LEVEL4 -> fidelity == Fidelity.FIXED ? va << 16 >> 16 : va | 0xffffL << 48;
                case LEVEL5 -> fidelity == Fidelity.FIXED ? va << 7 >> 7 : va | 0x7fL << 57;
            };
        }

        /** 32-bit paging: the page directory. */
        void legacyDirectory(long address) throws IOException {
            ByteBuffer pd = read(address, LEGACY_ENTRIES * 4, -1);
            if (pd == null) {
                return;
            }
            path[depth++] = address;
            try {
                for (int i = 0; i < LEGACY_ENTRIES; i++) {
                    long pde = Integer.toUnsignedLong(pd.getInt(i * 4));
                    if ((pde & PG_PRESENT) == 0) {
                        continue;
                    }
                    long va = (long) i << 22;
                    if ((pde & PG_PSE) != 0 && pse) {
                        // 4 MiB page; PSE-36: PDE bits 20:13 are physical bits 39:32
                        long phys = (pde & 0xffc0_0000L) | ((pde & 0x1f_e000L) << 19);
                        sink.map(va, phys, 1L << 22);
                        continue;
                    }
                    long entryAddress = address + i * 4L;
                    long next = pde & 0xffff_f000L;
                    if (follows(entryAddress, next)) {
                        legacyTable(next, va, entryAddress);
                    }
                }
            } finally {
                depth--;
            }
        }

        private void legacyTable(long address, long vaBase, long from) throws IOException {
            ByteBuffer pt = read(address, LEGACY_ENTRIES * 4, from);
            if (pt == null) {
                return;
            }
            for (int i = 0; i < LEGACY_ENTRIES; i++) {
                long pte = Integer.toUnsignedLong(pt.getInt(i * 4));
                if ((pte & PG_PRESENT) != 0) {
                    sink.map(vaBase | ((long) i << PAGE_SHIFT), pte & 0xffff_f000L, 1L << PAGE_SHIFT);
                }
            }
        }

        /** Whether the table at {@code next} may be walked; reports the entry as skipped when not. */
        private boolean follows(long entryAddress, long next) {
            for (int d = 0; d < depth; d++) {
                if ((path[d] & ~0xfffL) == (next & ~0xfffL)) {
                    sink.skipped(entryAddress, "points back at the table at " + PhysRange.hex(path[d])
                            + " above it (a loop); its subtree is not walked");
                    return false;
                }
            }
            return true;
        }

        /** The table's bytes, or null (reported) when guest memory does not hold all of it. */
        private ByteBuffer read(long address, int bytes, long from) throws IOException {
            if (!memory.isBacked(address, bytes)) {
                sink.skipped(from < 0 ? address : from, (from < 0 ? "CR3 points at a top-level table at "
                        : "points at a table at ") + PhysRange.hex(address)
                        + " outside guest memory; its subtree is not walked");
                return null;
            }
            ByteBuffer buf = ElfData.LSB.allocate(bytes);
            memory.read(address, buf);
            return buf;
        }
    }
}
