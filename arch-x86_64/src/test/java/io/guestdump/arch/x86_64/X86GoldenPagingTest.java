package io.guestdump.arch.x86_64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.PageTableWalker;
import io.guestdump.arch.x86_64.GoldenPagingGuest.Load;
import io.guestdump.core.paging.MappingTable;
import io.guestdump.core.paging.PagingPlanner;
import io.guestdump.core.vmcore.VmcoreLayout;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfData;
import io.guestdump.elf.ProgramHeader;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.MemoryMapping;
import io.guestdump.testkit.QemuMappingList;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The golden guests' page tables (QEMU's paging=false dump fed to our walker) against the PT_LOADs QEMU 7.2 wrote
 * with paging=true. x86_64 runs 4-level paging, i386 32-bit paging with PSE.
 *
 * <p>First the walk alone: our leaves, merged by a step-by-step model of QEMU's merge, give QEMU's list exactly.
 * Then what guestdump writes: QEMU's list with each documented fix applied, in QEMU's order.
 */
class X86GoldenPagingTest {

    private static PageTableWalker walker(String arch, X86PageTableWalker.Fidelity fidelity) {
        return new X86PageTableWalker(arch.equals("x86_64"), fidelity);
    }

    private static List<MemoryMapping> qemu(List<Load> loads) {
        return loads.stream().map(l -> new MemoryMapping(l.paddr(), l.vaddr(), l.memsz())).toList();
    }

    @ParameterizedTest
    @ValueSource(strings = {"x86_64", "i386"})
    void walkWithQemuArithmeticMergedAsQemuMergesEqualsQemusListInOrder(String arch) throws IOException {
        try (GoldenPagingGuest g = GoldenPagingGuest.open(arch)) {
            QemuMappingList merged = new QemuMappingList();
            GuestMemory memory = g.state.memory();
            PageTableWalker w = walker(arch, X86PageTableWalker.Fidelity.QEMU_7_2);
            List<String> skipped = new ArrayList<>();
            PageTableWalker.Sink sink = new PageTableWalker.Sink() {
                @Override
                public void map(long virt, long phys, long length) {
                    if (memory.blockAt(phys) != null) { // QEMU's cpu_physical_memory_is_io
                        merged.add(phys, virt, length);
                    }
                }

                @Override
                public void skipped(long entry, String reason) {
                    skipped.add(reason);
                }
            };
            for (var cpu : g.state.cpus()) { // every vCPU has paging: QEMU walks from vCPU 0
                assertTrue(w.pagingEnabled(cpu));
                w.walk(g.state, cpu, memory, sink);
            }
            assertEquals(List.of(), skipped);
            assertEquals(qemu(g.qemuLoads), merged.mappings());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"x86_64", "i386"})
    void plannedListIsQemusWithEachDocumentedFix(String arch) throws IOException {
        try (GoldenPagingGuest g = GoldenPagingGuest.open(arch)) {
            PagingPlanner.Plan plan = PagingPlanner.plan(walker(arch, X86PageTableWalker.Fidelity.FIXED), g.state,
                    Optional.empty());
            assertEquals(0, plan.skipped());
            assertEquals(0, plan.firstCpu());

            List<MemoryMapping> expected = new ArrayList<>(qemu(g.qemuLoads));
            // Fix 1: QEMU ORs 0xffff << 48 into every 4-level address; user-space pages come out non-canonical.
            int nonCanonical = 0;
            for (int i = 0; i < expected.size(); i++) {
                MemoryMapping m = expected.get(i);
                long canonical = arch.equals("x86_64") ? m.virt() << 16 >> 16 : m.virt();
                if (canonical != m.virt()) {
                    nonCanonical++;
                    expected.set(i, new MemoryMapping(m.phys(), canonical, m.length()));
                }
            }
            // Fix 2: QEMU extends a mapping without merging the next one of the same delta, so some of its mappings
            // describe bytes another mapping already describes. They are gone from ours.
            List<MemoryMapping> duplicates = new ArrayList<>();
            for (MemoryMapping m : expected) {
                for (MemoryMapping o : expected) {
                    if (o != m && o.virt() - o.phys() == m.virt() - m.phys()
                            && Long.compareUnsigned(o.phys(), m.phys()) <= 0
                            && Long.compareUnsigned(o.phys() + o.length(), m.phys() + m.length()) >= 0) {
                        duplicates.add(m);
                        break;
                    }
                }
            }
            expected.removeAll(duplicates);
            // Fix 3: leaf entries with bits 52-62 set: QEMU gave those pages an address outside RAM and dropped
            // them. The golden kernels set none, so the lists agree there (see X86PageTableWalkerTest for the fix).
            assertEquals(0, highBitLeaves(arch, g));

            if (arch.equals("x86_64")) {
                assertEquals(51, nonCanonical, "user-space mappings QEMU wrote with non-canonical addresses");
                assertEquals(List.of(
                        new MemoryMapping(0xb42e000L, 0x430000L, 0x12000),
                        new MemoryMapping(0xb54e000L, 0x570000L, 0x10000),
                        new MemoryMapping(0xb563000L, 0x585000L, 0x56000)), duplicates,
                        "QEMU mappings inside another of the same delta (the same bytes described twice)");
            } else {
                assertEquals(0, nonCanonical, "32-bit addresses are always canonical");
                assertEquals(List.of(), duplicates);
            }
            assertEquals(expected, plan.mappings());
        }
    }

