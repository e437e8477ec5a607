package io.guestdump.core.paging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.PageTableWalker;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.elf.Note;
import io.guestdump.memory.ByteArrayData;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.MemoryMapping;
import io.guestdump.memory.PhysRange;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** QEMU's rules around the walk: which vCPUs, the identity fallback, device memory, skips, the window. */
class PagingPlannerTest {
    static final long K = 0xffff_8880_0000_0000L;

    /** RAM [0, 64 KiB) and [1 MiB, 1 MiB + 64 KiB); a hole between. */
    static GuestMemory memory() {
        return new GuestMemory(List.of(
                new GuestBlock(PhysRange.ofLength(0, 0x10000), new ByteArrayData(new byte[0x10000]), "low"),
                new GuestBlock(PhysRange.ofLength(0x100000, 0x10000), new ByteArrayData(new byte[0x10000]), "high")));
    }

    /** vCPU i has paging when bit i of {@code paging} is set; rax tells the fake walker what to report. */
    static GuestState guest(int cpus, int paging) {
        List<VcpuState> list = new ArrayList<>();
        for (int i = 0; i < cpus; i++) {
            list.add(VcpuState.builder(i).set("pg", (paging >> i) & 1).set("rax", i).build());
        }
        return new GuestState("toy64", memory(), list, Map.of(), Optional.empty());
    }

    /** Reports per vCPU: a kernel page shared by all, one page of its own, and a page of device memory. */
    static final class FakeWalker implements PageTableWalker {
        final List<Integer> walked = new ArrayList<>();

        @Override
        public boolean pagingEnabled(VcpuState cpu) {
            return cpu.u64("pg") == 1;
        }

        @Override
        public void walk(GuestState guest, VcpuState cpu, GuestMemory memory, Sink sink) {
            walked.add(cpu.index());
            sink.map(K, 0x0, 0x1000);
            sink.map(K + 0x1000, 0x1000, 0x1000); // continues the first: one mapping
            sink.map(0x400000 + cpu.u64("rax") * 0x1000, 0x100000 + cpu.u64("rax") * 0x1000, 0x1000);
            sink.map(K + 0x8000_0000L, 0xfee00000L, 0x1000); // the local APIC: device memory
            sink.map(-0x1000L, 0x2000, 0x1000); // would end at 2^64
            if (cpu.index() == 2) {
                sink.skipped(0x3008, "points at a table at 0x7000000000 outside guest memory");
            }
        }
    }

    @Test
    void walksFromTheFirstVcpuWithPagingThenEveryLaterOneAsQemu() {
        FakeWalker w = new FakeWalker();
        PagingPlanner.Plan plan = PagingPlanner.plan(w, guest(4, 0b0110), Optional.empty());
        assertEquals(List.of(1, 2, 3), w.walked, "vCPU 0 has no paging; vCPU 3 has none either but comes later");
        assertTrue(plan.walked());
        assertEquals(1, plan.firstCpu());
        assertEquals(List.of(
                new MemoryMapping(0x0, K, 0x2000),
                // each vCPU's own page continues the previous vCPU's: one mapping, as QEMU's merge makes it
                new MemoryMapping(0x101000, 0x401000, 0x3000)), List.copyOf(plan.mappings()));
        assertEquals(3, plan.deviceLeaves());
        assertEquals(3, plan.leafRejects());
        assertEquals(1, plan.skipped());
        assertEquals(List.of("entry at 0x3008: points at a table at 0x7000000000 outside guest memory"),
                plan.skipReasons());
    }

    @Test
    void withoutPagingEveryBlockIsOneIdentityMappingEvenWhenAdjacent() {
        FakeWalker w = new FakeWalker();
        GuestMemory adjacent = new GuestMemory(List.of(
                new GuestBlock(PhysRange.ofLength(0, 0x1000), new ByteArrayData(new byte[0x1000]), "a"),
                new GuestBlock(PhysRange.ofLength(0x1000, 0x1000), new ByteArrayData(new byte[0x1000]), "b")));
        GuestState g = new GuestState("toy64", adjacent, guest(2, 0).cpus(), Map.of(), Optional.empty());
        PagingPlanner.Plan plan = PagingPlanner.plan(w, g, Optional.empty());
        assertFalse(plan.walked());
        assertEquals(List.of(), w.walked);
        assertEquals(List.of(new MemoryMapping(0, 0, 0x1000), new MemoryMapping(0x1000, 0x1000, 0x1000)),
                List.copyOf(plan.mappings()));
    }

    @Test
    void theWindowClipsMappingsAsQemusFilter() {
        PagingPlanner.Plan plan = PagingPlanner.plan(new FakeWalker(), guest(1, 1),
                Optional.of(new PhysRange(0x800, 0x100800)));
        assertEquals(List.of(new MemoryMapping(0x800, K + 0x800, 0x1800),
                new MemoryMapping(0x100000, 0x400000, 0x800)), List.copyOf(plan.mappings()));
    }

    @Test
    void theNoteTellsInfoHowManyEntriesWereSkipped() {
        PagingPlanner.Plan plan = PagingPlanner.plan(new FakeWalker(), guest(3, 0b111), Optional.empty());
        Note note = PagingNote.of(plan);
        assertEquals("GUESTDUMP", note.owner());
        assertEquals(0, note.type(), "type 0: gdb's generic core-note reader ignores it");
        assertEquals(Map.of("paging", "walk", "paging-first-cpu", "0", "paging-skipped", "1"),
                PagingNote.parse(note).orElseThrow());
        assertEquals(Optional.empty(), PagingNote.parse(new Note("VMCOREINFO", 0, new byte[0])));
    }

    @Test
    void theWalkReportsItsProgressAsAPhaseUpToEveryWalkDone() {
        io.guestdump.core.vmcore.RecordingProgress listener = new io.guestdump.core.vmcore.RecordingProgress();
        PagingPlanner.plan(new FakeWalker(), guest(3, 0b110), Optional.empty(), listener);
        long total = 2 * PagingPlanner.WALK_SPAN; // vCPUs 1 and 2 are walked
        listener.assertOnePhaseUpTo(PagingPlanner.PHASE_WALK, total);
        List<String> events = listener.events;
        // within a walk the count follows the virtual addresses: the kernel's mapping at K is most of the way up
        assertTrue(events.contains(((K >>> 16) + 0) + "/" + total), events.toString());
    }
}
