package io.guestdump.arch.x86_64;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.PageTableWalker;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.arch.x86_64.X86PageTableWalker.Fidelity;
import io.guestdump.memory.ByteArrayData;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.PhysRange;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Hand-built tables, one per mode, each showing where our arithmetic and QEMU 7.2's part. */
class X86PageTableWalkerTest {
    static final long P = 1;
    static final long PS = 0x80;

    final ByteBuffer ram = ByteBuffer.allocate(0x20000).order(ByteOrder.LITTLE_ENDIAN);
    final GuestMemory memory = new GuestMemory(List.of(
            new GuestBlock(PhysRange.ofLength(0, 0x20000), new ByteArrayData(ram.array()), "ram")));

    List<String> walk(Fidelity f, long cr3, long cr4, long efer) throws Exception {
        VcpuState cpu = VcpuState.builder(0).set("cr0", 0x80000011L).set("cr3", cr3).set("cr4", cr4)
                .set("efer", efer).build();
        List<String> out = new ArrayList<>();
        new X86PageTableWalker(true, f).walk(new GuestState("x86_64", memory, List.of(cpu), Map.of(),
                Optional.empty()), cpu, memory, new PageTableWalker.Sink() {
                    @Override
                    public void map(long virt, long phys, long length) {
                        out.add(String.format("%#x->%#x/%#x", virt, phys, length));
                    }

                    @Override
                    public void skipped(long entry, String reason) {
                        out.add(String.format("skip %#x: %s", entry, reason));
                    }
                });
        return out;
    }

    @Test
    void fourLevelUserPagesAreCanonicalAndSoftwareBitsDoNotMoveTheLeaf() throws Exception {
        ram.putLong(0x1000, 0x2000 | P); // PML4[0] → PDPT
        ram.putLong(0x1000 + 511 * 8, 0x2000 | P); // PML4[511] → the same PDPT (shared, not a loop)
        ram.putLong(0x2000, 0x3000 | P); // PDPT[0] → PD
        ram.putLong(0x3000, 0x4000 | P); // PD[0] → PT
        ram.putLong(0x4000, 0x5000 | P | 1L << 63); // NX page
        ram.putLong(0x4000 + 8, 0x6000 | P | 0x7ffL << 52); // software/protection-key bits 52..62
        assertEquals(List.of("0x0->0x5000/0x1000", "0x1000->0x6000/0x1000",
                "0xffffff8000000000->0x5000/0x1000", "0xffffff8000001000->0x6000/0x1000"),
                walk(Fidelity.FIXED, 0x1000, 0x20, 1L << 10));
        assertEquals(List.of("0xffff000000000000->0x5000/0x1000", "0xffff000000001000->0x7ff0000000006000/0x1000",
                "0xffffff8000000000->0x5000/0x1000", "0xffffff8000001000->0x7ff0000000006000/0x1000"),
                walk(Fidelity.QEMU_7_2, 0x1000, 0x20, 1L << 10),
                "QEMU: lower-half address ORed with 0xffff << 48; bits 52-62 kept, so the page lies outside RAM");
    }

    @Test
    void fiveLevelSignExtendsFromBit56() throws Exception {
        ram.putLong(0x1000 + 256 * 8, 0x2000 | P); // PML5[256]: the upper half
        ram.putLong(0x1000, 0x2000 | P); // PML5[0]
        ram.putLong(0x2000, 0x3000 | P); // PML4[0]
        ram.putLong(0x3000 + 8, 0x40000000L | P | PS); // PDPT[1]: 1 GiB page
        assertEquals(List.of("0x40000000->0x40000000/0x40000000", "0xff00000040000000->0x40000000/0x40000000"),
                walk(Fidelity.FIXED, 0x1000, 0x20 | X86PageTableWalker.CR4_LA57, 1L << 10));
        assertEquals(List.of("0xfe00000040000000->0x40000000/0x40000000",
                "0xff00000040000000->0x40000000/0x40000000"),
                walk(Fidelity.QEMU_7_2, 0x1000, 0x20 | X86PageTableWalker.CR4_LA57, 1L << 10));
    }

    @Test
    void paeWalksFourPdptEntriesAtAThirtyTwoByteAlignedCr3() throws Exception {
        ram.putLong(0x1020 + 3 * 8, 0x3000 | P); // PDPT[3] at CR3 0x1020
        ram.putLong(0x3000 + 511 * 8, 0x00e00000L | P | PS | 1L << 63); // PD[511]: 2 MiB, NX
        ram.putLong(0x3000 + 510 * 8, 0x4000 | P);
        ram.putLong(0x4000 + 1023 * 0, 0x7000 | P);
        assertEquals(List.of("0xffc00000->0x7000/0x1000", "0xffe00000->0xe00000/0x200000"),
                walk(Fidelity.FIXED, 0x1020, 0x20, 0));
    }

    @Test
    void thirtyTwoBitWithPse36AndWithoutPse() throws Exception {
        ram.putInt(0x1000 + 4 * 768, (int) (0x00400000L | P | PS | 0x3L << 13)); // 4 MiB page, phys bits 33:32 = 3
        ram.putInt(0x1000 + 4 * 769, (int) (0x2000 | P));
        ram.putInt(0x2000 + 4 * 5, (int) (0x9000 | P));
        assertEquals(List.of("0xc0000000->0x300400000/0x400000", "0xc0405000->0x9000/0x1000"),
                walk(Fidelity.FIXED, 0x1000, X86PageTableWalker.CR4_PSE, 0));
        // without CR4.PSE the PS bit is ignored: the PDE points at a page table (0x406000, outside RAM)
        assertEquals(List.of("skip 0x1c00: points at a table at 0x406000 outside guest memory; its subtree is "
                + "not walked", "0xc0405000->0x9000/0x1000"), walk(Fidelity.FIXED, 0x1000, 0, 0));
    }

    @Test
    void aTablePointingBackAtItsAncestorIsSkippedAndTheWalkGoesOn() throws Exception {
        ram.putLong(0x1000, 0x2000 | P);
        ram.putLong(0x2000, 0x1000 | P); // PDPT[0] → the PML4 again
        ram.putLong(0x2000 + 8, 0x3000 | P | PS); // PDPT[1]: a 1 GiB page at 0x0 (masked to bits 51:30)
        assertEquals(List.of("skip 0x2000: points back at the table at 0x1000 above it (a loop); its subtree is not "
                + "walked", "0x40000000->0x0/0x40000000"), walk(Fidelity.FIXED, 0x1000, 0x20, 1L << 10));
    }

    @Test
    void pagingModeNames() {
        X86PageTableWalker w = new X86PageTableWalker(true, Fidelity.FIXED);
        X86PageTableWalker i386 = new X86PageTableWalker(false, Fidelity.FIXED);
        VcpuState longMode = VcpuState.builder(0).set("cr0", 0x80000011L).set("cr4", 0x20).set("efer", 0x500).build();
        assertEquals("4-level", w.modeName(longMode));
        assertEquals("PAE", i386.modeName(longMode), "qemu-system-i386 has no long mode");
        assertEquals("32-bit with PSE", w.modeName(VcpuState.builder(0).set("cr4", 0x10).build()));
    }
}