    /** Leaves the QEMU-arithmetic walk reports at a physical address with bits 52-62 set. */
    private static long highBitLeaves(String arch, GoldenPagingGuest g) throws IOException {
        long[] count = {0};
        PageTableWalker w = walker(arch, X86PageTableWalker.Fidelity.QEMU_7_2);
        for (var cpu : g.state.cpus()) {
            w.walk(g.state, cpu, g.state.memory(), new PageTableWalker.Sink() {
                @Override
                public void map(long virt, long phys, long length) {
                    if ((phys >>> 52) != 0) {
                        count[0]++;
                    }
                }

                @Override
                public void skipped(long entry, String reason) {}
            });
        }
        return count[0];
    }

    @ParameterizedTest
    @ValueSource(strings = {"x86_64", "i386"})
    void fileOffsetsAndSizesAreQemusRelativeToTheMemoryArea(String arch) throws IOException {
        try (GoldenPagingGuest g = GoldenPagingGuest.open(arch)) {
            MappingTable ours = PagingPlanner.plan(walker(arch, X86PageTableWalker.Fidelity.FIXED), g.state,
                    Optional.empty()).mappings();
            int machine = arch.equals("x86_64") ? X86Elf.EM_X86_64 : X86Elf.EM_386;
            VmcoreLayout layout = VmcoreLayout.plan(new DumpTarget(machine, ElfClass.ELF64, ElfData.LSB, 4096),
                    1000, ours, g.state.memory().blocks());
            long qemuMemory = g.qemuLoads.stream().filter(l -> l.paddr() == 0).findFirst().orElseThrow().offset();
            int compared = 0;
            for (int i = 1; i < layout.programHeaders().size(); i++) {
                ProgramHeader p = layout.programHeaders().get(i);
                for (Load q : g.qemuLoads) {
                    long canonical = arch.equals("x86_64") ? q.vaddr() << 16 >> 16 : q.vaddr();
                    if (q.paddr() == p.paddr() && canonical == p.vaddr() && q.memsz() == p.memsz()) {
                        assertEquals(q.filesz(), p.filesz(), q.toString());
                        assertEquals(q.offset() - qemuMemory, p.offset() - layout.memoryOffset(), q.toString());
                        compared++;
                    }
                }
            }
            assertEquals(ours.size(), compared, "every PT_LOAD of ours has its QEMU twin");
        }
    }
}
