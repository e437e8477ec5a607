package io.guestdump.arch.x86_64;

import io.guestdump.testkit.GoldenVmcore;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.longs;

import com.typesafe.config.ConfigFactory;
import io.guestdump.arch.api.ArchContext;
import io.guestdump.arch.api.CpuNote;
import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.NoteGroup;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.core.notes.NoteSegmentBuilder;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfData;
import io.guestdump.elf.Note;
import io.guestdump.elf.NoteType;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.PhysRange;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class X86_64ArchitectureTest {
    private static final X86_64Architecture ARCH = X86_64GoldenNotesTest.defaultArch();
    private static final BigInteger LMA_EFER = BigInteger.valueOf(0xd01);

    static GuestState guest(GuestMemory memory, VcpuState... cpus) {
        return new GuestState("x86_64", memory, List.of(cpus), Map.of(), Optional.empty());
    }

    static VcpuState longMode(int index) {
        return X86NoteLayoutTest.sample(index).with(Map.of("efer", LMA_EFER));
    }

    static VcpuState protectedMode(int index) {
        return X86NoteLayoutTest.sample(index).with(Map.of("efer", BigInteger.ZERO));
    }

    static GuestMemory blockEndingAt(long end) {
        return new GuestMemory(List.of(
                new GuestBlock(new PhysRange(end - 4096, end), new GoldenVmcore.Unread(4096), "ram")));
    }

    @Test
    void identity() {
        assertEquals("x86_64", ARCH.id());
        assertEquals(java.util.Set.of("x86_64"), ARCH.machines());
        assertEquals(java.util.Set.of(X86Elf.EM_X86_64), ARCH.elfMachines());
        assertEquals("x86_64", ARCH.machineFor(X86DumpTargets.longMode()));
    }

    @Test
    void aLongModeGuestGetsElf64X86_64AndTheX86_64PrStatus() {
        GuestState g = guest(GoldenVmcore.smallMemory(), longMode(0), longMode(1));
        DumpTarget t = ARCH.describe(g);
        assertEquals(new DumpTarget(X86Elf.EM_X86_64, ElfClass.ELF64, ElfData.LSB, 4096), t);
        List<CpuNote> table = ARCH.cpuNotes(g, t);
        assertEquals(2, table.size());
        assertEquals("CORE", table.get(0).owner());
        assertEquals(NoteType.NT_PRSTATUS, table.get(0).type());
        assertEquals(NoteGroup.ARCH, table.get(0).group());
        assertEquals(336, table.get(0).descSize());
        assertEquals("QEMU", table.get(1).owner());
        assertEquals(0, table.get(1).type());
        assertEquals(NoteGroup.QEMU, table.get(1).group());
        assertEquals(440, table.get(1).descSize());
    }

    @Test
    void a32BitModeGuestGetsEm386Elf32AndTheI386PrStatus() {
        GuestState g = guest(GoldenVmcore.smallMemory(), protectedMode(0), protectedMode(1));
        DumpTarget t = ARCH.describe(g);
        assertEquals(new DumpTarget(X86Elf.EM_386, ElfClass.ELF32, ElfData.LSB, 4096), t);
        List<CpuNote> table = ARCH.cpuNotes(g, t);
        assertEquals(144, table.get(0).descSize());
        assertEquals(440, table.get(1).descSize());
    }

    @Test
    void theFirstVcpuAloneDecides() {
        GuestState g = guest(GoldenVmcore.smallMemory(), protectedMode(0), longMode(1));
        DumpTarget t = ARCH.describe(g);
        assertEquals(X86Elf.EM_386, t.machine());
        List<Note> notes = NoteSegmentBuilder.build(ARCH.cpuNotes(g, t), g.cpus(), t, null, List.of());
        assertEquals(List.of(144, 144, 440, 440), notes.stream().map(Note::descSize).toList());

        GuestState g2 = guest(GoldenVmcore.smallMemory(), longMode(0), protectedMode(1));
        assertEquals(X86Elf.EM_X86_64, ARCH.describe(g2).machine());
    }

    @Test
    void aNonLongModeGuestWithMemoryReaching4GiBIsUpgradedToElf64() {
        assertEquals(ElfClass.ELF32, ARCH.describe(guest(blockEndingAt(0xffff_f000L), protectedMode(0))).elfClass());
        DumpTarget t = ARCH.describe(guest(blockEndingAt(0x1_0000_0000L), protectedMode(0)));
        assertEquals(new DumpTarget(X86Elf.EM_386, ElfClass.ELF64, ElfData.LSB, 4096), t);
        assertEquals(ElfClass.ELF64, ARCH.describe(guest(blockEndingAt(0x1_4000_0000L), protectedMode(0))).elfClass());
    }

    @Test
    void qemuCpuStateNoteFalseLeavesOnlyPrStatus() {
        X86_64Architecture off = new X86_64Architecture(
                new ArchContext(ConfigFactory.parseString("qemu-cpu-state-note = false")));
        GuestState g = guest(GoldenVmcore.smallMemory(), longMode(0), longMode(1));
        DumpTarget t = off.describe(g);
        List<CpuNote> table = off.cpuNotes(g, t);
        assertEquals(1, table.size());
        List<Note> notes = NoteSegmentBuilder.build(table, g.cpus(), t, "OSRELEASE=6.1\n", List.of());
        assertEquals(List.of("CORE", "CORE", "VMCOREINFO"), notes.stream().map(Note::owner).toList());
        // and the state decodes from prstatus alone
        List<VcpuState> back = off.decodeNotes(notes.subList(0, 2), t);
        assertEquals(g.cpus().get(1).value("rip"), back.get(1).value("rip"));
        assertFalse(back.get(1).has("cr3"));
    }

    @Test
    void referenceConfWritesTheQemuNote() {
        assertTrue(ConfigFactory.defaultReference().getBoolean("guestdump.arch.x86_64.qemu-cpu-state-note"));
    }

    @Test
    void registerNamesCoverEverythingTheParserAndDecoderProduce() {
        java.util.Set<String> names = ARCH.registerNames("x86_64");
        for (String n : List.of("rax", "r15", "rip", "rflags", "cs.selector", "tr.base", "ldt.limit", "gs.flags",
                "gdt.base", "idt.limit", "cr0", "cr4", "efer", "kernel_gs_base", "dr7", "fpr7", "xmm15", "ymm15",
                "zmm31", "k7", "mxcsr")) {
            assertTrue(names.contains(n), n);
        }
        assertFalse(names.contains("cr1"));
        assertFalse(names.contains("orig_rax"));
        assertFalse(names.contains("eax"));
        GuestState g = guest(GoldenVmcore.smallMemory(), longMode(0));
        DumpTarget t = ARCH.describe(g);
        List<Note> notes = NoteSegmentBuilder.build(ARCH.cpuNotes(g, t), g.cpus(), t, null, List.of());
        assertTrue(names.containsAll(ARCH.decodeNotes(notes, t).get(0).registers().keySet()));
    }

    /** Every register both notes hold, for a vCPU of the given layout. */
    private static List<String> noteRegisters() {
        List<String> r = new ArrayList<>(X86Registers.LEGACY_GPRS);
        r.addAll(X86Registers.LONG_GPRS);
        r.addAll(List.of("rip", "rflags"));
        for (String s : X86Registers.SEGMENTS) {
            for (String p : X86Registers.SEGMENT_PARTS) {
                r.add(s + "." + p);
            }
        }
        r.addAll(List.of("gdt.base", "gdt.limit", "idt.base", "idt.limit", "cr0", "cr2", "cr3", "cr4",
                "kernel_gs_base"));
        return r;
    }

    private static VcpuState random(int index, List<Long> values, boolean lma) {
        List<String> names = noteRegisters();
        VcpuState.Builder b = VcpuState.builder(index);
        for (int i = 0; i < names.size(); i++) {
            String n = names.get(i);
            long v = values.get(i);
            boolean narrow = n.endsWith(".selector") || n.endsWith(".limit") || n.endsWith(".flags");
            b.set(n, narrow ? v & 0xffff_ffffL : v);
        }
        b.set("efer", lma ? 0xd01 : 0);
        return b.build();
    }

    @Test
    void notesDecodeBackToEveryRegisterTheyHoldInBothLayouts() {
        int count = noteRegisters().size();
        qt().forAll(lists().of(longs().all()).ofSize(count), lists().of(longs().all()).ofSize(count),
                        integers().between(0, 1))
                .checkAssert((a, b, lmaBit) -> {
                    boolean lma = lmaBit == 1;
                    VcpuState c0 = random(0, a, lma);
                    VcpuState c1 = random(1, b, lma);
                    GuestState g = guest(GoldenVmcore.smallMemory(), c0, c1);
                    DumpTarget t = ARCH.describe(g);
                    List<Note> notes = NoteSegmentBuilder.build(ARCH.cpuNotes(g, t), g.cpus(), t, null, List.of());
                    List<VcpuState> back = ARCH.decodeNotes(notes, t);
                    assertEquals(2, back.size());
                    for (int i = 0; i < 2; i++) {
                        VcpuState want = g.cpus().get(i);
                        assertEquals(i, back.get(i).index());
                        for (String n : noteRegisters()) {
                            // the QEMU note keeps full-width values whatever the prstatus layout
                            assertEquals(want.value(n), back.get(i).value(n), n);
                        }
                    }
                });
    }

    @Test
    void theI386PrStatusAloneDecodesTo32BitValues() {
        X86_64Architecture off = new X86_64Architecture(
                new ArchContext(ConfigFactory.parseString("qemu-cpu-state-note = false")));
        qt().forAll(lists().of(longs().all()).ofSize(noteRegisters().size())).checkAssert(values -> {
            VcpuState c = random(0, values, false);
            GuestState g = guest(GoldenVmcore.smallMemory(), c);
            DumpTarget t = off.describe(g);
            List<Note> notes = NoteSegmentBuilder.build(off.cpuNotes(g, t), g.cpus(), t, null, List.of());
            VcpuState back = off.decodeNotes(notes, t).get(0);
            for (String n : I386PrStatus.REGISTERS) {
                if (n.equals(I386PrStatus.ORIG_EAX)) {
                    continue;
                }
                long mask = n.endsWith(".selector") ? 0xffff : 0xffff_ffffL;
                assertEquals(c.u64(n) & mask, back.u64(n), n);
            }
        });
    }

    @Test
    void aPre2018QemuNoteOf432BytesDecodesWithoutKernelGsBase() {
        GuestState g = guest(GoldenVmcore.smallMemory(), longMode(0));
        DumpTarget t = ARCH.describe(g);
        List<Note> notes = NoteSegmentBuilder.build(ARCH.cpuNotes(g, t), g.cpus(), t, null, List.of());
        byte[] old = Arrays.copyOf(notes.get(1).desc(), 432);
        ElfData.LSB.wrap(old).putInt(X86QemuCpuState.SIZE_OFFSET, 432);
        VcpuState back = ARCH.decodeNotes(List.of(notes.get(0), new Note("QEMU", 0, old)), t).get(0);
        assertFalse(back.has("kernel_gs_base"));
        assertEquals(g.cpus().get(0).value("cr3"), back.value("cr3"));
    }

    @Test
    void damagedNotesAreRefusedWithTheReason() {
        GuestState g = guest(GoldenVmcore.smallMemory(), longMode(0), longMode(1));
        DumpTarget t = ARCH.describe(g);
        List<Note> notes = NoteSegmentBuilder.build(ARCH.cpuNotes(g, t), g.cpus(), t, null, List.of());
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> ARCH.decodeNotes(notes.subList(0, 3), t));
        assertTrue(e.getMessage().contains("1 QEMU notes but 2 vCPUs"), e.getMessage());

        e = assertThrows(InvalidInputException.class,
                () -> ARCH.decodeNotes(List.of(new Note("CORE", NoteType.NT_PRSTATUS, new byte[200])), t));
        assertTrue(e.getMessage().contains("n_descsz=200 but x86_64's is 336 or 144"), e.getMessage());

        byte[] v2 = notes.get(2).desc();
        ElfData.LSB.wrap(v2).putInt(0, 2);
        e = assertThrows(InvalidInputException.class,
                () -> ARCH.decodeNotes(List.of(new Note("QEMU", 0, v2)), t));
        assertTrue(e.getMessage().contains("version 2"), e.getMessage());
    }

    @Test
    void aValueWiderThanItsFieldIsRefusedNotTruncated() {
        VcpuState wide = longMode(0).with(Map.of("rax", BigInteger.ONE.shiftLeft(64)));
        GuestState g = guest(GoldenVmcore.smallMemory(), wide);
        DumpTarget t = ARCH.describe(g);
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> NoteSegmentBuilder.build(ARCH.cpuNotes(g, t), g.cpus(), t, null, List.of()));
        assertTrue(e.getMessage().contains("register rax = 0x10000000000000000"), e.getMessage());
    }

    @Test
    void prPidIsTheVcpuIndexPlusOneAndDecodesBackToTheIndex() {
        VcpuState c = longMode(0);
        VcpuState c5 = new VcpuState(5, c.registers());
        GuestState g = guest(GoldenVmcore.smallMemory(), c, c5);
        DumpTarget t = ARCH.describe(g);
        List<Note> notes = NoteSegmentBuilder.build(ARCH.cpuNotes(g, t), g.cpus(), t, null, List.of());
        assertEquals(6, ElfData.LSB.wrap(notes.get(1).desc()).getInt(X86_64PrStatus.PID_OFFSET));
        assertEquals(List.of(0, 5), ARCH.decodeNotes(notes, t).stream().map(VcpuState::index).toList());
    }
}
