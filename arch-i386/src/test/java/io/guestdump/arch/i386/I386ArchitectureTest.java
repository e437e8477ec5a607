package io.guestdump.arch.i386;

import io.guestdump.arch.x86_64.X86Elf;
import io.guestdump.testkit.GoldenVmcore;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.longs;

import com.typesafe.config.ConfigFactory;
import io.guestdump.arch.api.ArchContext;
import io.guestdump.arch.api.DumpTarget;
import io.guestdump.arch.api.GuestState;
import io.guestdump.arch.api.InvalidInputException;
import io.guestdump.arch.api.UnsupportedGuestException;
import io.guestdump.arch.api.VcpuState;
import io.guestdump.arch.x86_64.I386PrStatus;
import io.guestdump.arch.x86_64.X86QemuCpuState;
import io.guestdump.core.notes.NoteSegmentBuilder;
import io.guestdump.elf.ElfClass;
import io.guestdump.elf.ElfData;
import io.guestdump.elf.Note;
import io.guestdump.elf.NoteType;
import io.guestdump.memory.GuestBlock;
import io.guestdump.memory.GuestMemory;
import io.guestdump.memory.PhysRange;
import io.guestdump.testkit.GoldenFiles;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class I386ArchitectureTest {
    private static final I386Architecture ARCH = I386GoldenNotesTest.defaultArch();

    /** The names both notes hold for an i386 vCPU. */
    static List<String> noteRegisters() {
        List<String> r = new ArrayList<>(List.of("eax", "ebx", "ecx", "edx", "esi", "edi", "ebp", "esp", "eip",
                "eflags"));
        for (String s : List.of("es", "cs", "ss", "ds", "fs", "gs", "ldt", "tr")) {
            for (String p : List.of("selector", "base", "limit", "flags")) {
                r.add(s + "." + p);
            }
        }
        r.addAll(List.of("gdt.base", "gdt.limit", "idt.base", "idt.limit", "cr0", "cr2", "cr3", "cr4"));
        return r;
    }

    static VcpuState cpu(int index, List<Long> values) {
        VcpuState.Builder b = VcpuState.builder(index);
        List<String> names = noteRegisters();
        for (int i = 0; i < names.size(); i++) {
            b.set(names.get(i), values.get(i) & 0xffff_ffffL);
        }
        return b.build();
    }

    static VcpuState simple(int index) {
        List<Long> values = new ArrayList<>();
        for (int i = 0; i < noteRegisters().size(); i++) {
            values.add(0x1000L * (i + 1) + index);
        }
        return cpu(index, values);
    }

    static GuestState guest(GuestMemory memory, VcpuState... cpus) {
        return new GuestState("i386", memory, List.of(cpus), Map.of(), Optional.empty());
    }

    static GuestMemory blocks(long... startEnd) {
        List<GuestBlock> blocks = new ArrayList<>();
        for (int i = 0; i < startEnd.length; i += 2) {
            long len = startEnd[i + 1] - startEnd[i];
            blocks.add(new GuestBlock(new PhysRange(startEnd[i], startEnd[i + 1]), new GoldenVmcore.Unread(len), "b" + i));
        }
        return new GuestMemory(blocks);
    }

    @Test
    void identity() {
        assertEquals("i386", ARCH.id());
        assertEquals(Set.of("i386"), ARCH.machines());
        assertEquals(Set.of(X86Elf.EM_386), ARCH.elfMachines());
    }

    @Test
    void aGuestWhoseBlocksAllEndBelow4GiBGetsElf32() {
        // pc with pc.bios moved below 4 GiB: every exclusive end <= 0xffffffff
        GuestState g = guest(blocks(0, 0xa0000, 0xc0000, 0x2000_0000L, 0xfd00_0000L, 0xfe00_0000L,
                0xfffb_0000L, 0xffff_f000L), simple(0));
        assertEquals(new DumpTarget(X86Elf.EM_386, ElfClass.ELF32, ElfData.LSB, 4096), ARCH.describe(g));
    }

    @Test
    void aBlockEndingExactlyAt4GiBSelectsElf64() {
        GuestState g = guest(blocks(0, 0x2000_0000L, 0xfffc_0000L, 0x1_0000_0000L), simple(0));
        assertEquals(new DumpTarget(X86Elf.EM_386, ElfClass.ELF64, ElfData.LSB, 4096), ARCH.describe(g));
    }

    @Test
    void aGuestWithoutVcpusIsRefused() {
        assertThrows(UnsupportedGuestException.class, () -> ARCH.describe(guest(blocks(0, 4096))));
    }

    @Test
    void writesTheI386PrStatusAndTheQemuNoteWithoutLongModeRegisters() {
        VcpuState c = simple(0).with(Map.of("r8", java.math.BigInteger.TEN));
        GuestState g = guest(blocks(0, 4096), c);
        DumpTarget t = ARCH.describe(g);
        List<Note> notes = NoteSegmentBuilder.build(ARCH.cpuNotes(g, t), g.cpus(), t, null, List.of());
        assertEquals(List.of("CORE", "QEMU"), notes.stream().map(Note::owner).toList());
        assertEquals(NoteType.NT_PRSTATUS, notes.get(0).type());
        ByteBuffer pr = ElfData.LSB.wrap(notes.get(0).desc());
        assertEquals(144, pr.capacity());
        // eip @120 and eax @96 of the i386 prstatus, filled from the i386 names
        assertEquals(c.u32("eip"), pr.getInt(I386PrStatus.offsetOf("rip")));
        assertEquals(c.u32("eax"), pr.getInt(96));
        ByteBuffer q = ElfData.LSB.wrap(notes.get(1).desc());
        assertEquals(440, q.capacity());
        assertEquals(c.u64("eax"), q.getLong(X86QemuCpuState.GPRS_OFFSET));
        assertEquals(c.u64("eip"), q.getLong(X86QemuCpuState.RIP_OFFSET));
        assertEquals(c.u64("eflags"), q.getLong(X86QemuCpuState.RFLAGS_OFFSET));
        // r8..r15 @72..136 and kernel_gs_base @432 are zero on qemu-system-i386 (r8 is not an i386 register)
        for (int off = 72; off < 136; off += 8) {
            assertEquals(0, q.getLong(off), "offset " + off);
        }
        assertEquals(0, q.getLong(X86QemuCpuState.KERNEL_GS_BASE_OFFSET));
    }

    @Test
    void qemuCpuStateNoteFalseLeavesOnlyPrStatus() {
        I386Architecture off = new I386Architecture(
                new ArchContext(ConfigFactory.parseString("qemu-cpu-state-note = false")));
        GuestState g = guest(blocks(0, 4096), simple(0), simple(1));
        DumpTarget t = off.describe(g);
        List<Note> notes = NoteSegmentBuilder.build(off.cpuNotes(g, t), g.cpus(), t, null, List.of());
        assertEquals(List.of(144, 144), notes.stream().map(Note::descSize).toList());
        assertTrue(ConfigFactory.defaultReference().getBoolean("guestdump.arch.i386.qemu-cpu-state-note"));
    }

    @Test
    void notesDecodeBackToTheI386Names() {
        qt().forAll(lists().of(longs().all()).ofSize(noteRegisters().size()),
                        lists().of(longs().all()).ofSize(noteRegisters().size()))
                .checkAssert((a, b) -> {
                    GuestState g = guest(blocks(0, 4096), cpu(0, a), cpu(1, b));
                    DumpTarget t = ARCH.describe(g);
                    List<Note> notes = NoteSegmentBuilder.build(ARCH.cpuNotes(g, t), g.cpus(), t, null, List.of());
                    List<VcpuState> back = ARCH.decodeNotes(notes, t);
                    for (int i = 0; i < 2; i++) {
                        assertEquals(i, back.get(i).index());
                        assertEquals(Set.copyOf(noteRegisters()), back.get(i).registers().keySet());
                        for (String n : noteRegisters()) {
                            assertEquals(g.cpus().get(i).value(n), back.get(i).value(n), n);
                        }
                    }
                });
    }

    @Test
    void registerNamesAreTheI386Names() {
        Set<String> names = ARCH.registerNames("i386");
        for (String n : List.of("eax", "esp", "eip", "eflags", "cs.flags", "gdt.base", "cr3", "efer", "dr7",
                "fpr7", "xmm7", "ymm7", "zmm7", "k7", "mxcsr")) {
            assertTrue(names.contains(n), n);
        }
        for (String n : List.of("rax", "rip", "rflags", "r8", "r15", "kernel_gs_base", "xmm8", "cr1")) {
            assertFalse(names.contains(n), n);
        }
    }

    @Test
    void parsesTheGoldenMonitorTextIntoI386Names() throws Exception {
        String text = Files.readString(GoldenFiles.require("i386", "info-registers-a.txt"));
        List<VcpuState> cpus = ARCH.parseMonitorRegisters(text, "info-registers-a.txt");
        assertEquals(2, cpus.size());
        VcpuState c0 = cpus.get(0);
        assertEquals(0xda917b70L, c0.u64("eax"));
        assertEquals(0xdac3bf28L, c0.u64("esp"));
        assertEquals(0xda917b83L, c0.u64("eip"));
        assertEquals(0x200206L, c0.u64("eflags"));
        assertEquals(0x048f93b4L, c0.u64("fs.flags"), "descriptor base bits restored as QEMU keeps them");
        assertEquals(new java.math.BigInteger("401dfffffffe00000000", 16), c0.value("fpr6"));
        assertTrue(ARCH.registerNames("i386").containsAll(c0.registers().keySet()));
    }

    @Test
    void refusesQemuSystemX86_64LongModeTextWithTheLineNumber() throws Exception {
        String text = Files.readString(GoldenFiles.require("x86_64", "info-registers-a.txt"));
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> ARCH.parseMonitorRegisters(text, "x86_64-regs.txt"));
        assertTrue(e.getMessage().startsWith("x86_64-regs.txt line 3: "), e.getMessage());
        assertTrue(e.getMessage().contains("`RAX=000000000001ad40"), e.getMessage());
        assertTrue(e.getMessage().contains("describe the guest as x86_64"), e.getMessage());
    }
}
